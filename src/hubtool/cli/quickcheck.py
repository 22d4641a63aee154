"""`hubtool check` without typer or click: the pre-commit hook's path.

A pre-commit hook runs `hubtool check FILES` on every commit, so its start-up is the
whole cost for one staged card; importing typer and building its command tree was
~80 ms of it.  This module reads the check command line (`plainargs`) and runs the
check itself.  It only takes command lines it understands completely: `--help`, an
unknown option, a bad value, any other command, fall through to the typer application,
which reads them as it always did (same help, same usage errors).
tests/cards/test_quickcheck.py holds the options here equal to the typer command's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from .failures import EXIT_FINDINGS, EXIT_OK, SETTINGS, color, run_guarded
from .plainargs import Command, Option, Positional

FORMATS = ("text", "json", "github", "junit")
_GLOBAL_FLAGS = {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}
_COLORS = ("auto", "always", "never")


class CheckArgs(NamedTuple):
    """The `hubtool check` options (cli/check.py declares the same ones for typer)."""

    paths: Sequence[Path] = ()
    fmt: str = "text"
    strict: bool = False
    config: Path | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    exit_zero: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None


class CheckOutput(NamedTuple):
    text: str  # with ANSI colours only when `color()` said so for a text report
    code: int


def run_check(args: CheckArgs) -> CheckOutput:
    """Validate the cards; the rendered report and the exit code (errors raise HubtoolError)."""
    from ..cards.checkrun import check_paths, write_baseline_file
    from ..cards.report import render
    from ..cards.validate import CardChecker, run_for
    from ..golden.rule import GoldenBlockRule
    from .common import existing, hub_cards_dir, hub_config

    given = existing(list(args.paths))
    hub = hub_config(args.config, given)
    run = run_for(hub, select=args.select, ignore=args.ignore, baseline_file=args.baseline)
    keyed = bool(run.baseline) or args.write_baseline is not None  # a baseline to match findings to, or to write
    result = check_paths(given or [hub_cards_dir(hub)],
                         CardChecker(hub, extra_rules=[GoldenBlockRule(hub)], fingerprints=keyed), run)
    if args.write_baseline is not None:
        result = write_baseline_file(result, args.write_baseline, run)
    colored = color() and args.fmt == "text"
    findings = result.errors > 0 or (args.strict and result.warnings > 0)
    return CheckOutput(render(result, args.fmt, color=colored), EXIT_FINDINGS if findings and not args.exit_zero
                       else EXIT_OK)


#: `hubtool check` as cli/check.py declares it for typer
COMMAND = Command((Positional("paths", Path, many=True),), (
    Option(("--format", "-f"), "fmt", choices=FORMATS, default="text"),
    Option(("--strict",), "strict", "flag"),
    Option(("--config",), "config", convert=Path),
    Option(("--select",), "select", "values"),
    Option(("--ignore",), "ignore", "values"),
    Option(("--exit-zero",), "exit_zero", "flag"),
    Option(("--baseline",), "baseline", convert=Path),
    Option(("--write-baseline",), "write_baseline", convert=Path),
))


def parse(argv: list[str]) -> CheckArgs | None:
    """The check options of `argv` (global options first), or None when typer should read it."""
    found = parse_command(argv, "check", COMMAND)
    return None if found is None else CheckArgs(**found)  # type: ignore[arg-type]  # as COMMAND declares


def parse_command(argv: list[str], name: str, command: Command) -> dict[str, object] | None:
    """The options of command `name` in `argv` as `command` reads them (global options first, applied to
    SETTINGS); None when anything is left that it does not know, or a value is bad: typer reads it and says so."""
    rest = command_args(argv, name)
    return None if rest is None else command.read(rest)


def command_args(argv: list[str], command: str) -> list[str] | None:
    """What follows `command` in `argv`, with the global options before it applied to SETTINGS; None when
    anything else comes first, or help is asked for (typer's to say)."""
    i = 0
    while i < len(argv) and argv[i] != command:
        token = argv[i]
        if token in _GLOBAL_FLAGS:
            setattr(SETTINGS, _GLOBAL_FLAGS[token], True)
        elif token == "--color" and i + 1 < len(argv) and argv[i + 1] in _COLORS:
            SETTINGS.color = argv[i + 1]
            i += 1
        elif token.startswith("--color=") and token.split("=", 1)[1] in _COLORS:
            SETTINGS.color = token.split("=", 1)[1]
        else:
            return None
        i += 1
    rest = argv[i + 1:]
    if i == len(argv) or any(t in ("--help", "-h") for t in rest):
        return None
    SETTINGS.verbose = SETTINGS.verbose and not SETTINGS.quiet
    return rest


def write_out(text: str) -> None:
    """Text to stdout as bytes: a card path that is not valid UTF-8 comes out as its own bytes."""
    encoding = sys.stdout.encoding or "utf-8"
    try:
        data = text.encode(encoding, errors="surrogateescape")
    except UnicodeEncodeError:
        data = text.encode(encoding, errors="backslashreplace")
    sys.stdout.flush()
    sys.stdout.buffer.write(data + b"\n")
    sys.stdout.buffer.flush()


def fast_check(argv: list[str]) -> int | None:
    """Run `hubtool check` when this module can read the command line; its exit code, or None."""
    args = parse(argv)
    if args is None:
        return None

    def command() -> int:
        out = run_check(args)
        write_out(out.text)
        return out.code

    return run_guarded(command)
