"""The `hubtool` command line: each command parses, builds, calls the library, renders.

One handler (`_handled`) maps hubtool's errors to exit codes: 0 clean, 1 findings,
2 usage or tool failure.  Heavy modules are imported inside the commands that need
them so that `hubtool check` (the pre-commit hook) starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import typer

from . import __version__
from .errors import HubtoolError, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Validate, fetch, golden-test and publish the model cards of a model hub.")
F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FINDINGS, EXIT_TOOL = 0, 1, 2


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


def _handled(func: F) -> F:
    """The single place where a HubtoolError becomes a message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HubtoolError as exc:
            typer.echo(f"hubtool: {exc.kind} error: {exc.message}", err=True)
            if exc.hint:
                typer.echo(f"    hint: {exc.hint}", err=True)
            raise typer.Exit(EXIT_TOOL) from None

    return wrapper  # type: ignore[return-value]


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _config(config: Path | None, paths: list[Path]) -> Any:
    from .config import load_config

    if config is not None and not config.is_file():
        raise UsageError(f"no such configuration file: {config}")
    start = paths[0] if paths else Path.cwd()
    return load_config(config, start=start if start.is_dir() else start.parent)


def _existing(paths: list[Path]) -> list[Path]:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    return paths


@app.command()
@_handled
def check(
    paths: list[Path] | None = typer.Argument(None, help="Card files or folders (default: the hub's cards/)."),
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="Output format."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail the check too."),
    config: Path | None = typer.Option(None, "--config", help="hub.yaml to use (default: found above the cards)."),
) -> None:
    """Validate model cards offline: front matter, schema, and the hub's rules."""
    from .report import render
    from .validate import check_paths

    given = _existing(list(paths or []))
    hub = _config(config, given)
    if not given:
        given = _existing([hub.root / hub.cards_dir])
    result = check_paths(given, hub)
    typer.echo(render(result, fmt.value, color=_color() and fmt is CheckFormat.text))
    failed = result.errors > 0 or (strict and result.warnings > 0)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


@app.command()
@_handled
def schema(
    name: str = typer.Option("model-card", "--name", help="model-card, hub, golden or index."),
    print_: bool = typer.Option(False, "--print", help="Print the schema instead of its path."),
) -> None:
    """Show where the bundled JSON Schema is (for editor set-up), or print it."""
    from .schema import schema_path

    path = schema_path(name)
    if not path.is_file():
        raise UsageError(f"no bundled schema named {name!r}")
    typer.echo(path.read_text(encoding="utf-8").rstrip() if print_ else str(path))


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print hubtool's version.")) -> None:
    if version:
        typer.echo(f"hubtool {__version__}")
        raise typer.Exit(EXIT_OK)


def main() -> None:
    """Console-script entry point."""
    app()
