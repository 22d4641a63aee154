"""`hubtool publish` on a hub where nothing changed, without typer, click or the pipeline.

A re-publish of an unchanged hub replays the last run (`publish/replay.py`), and on a hub of 10k
cards the imports of typer, click and the pipeline were half of it.  This module reads the publish
command lines it understands completely (`plainargs`, as `quickcheck` does for check) and tries
the replay.  When there is none to make, or anything is amiss (a usage error, an unreadable ledger,
a bad value), it returns None and the typer command runs as if this module were not there: it
says what is wrong in its own words.  tests/publish/test_quickpublish.py holds the options here
equal to the typer command's, and the output equal to the typer command's output.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

from ..errors import HubtoolError
from ..gcpause import collector_paused
from .failures import EXIT_FINDINGS, EXIT_OK, SETTINGS, catch_sigint, exit_code_for, restore_sigint, say
from .plainargs import Command, Option, Positional
from .quickcheck import parse_command, write_out

FORMATS = ("text", "json", "github")
#: this process's command line was tried and there was no replay to make: the typer command does not try again
_MISSED: list[bool] = [False]


class PublishArgs(NamedTuple):
    """The `hubtool publish` options (cli/publish.py declares the same ones for typer), every one as `COMMAND`
    reads it (its default when not given)."""

    paths: list[Path]
    to: str | None
    store: Path | None
    offline: bool
    allow_unverified: bool
    no_cache: bool
    with_assets: bool
    jobs: int
    ledger: str | None
    shard: str | None
    merge: bool
    executor: str
    report: list[str]
    fmt: str
    config: Path | None


#: `hubtool publish` as cli/publish.py declares it for typer
COMMAND = Command((Positional("paths", Path, many=True),), (
    Option(("--to",), "to"),
    Option(("--store",), "store", convert=Path),
    *(Option((flag,), flag[2:].replace("-", "_"), "flag")
      for flag in ("--offline", "--allow-unverified", "--no-cache", "--with-assets", "--merge")),
    Option(("--jobs", "-j"), "jobs", convert=int, default=4),
    Option(("--ledger",), "ledger"),
    Option(("--shard",), "shard"),
    Option(("--executor",), "executor", default="local"),
    Option(("--report",), "report", "values"),
    Option(("--format", "-f"), "fmt", choices=FORMATS, default="text"),
    Option(("--config",), "config", convert=Path),
))


def parse(argv: list[str]) -> PublishArgs | None:
    """The publish options of `argv` (global options first), or None when typer should read it."""
    found = parse_command(argv, "publish", COMMAND)
    args = None if found is None else PublishArgs(**found)  # type: ignore[arg-type]  # as COMMAND declares
    return args if args is not None and 1 <= args.jobs <= 64 else None  # typer's --jobs range


def replays(args: PublishArgs) -> bool:
    """Whether a run with these options may be a replay at all (`unchanged.applies`): no other job than a
    plain, cached publish with this machine's ledger."""
    return not (args.no_cache or args.ledger is not None or args.shard is not None or args.merge
                or args.executor != "local")


def fast_publish(argv: list[str]) -> int | None:
    """Replay `hubtool publish` when this module can read the command line and nothing changed; its exit code,
    or None for the typer command to run."""
    args = parse(argv)
    if args is None or not replays(args):
        return None
    previous = catch_sigint()
    try:
        with collector_paused():  # a replay makes a few objects per card and frees none until it ends
            return _replay(args)
    except HubtoolError:  # the typer command meets it again, and says it as it always does
        return None
    except (KeyboardInterrupt, Exception) as exc:  # the fast path's catch-all, as app.handled's
        return exit_code_for(exc)
    finally:
        restore_sigint(previous)


def replay_missed() -> bool:
    """Whether the fast path tried this process's publish and found no replay to make (the typer command then
    goes straight to the pipeline: listing 10k cards' statuses again was ~0.15 s of a normal run)."""
    return _MISSED[0]


def _replay(args: PublishArgs) -> int | None:
    from ..publish.replay import REPLAYED, replay_unchanged
    from ..publish.report import printed, write_reports
    from ..publish.runs import PublishOptions
    from .common import card_paths, publish_destination, report_targets

    hub, given = card_paths(args.paths, args.config)
    targets = report_targets(args.report)
    options = PublishOptions(to=publish_destination(args.to, hub), offline=args.offline,
                             allow_unverified=args.allow_unverified, with_assets=args.with_assets, jobs=args.jobs)
    result = replay_unchanged(given, hub, options, store=args.store)
    if result is None:
        _MISSED[0] = True
        return None
    # as TerminalProgress.status shows a status line: on a terminal, or in a log with -v
    if not SETTINGS.quiet and (sys.stderr.isatty() or SETTINGS.color == "always" or SETTINGS.verbose):
        say(f"hubtool: {REPLAYED.format(cards=len(result.runs))}")
    write_reports(result, targets)
    for text in printed(result, args.fmt):
        write_out(text)
    return EXIT_FINDINGS if result.held_back else EXIT_OK
