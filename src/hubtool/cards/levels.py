"""The severity of each finding: the code's default, then the hub's `rules:`, its `per-path:` globs,
and the command line's `--select`/`--ignore`, in that order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path, PurePosixPath

from .. import codes
from ..config import HubConfig, Level
from ..diagnostics import Diagnostic
from ..errors import UsageError
from .globmatch import Glob


def relative_posix(display: str, root: str) -> str | None:
    """`display` relative to the absolute folder `root`, with / separators; None when it is not below it.

    String work instead of pathlib: this runs for every card of a hub (pathlib's relative_to
    was a fifth of `check`'s own time on 4,752 cards).
    """
    absolute = os.path.abspath(display)
    prefix = root if root.endswith(os.sep) else root + os.sep
    if not absolute.startswith(prefix):
        return None
    rel = absolute[len(prefix):]
    return rel if os.sep == "/" else PurePosixPath(Path(rel)).as_posix()


def codes_of(tokens: Iterable[str]) -> set[str]:
    """Codes named on the command line: comma-separated codes, prefixes or names."""
    found: set[str] = set()
    for token in (t for item in tokens for t in item.split(",") if t.strip()):
        matched = codes.resolve(token)
        if not matched:
            raise UsageError(f"{token!r} is neither a diagnostic code nor a rule name",
                             hint="`hubtool rules` lists every code and name")
        found.update(matched)
    return found


class Levels:
    """Decides each finding's severity, or drops it (off)."""

    def __init__(self, config: HubConfig, *, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> None:
        self.rules = config.rules
        self.roots = [os.path.abspath(config.root / config.cards_dir), os.path.abspath(config.root)]
        self.globs = [(Glob(glob), levels) for glob, levels in config.rules.per_path]
        self.select = codes_of(select) if select else None
        self.ignore = codes_of(ignore)
        self._for_path = lru_cache(maxsize=None)(self._path_levels)  # one entry per card checked

    def _relative(self, display: str) -> list[str]:
        out = [rel for rel in (relative_posix(display, root) for root in self.roots) if rel is not None]
        return out or [PurePosixPath(display).as_posix()]

    def _path_levels(self, display: str) -> dict[str, Level]:
        if not self.globs:  # no per-path rules: every path has the hub's (no path worked out for each card)
            return self.rules.rules
        levels = dict(self.rules.rules)
        names = self._relative(display)
        for pattern, overrides in self.globs:
            if any(pattern.matches(name) for name in names):
                levels.update(overrides)
        return levels

    def apply(self, diag: Diagnostic) -> Diagnostic | None:
        """The finding with the severity the hub gives its code at its path; None when that is off."""
        if diag.code in self.ignore or (self.select is not None and diag.code not in self.select):
            return None
        levels = self._for_path(diag.path)
        if diag.code not in levels:
            return diag
        level = levels[diag.code]
        return None if level is None else diag.with_severity(level)

    def apply_all(self, diags: Iterable[Diagnostic]) -> list[Diagnostic]:
        return [d for d in (self.apply(d) for d in diags) if d is not None]
