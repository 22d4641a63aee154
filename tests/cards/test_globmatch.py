"""per-path globs: the automaton says what the glob's regex would say, in time linear in the path; the regex
itself serves where its backtracking is bounded."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hubtool.cards.globmatch import Glob


def _regex(glob: str) -> re.Pattern[str]:
    """The glob as a regex (how hubtool matched globs before): the oracle, on paths short enough for it."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] in "*?":
            out, i = out + ("[^/]*" if glob[i] == "*" else "[^/]"), i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + "$")


_glob = st.lists(st.sampled_from(["*", "**", "**/", "?", "a", "b", "/", ".md", "-", "[", "\\", "é"]), max_size=7)
_path = st.lists(st.sampled_from(["a", "b", "/", ".md", "-", "[", "\\", "é", "ab/", "/a"]), max_size=8)


@settings(max_examples=3000, deadline=None)
@given(_glob.map("".join), _path.map("".join), st.booleans())
def test_a_glob_matches_what_its_regex_matches(glob: str, path: str, long: bool) -> None:
    """On short paths and long ones (past 256 characters the automaton decides even a two-wildcard glob; the
    oracle's backtracking on a long path is bounded only for so few)."""
    if long and len(re.findall(r"\*\*/|\*\*|\*", glob)) <= 2:
        glob, path = "a" * 300 + glob, "a" * 300 + path
    assert Glob(glob).matches(path) == bool(_regex(glob).match(path))


def test_globs_a_hub_writes() -> None:
    assert Glob("legacy/**").matches("legacy/u/m.md") and Glob("legacy/**").matches("legacy/")
    assert Glob("**/*_cn.md").matches("m_cn.md") and Glob("**/*_cn.md").matches("u/v/m_cn.md")
    assert not Glob("u/*.md").matches("u/v/m.md") and Glob("u/?.md").matches("u/m.md")


def test_a_hostile_glob_is_matched_in_one_pass() -> None:
    """`*a` twenty times then `!`: its regex backtracked without end on a 60-letter name."""
    assert not Glob("*a" * 20 + "!").matches("a" * 100_000)
    assert not Glob("**/" * 50 + "x").matches("a/" * 50_000 + "b")
    assert not Glob("*a*").matches("a" * 100_000 + "/")  # two wildcards, but a path too long for the regex
