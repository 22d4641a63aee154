"""`Diagnostic.json_line` writes exactly what json.dumps(as_dict(), sort_keys=True, ensure_ascii=False) writes.

`hubtool check --format json` formats each finding itself (json.dumps per finding was a tenth of a whole-hub
check).  Held to json's own output on hostile text in every field: quotes, backslashes, every control
character, line and paragraph separators, astral characters, lone surrogates (a file name that is not
UTF-8, kept by surrogateescape), empty strings; huge and negative numbers; every severity; baselined or not.
"""

from __future__ import annotations

import itertools
import json
import random

from hubtool.diagnostics import Diagnostic, Severity

HOSTILE = ["", "plain", '"quoted"', "back\\slash", "".join(map(chr, range(32))), "\x7f\x80\x9f", "\u2028\u2029",
           "\U0001f600 \u00e9\u4e2d", "\udcff\udc80 not utf-8", "</script>", "\ufeffbom", "a\x00b", "{}[],:"]


def same(diag: Diagnostic) -> None:
    expected = json.dumps(diag.as_dict(), sort_keys=True, ensure_ascii=False)
    assert diag.json_line() == expected
    assert json.loads(diag.json_line()) == json.loads(expected)


def test_every_field_hostile() -> None:
    for text, severity, baselined in itertools.product(HOSTILE, Severity, (False, True)):
        same(Diagnostic(text, 7, 3, text, severity, text, text, text, "f", baselined))


def test_numbers_at_their_limits() -> None:
    for line, col in [(0, 0), (1, 1), (-1, -5), (10**40, 2**63), (2**31 - 1, 2**64 + 1)]:
        same(Diagnostic("cards/a.md", line, col, "HUB101", Severity.ERROR, "m"))


def test_random_text_in_every_field() -> None:
    rng = random.Random(1504)
    alphabet = [chr(c) for c in (*range(0, 0x300), *range(0xD7F0, 0xE010), *range(0xFFF0, 0x10000), 0x10FFFF)]
    for _ in range(500):
        fields = ["".join(rng.choices(alphabet, k=rng.randrange(0, 30))) for _ in range(5)]
        same(Diagnostic(fields[0], rng.randrange(10**6), rng.randrange(10**3), fields[1], rng.choice(list(Severity)),
                        fields[2], fields[3], fields[4], baselined=rng.random() < 0.5))


def test_the_keys_are_as_dicts() -> None:
    """A field added to as_dict and not to json_line (or the other way) fails here."""
    diag = Diagnostic("p", 1, 2, "HUB204", Severity.WARNING, "m", "/x", "h", "fp", True)
    assert list(json.loads(diag.json_line())) == sorted(diag.as_dict())
