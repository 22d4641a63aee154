"""`hubtool check` and `hubtool schema`: the offline, pre-commit path (nothing heavy is imported)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ..errors import UsageError
from .app import app, color, exit_with, handled
from .common import existing, hub_config


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


@app.command()
@handled
def check(
    paths: list[Path] | None = typer.Argument(None, help="Card files or folders (default: the hub's cards/)."),
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="Output format."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail the check too."),
    config: Path | None = typer.Option(None, "--config", help="hub.yaml to use (default: found above the cards)."),
) -> None:
    """Validate model cards offline: front matter, schema, and the hub's rules."""
    from ..cards.report import render
    from ..cards.validate import CardChecker, check_paths
    from ..golden.rule import GoldenBlockRule

    given = existing(list(paths or []))
    hub = hub_config(config, given)
    result = check_paths(given or existing([hub.root / hub.cards_dir]),
                         CardChecker(hub, extra_rules=[GoldenBlockRule(hub)]))
    typer.echo(render(result, fmt.value, color=color() and fmt is CheckFormat.text))
    exit_with(result.errors > 0 or (strict and result.warnings > 0))


@app.command()
@handled
def schema(
    name: str = typer.Option("model-card", "--name", help="model-card, hub, golden or index."),
    print_: bool = typer.Option(False, "--print", help="Print the schema instead of its path."),
) -> None:
    """Show where the bundled JSON Schema is (for editor set-up), or print it."""
    from ..schema import schema_path

    path = schema_path(name)
    if not path.is_file():
        raise UsageError(f"no bundled schema named {name!r}")
    typer.echo(path.read_text(encoding="utf-8").rstrip() if print_ else str(path))
