"""The typer application, the one error handler, and the exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import Enum
from typing import ParamSpec, TypeVar

import click
import typer

from .. import __version__
from .failures import EXIT_FINDINGS, EXIT_OK, SETTINGS, catch_sigint, color, exit_code_for, restore_sigint

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Validate, fetch, golden-test and publish the model cards of a model hub.")

EXIT_CODES = ("Exit codes: 0 all good; 1 findings (check errors, held-back cards, failed assets or golden "
              "cases); 2 a usage or tool error (a bad option, a broken hub.yaml, a full disk, a bug); "
              "130 interrupted (Ctrl-C); 141 the output's reader went away (a closed pipe).")
P = ParamSpec("P")
R = TypeVar("R")


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """The single place where a typer command's failure becomes a message and an exit code.

    What is said, and which code, is `failures.exit_code_for`'s (shared with the pre-commit
    fast path); typer's own exits and usage errors pass through.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        previous = catch_sigint()
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise  # typer's own exits and usage errors
        except (KeyboardInterrupt, Exception) as exc:  # the CLI's one catch-all: see failures.exit_code_for
            raise typer.Exit(exit_code_for(exc)) from None
        finally:
            restore_sigint(previous)

    return wrapper


def exit_with(findings: bool) -> None:
    """Exit 1 when there were findings, else 0."""
    raise typer.Exit(EXIT_FINDINGS if findings else EXIT_OK)


class ColorMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


@app.callback(invoke_without_command=True, epilog=EXIT_CODES)
def _root(version: bool = typer.Option(False, "--version", help="Print hubtool's version."),
          color_mode: ColorMode = typer.Option(ColorMode.auto, "--color",
                                               help="Colour and progress bars: auto (a terminal, unless "
                                                    "NO_COLOR is set), always or never."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="Only results and errors: no notices or "
                                                                  "progress on stderr."),
          verbose: bool = typer.Option(False, "--verbose", "-v", help="Also status lines in logs, and a "
                                                                      "bug's traceback on stderr.")) -> None:
    SETTINGS.color, SETTINGS.quiet, SETTINGS.verbose = color_mode.value, quiet, verbose and not quiet
    if version:
        typer.echo(f"hubtool {__version__}")
        raise typer.Exit(EXIT_OK)


__all__ = ["EXIT_CODES", "app", "color", "exit_with", "handled", "SETTINGS"]
