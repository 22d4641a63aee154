"""The typer application, the one error handler, and the exit codes."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click
import typer

from .. import __version__, cancel
from ..crashlog import one_line, write_crash_log
from ..errors import HubtoolError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Validate, fetch, golden-test and publish the model cards of a model hub.")

EXIT_OK, EXIT_FINDINGS, EXIT_TOOL, EXIT_INTERRUPTED = 0, 1, 2, 130  # 130: 128 + SIGINT, as shells say
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
            missing = _missing_extra(exc)
            if missing is not None:
                typer.echo(f"hubtool: {missing}", err=True)
                raise typer.Exit(EXIT_TOOL) from None
            log = write_crash_log(exc)
            typer.echo(f"hubtool: internal error: {one_line(exc)}", err=True)
            typer.echo(f"    the traceback is in {log}; please report it" if log else
                       "    (no log file could be written)", err=True)
            raise typer.Exit(EXIT_TOOL) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    return wrapper


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


def color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print hubtool's version.")) -> None:
    if version:
        typer.echo(f"hubtool {__version__}")
        raise typer.Exit(EXIT_OK)


def main() -> None:
    """Console-script entry point."""
    app()
