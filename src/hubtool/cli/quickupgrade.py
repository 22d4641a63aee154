"""`hubtool upgrade-ms` without typer or click, as `quickcheck` does for `hubtool check`.

Translating a 80 MB model takes ~0.15 s; importing typer and building the command tree
added ~0.1 s to that.  The command line is read with `plainargs` when it can be; `--help`,
an unknown option or a missing argument fall through to the typer command, which calls
`run_upgrade` too (tests/legacy/test_quickupgrade.py holds the two equal).  This path also
imports flatbuffers as if numpy were not installed (`_flatbuffers_without_numpy`).
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

from ..errors import LegacyFormatError, TranslationRefused, UsageError
from .failures import EXIT_FINDINGS, EXIT_OK, run_guarded, say
from .plainargs import Command, Option, Positional
from .quickcheck import parse_command, write_out


class Upgraded(NamedTuple):
    """What the command says: a line on stdout when it wrote the file, else lines on stderr."""

    out: str | None
    err: list[str]
    code: int


def run_upgrade(source: Path, dest: Path | None, *, in_place: bool) -> Upgraded:
    """Translate `source` to MSL2 at `dest` (or over itself); usage errors raise UsageError."""
    from ..legacy.upgrade import upgrade_ms
    from .common import existing

    existing([source])
    dest = destination(source, dest, in_place=in_place)
    try:
        size = upgrade_ms(source, dest)
    except OSError as exc:
        raise UsageError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    except TranslationRefused as exc:
        reasons = [f"  - {reason}" for reason in exc.reasons]
        return Upgraded(None, [f"hubtool: refused: {source} cannot be translated faithfully:", *reasons],
                        EXIT_FINDINGS)
    except LegacyFormatError as exc:
        return Upgraded(None, [f"hubtool: {source}: {exc.message}"], EXIT_FINDINGS)
    return Upgraded(f"{dest}: MSL2, {size:,} bytes (translated from {source})", [], EXIT_OK)


def destination(source: Path, dest: Path | None, *, in_place: bool) -> Path:
    """The file upgrade-ms writes; a folder, a missing folder or the input itself is refused clearly."""
    if dest is None:
        if not in_place:
            raise UsageError("give the MSL2 file to write (upgrade-ms IN.ms OUT.ms), or --in-place to replace IN")
        return source
    if dest.is_dir():
        raise UsageError(f"{dest} is a folder: give the file to write, e.g. {dest / (source.stem + '.msl2.ms')}")
    if not dest.parent.is_dir():
        raise UsageError(f"the folder {dest.parent} does not exist: create it first")
    if dest.exists() and os.path.samefile(source, dest) and not in_place:
        raise UsageError(f"{dest} is the input itself: pass --in-place to replace it with its translation")
    return dest


#: `hubtool upgrade-ms` as cli/assets.py declares it for typer
COMMAND = Command((Positional("source", Path), Positional("dest", Path, required=False)),
                  (Option(("--in-place",), "in_place", "flag"),))


def _flatbuffers_without_numpy() -> None:
    """Import flatbuffers with numpy hidden from it: ~100 ms and ~15 MiB of upgrade-ms's start-up.

    flatbuffers imports numpy whenever it can find it (`compat.import_numpy`, at import time) for
    its numpy vector helpers alone; the writer packs its vectors with struct and uses none of them,
    and flatbuffers without numpy is a configuration it supports.  Only this fast path does it: a
    single-threaded process that has imported neither yet and uses flatbuffers for nothing else.
    """
    if "numpy" in sys.modules or "flatbuffers" in sys.modules:
        return
    finder = importlib.machinery.PathFinder
    find_spec = finder.find_spec

    def numpy_unseen(name: str, path: Sequence[str] | None = None,
                     target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        return None if name == "numpy" or name.startswith("numpy.") else find_spec(name, path, target)

    finder.find_spec = numpy_unseen  # type: ignore[assignment, method-assign]  # restored at once below
    try:
        import flatbuffers  # noqa: F401  # imported here, so that later imports find it as it is now
    finally:
        finder.find_spec = find_spec  # type: ignore[method-assign]


def fast_upgrade(argv: list[str]) -> int | None:
    """Run `hubtool upgrade-ms` when this module can read the command line; its exit code, or None."""
    found = parse_command(argv, "upgrade-ms", COMMAND)
    if found is None:
        return None
    _flatbuffers_without_numpy()
    source, dest, in_place = found["source"], found["dest"], found["in_place"]
    if not isinstance(source, Path) or not isinstance(dest, Path | None) or not isinstance(in_place, bool):
        return None  # not what COMMAND declares: cannot happen, typer would say what is wrong

    def command() -> int:
        done = run_upgrade(source, dest, in_place=in_place)
        for line in done.err:
            say(line)
        if done.out is not None:
            write_out(done.out)
        return done.code

    return run_guarded(command)
