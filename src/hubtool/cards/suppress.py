"""Inline suppressions, as YAML comments in a card's front matter.

    module-type: cv  # hubtool: ignore[HUB204]      the findings of those codes on this line
    # hubtool: ignore-file[HUB201, unknown-key]     those codes anywhere in this card

Codes, prefixes (HUB2) and rule names are accepted.  A suppression that suppresses nothing
is itself reported (HUB005, info), so that suppressions do not outlive their reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .. import codes
from ..diagnostics import Diagnostic, info
from .frontmatter import FrontMatter

# the codes stop at a '[' too: with only ']' to stop them, a line of `# hubtool: ignore[` repeated and never closed
# was scanned to its end from each one (quadratic: 8,000 of them took 3.3 s)
_COMMENT = re.compile(r"(?:^|\s)#\s*hubtool:\s*(?P<kind>ignore-file|ignore)\s*\[(?P<codes>[^\[\]]*)\]")
#: never suppressed: the reports about suppressions and the baseline themselves
_META = frozenset({"HUB005", "HUB006"})


class Suppression:
    """One `# hubtool: ignore[...]` comment: where it is, what it names, and which of its codes it used."""

    __slots__ = ("line", "col", "tokens", "whole_file", "codes", "used")

    def __init__(self, line: int, col: int, tokens: tuple[str, ...], whole_file: bool,
                 codes: frozenset[str] = frozenset()) -> None:
        self.line = line
        self.col = col
        self.tokens = tokens
        self.whole_file = whole_file
        self.codes = codes
        self.used: set[str] = set()

    def covers(self, diag: Diagnostic) -> bool:
        return diag.code in self.codes and diag.code not in _META and (self.whole_file or diag.line == self.line)


def find(front: FrontMatter) -> list[Suppression]:
    """The suppression comments of the front matter, with their file positions."""
    found: list[Suppression] = []
    if "hubtool" not in front.yaml_text:  # nearly every card: skip the per-line scan (a tenth of check's time)
        return found
    for offset, line in enumerate(front.yaml_text.split("\n")):
        for match in _COMMENT.finditer(line):
            tokens = tuple(t.strip() for t in match["codes"].split(",") if t.strip())
            resolved = frozenset(code for token in tokens for code in codes.resolve(token))
            found.append(Suppression(front.yaml_line + offset, match.start("kind") + 1, tokens,
                                     match["kind"] == "ignore-file", resolved))
    return found


def apply(diags: Iterable[Diagnostic], suppressions: list[Suppression]) -> list[Diagnostic]:
    """The findings no suppression covers; the suppressions remember what they covered."""
    kept = []
    for diag in diags:
        covering = next((s for s in suppressions if s.covers(diag)), None)
        if covering is None:
            kept.append(diag)
        else:
            covering.used.add(diag.code)
    return kept


def unused(display: str, suppressions: list[Suppression]) -> list[Diagnostic]:
    """HUB005 for each suppression comment that covered none of its codes."""
    out = []
    for s in suppressions:
        unknown = [t for t in s.tokens if not codes.resolve(t)]
        if unknown:
            out.append(info(display, s.line, s.col, "HUB005", f"hubtool: {', '.join(unknown)} names no rule",
                            hint="`hubtool rules` lists every code and name"))
        elif s.codes and not s.used:
            what = "this card" if s.whole_file else "this line"
            out.append(info(display, s.line, s.col, "HUB005",
                            f"the suppression of {', '.join(s.tokens)} suppresses nothing on {what}",
                            hint="remove the comment: the finding it was for is gone"))
    return out
