"""Where a card is: the path messages show (relative to the working directory) and the path the published
index and a mirror's manifest name it by (relative to the hub root, whatever the working directory)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..textdecode import utf8_name


def display_path(path: str | Path) -> str:
    """A path as a linter prints it: relative to the working directory when inside it."""
    return within(os.path.abspath(path), os.getcwd() + os.sep)


def card_places(files: Sequence[str], root: Path) -> list[tuple[str, str]]:
    """Each card's (display path, hub path), as `display_path` and `hub_path` make them one at a time (a
    re-publish of 10k unchanged cards does little else), as UTF-8 text (`textdecode.utf8_name`): the names
    the index, the catalog and the ledger hold."""
    cwd, base = os.getcwd() + os.sep, os.path.join(os.path.abspath(root), "")
    return [(utf8_name(within(absolute, cwd)), utf8_name(within(absolute, base).replace(os.sep, "/")))
            for absolute in absolute_paths(files)]


def absolute_paths(files: Sequence[str]) -> list[str]:
    """Each file's `os.path.abspath`, with one per folder rather than one per file (a tenth of a pre-commit
    check's look at a 3,000-card hub's cached facts)."""
    out = []
    folders: dict[str, str] = {}  # a folder's absolute path, with a separator at its end
    for file in files:
        folder, sep, name = file.rpartition(os.sep)
        folder += sep  # "/" and "" are two folders
        if folder not in folders:
            folders[folder] = os.path.join(os.path.abspath(folder or os.curdir), "")
        out.append(folders[folder] + name)  # a file is never named "." or "..": those are folders, walked
    return out


def hub_path(path: Path, root: Path) -> str:
    """A card's path as the published index and a mirror's manifest name it: POSIX, relative to the hub
    root when inside it.  Not the display path: that depends on the working directory, and a hub
    published from CI and from a checkout must get the same index (else every run is a new generation).
    """
    return within(os.path.abspath(path), os.path.join(os.path.abspath(root), "")).replace(os.sep, "/")


def within(absolute: str, base: str) -> str:
    """`absolute` relative to `base` (a folder's path ending in a separator) when inside it, else as it is:
    string slicing, as the display and hub paths of 10k cards need (`os.path.relpath` was 0.1 ms a card)."""
    return absolute[len(base):] if absolute.startswith(base) else absolute
