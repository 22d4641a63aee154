"""Path globs of hub.yaml's `per-path:`, matched in bounded time whatever the glob and the path.

`*` and `?` stay within a folder, `**/` is any number of whole folders (`a/**/b` is also `a/b`), `**` elsewhere
is anything, slashes included.  A glob was only a regex before, and a regex backtracks: `*a*a*a*a*a*a*a*a*a*a!`
against a 60-letter name did not finish, and a hub.yaml comes with the pull request CI checks.  The regex is
kept where its backtracking is bounded, a glob of at most two wildcards on a path of at most 256 characters
(256² steps at worst), because it is ~50x faster there; anywhere else the glob is an automaton whose set of
live states walks the path once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_REGEX_WILDCARDS = 2
_REGEX_PATH = 256

_LITERAL, _ONE, _STAR, _ANY, _FOLDERS = range(5)


class _Token(NamedTuple):
    kind: int
    char: str = ""


def _tokens(glob: str) -> tuple[_Token, ...]:
    out: list[_Token] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append(_Token(_FOLDERS))
            i += 3
        elif glob.startswith("**", i):
            out.append(_Token(_ANY))
            i += 2
        elif glob[i] in "*?":
            out.append(_Token(_STAR if glob[i] == "*" else _ONE))
            i += 1
        else:
            out.append(_Token(_LITERAL, glob[i]))
            i += 1
    return tuple(out)


class Glob:
    """One glob, matched against a whole path (`a/*.md` matches `a/x.md`, not `b/a/x.md`).

    The automaton's states are the bits of an int (bit i: before token i; the last: matched), so one character
    moves every live state at once: ~0.3 µs a character, whatever the glob.
    """

    __slots__ = ("glob", "_regex", "_literal", "_one", "_star", "_any", "_folders", "_skip", "_done")

    def __init__(self, glob: str) -> None:
        tokens = _tokens(glob)
        self.glob = glob
        bits = {kind: sum(1 << i for i, t in enumerate(tokens) if t.kind == kind)
                for kind in (_ONE, _STAR, _ANY, _FOLDERS)}
        self._literal: dict[str, int] = {}
        for i, t in enumerate(tokens):
            if t.kind == _LITERAL:
                self._literal[t.char] = self._literal.get(t.char, 0) | 1 << i
        self._one, self._star, self._any, self._folders = bits[_ONE], bits[_STAR], bits[_ANY], bits[_FOLDERS]
        self._skip = self._star | self._any | self._folders  # tokens that may match nothing
        self._done = 1 << len(tokens)
        wildcards = sum(1 for t in tokens if t.kind in (_STAR, _ANY, _FOLDERS))
        self._regex = _as_regex(tokens) if wildcards <= _REGEX_WILDCARDS else None

    def _closure(self, states: int) -> int:
        """`states` and every state reached from them without a character: past a `*`, `**` or `**/`."""
        while True:
            more = states | (states & self._skip) << 1
            if more == states:
                return states
            states = more

    def matches(self, path: str) -> bool:
        if self._regex is not None and len(path) <= _REGEX_PATH:
            return self._regex.match(path) is not None
        states = self._closure(1)
        inside = 0  # the `**/` tokens part-way through their folders
        for char in path:
            slash = char == "/"
            inside |= states & self._folders
            moved = (states & (self._literal.get(char, 0) | (0 if slash else self._one))) << 1
            moved |= states & (self._any | (0 if slash else self._star))
            if slash:
                moved |= inside << 1  # through a folder: past the `**/`
            states = self._closure(moved)
            if not states and not inside:
                return False
        return bool(states & self._done)


_PATTERNS = {_ONE: "[^/]", _STAR: "[^/]*", _ANY: ".*", _FOLDERS: "(?:.*/)?"}


def _as_regex(tokens: tuple[_Token, ...]) -> re.Pattern[str]:
    return re.compile("".join(re.escape(t.char) if t.kind == _LITERAL else _PATTERNS[t.kind] for t in tokens) + "$")
