"""The typer application, the one error handler, and the exit codes."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import ParamSpec, TypeVar

import click
import typer

from .. import __version__, cancel
from ..crashlog import one_line, write_crash_log
from ..errors import HubtoolError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Validate, fetch, golden-test and publish the model cards of a model hub.")

EXIT_OK, EXIT_FINDINGS, EXIT_TOOL, EXIT_INTERRUPTED = 0, 1, 2, 130  # 130: 128 + SIGINT, as shells say
EXIT_CODES = ("Exit codes: 0 all good; 1 findings (check errors, held-back cards, failed assets or golden "
              "cases); 2 a usage or tool error (a bad option, a broken hub.yaml, a full disk, a bug); "
              "130 interrupted (Ctrl-C).")
P = ParamSpec("P")
R = TypeVar("R")


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """The single place where a failure becomes a message and exit code 2.

    A HubtoolError is said as it is; anything else is a bug in hubtool: one line on stderr,
    the traceback in a log file that line names, and still exit code 2, so that a crash is
    never mistaken for findings (1) by a pre-commit hook or CI.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        cancel.reset()
        previous = _catch_sigint()
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            done = "; ".join(cancel.notes())
            typer.echo(f"hubtool: interrupted{': ' + done if done else ''}; partial downloads are kept "
                       "and resume on the next run", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except HubtoolError as exc:
            typer.echo(f"hubtool: {exc.kind} error: {exc.message}", err=True)
            if exc.hint:
                typer.echo(f"    hint: {exc.hint}", err=True)
            raise typer.Exit(EXIT_TOOL) from None
        except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise  # typer's own exits and usage errors
        except Exception as exc:  # the CLI's one catch-all: see above
            _say_unexpected(exc)
            raise typer.Exit(EXIT_TOOL) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    return wrapper


def _say_unexpected(exc: Exception) -> None:
    """A part the installation left out, or a bug: one line (the traceback in a log, and with -v here too)."""
    missing = _missing_extra(exc)
    if missing is not None:
        typer.echo(f"hubtool: {missing}", err=True)
        return
    log = write_crash_log(exc)
    typer.echo(f"hubtool: internal error: {one_line(exc)}", err=True)
    if SETTINGS.verbose:
        import traceback

        typer.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    typer.echo(f"    the traceback is in {log}; please report it" if log else
               "    (no log file could be written)", err=True)


# which extra of pyproject.toml brings which import: the core installs the checker only
_EXTRAS = {"requests": "assets", "urllib3": "assets", "rich": "assets", "flatbuffers": "legacy", "numpy": "golden",
           "PIL": "golden", "boto3": "s3", "botocore": "s3"}


def _missing_extra(exc: Exception) -> str | None:
    """What to install when a command needs a part the installation left out (None: a real bug)."""
    if not isinstance(exc, ModuleNotFoundError):
        return None
    module = (exc.name or "").split(".")[0]
    extra = _EXTRAS.get(module)
    if extra is None:
        return None
    return (f"this command needs hubtool's '{extra}' extra ({module} is not installed)\n"
            f"    hint: pip install 'hubtool[{extra}]', or 'hubtool[all]' for every command")


def _catch_sigint() -> signal.Handlers | Callable[..., object] | int | None:
    """Ctrl-C stops every thread (cancel.request_stop), then interrupts the main thread as usual."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_sigint(signum: int, frame: object) -> None:
        cancel.request_stop()
        raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, on_sigint)


def exit_with(findings: bool) -> None:
    """Exit 1 when there were findings, else 0."""
    raise typer.Exit(EXIT_FINDINGS if findings else EXIT_OK)


@dataclass
class Settings:
    """The global options, for the CLI's own rendering (the library never sees them)."""

    color: str = "auto"  # auto | always | never
    quiet: bool = False
    verbose: bool = False


SETTINGS = Settings()


def color() -> bool:
    """Colour on stdout: --color always/never, else a terminal without NO_COLOR."""
    if SETTINGS.color != "auto":
        return SETTINGS.color == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


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


def main() -> None:
    """Console-script entry point."""
    app()
