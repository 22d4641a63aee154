"""The typer application, the one error handler, and the exit codes."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from .. import __version__
from ..errors import HubtoolError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Validate, fetch, golden-test and publish the model cards of a model hub.")

EXIT_OK, EXIT_FINDINGS, EXIT_TOOL = 0, 1, 2
P = ParamSpec("P")
R = TypeVar("R")


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """The single place where a HubtoolError becomes a message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HubtoolError as exc:
            typer.echo(f"hubtool: {exc.kind} error: {exc.message}", err=True)
            if exc.hint:
                typer.echo(f"    hint: {exc.hint}", err=True)
            raise typer.Exit(EXIT_TOOL) from None

    return wrapper


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
