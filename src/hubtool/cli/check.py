"""`hubtool check` and `hubtool schema`: the offline, pre-commit path (nothing heavy is imported)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ..diagnostics import Severity
from ..errors import UsageError
from .app import app, handled
from .common import hub_config
from .quickcheck import CheckArgs, run_check, write_out


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
    select: list[str] | None = typer.Option(None, "--select", help="Only these codes, prefixes or names (HUB2,..)."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Not these codes, prefixes or names."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 whatever is found (reports only)."),
    baseline: Path | None = typer.Option(None, "--baseline", help="Findings to report as baselined "
                                                                  "(default: baseline: in hub.yaml)."),
    write_baseline: Path | None = typer.Option(None, "--write-baseline",
                                               help="Record today's findings as the baseline in this file."),
) -> None:
    """Validate model cards offline: front matter, schema, and the hub's rules."""
    # the pre-commit hook's command lines are read by quickcheck without typer; this is the same check
    out = run_check(CheckArgs(list(paths or []), fmt.value, strict, config, list(select or []), list(ignore or []),
                              exit_zero, baseline, write_baseline))
    write_out(out.text)  # as bytes, as the fast path writes it: a card path may be no UTF-8 (click's echo fails)
    raise typer.Exit(out.code)


@app.command()
@handled
def schema(
    name: str = typer.Option("model-card", "--name", help="model-card, hub, golden or index."),
    profile: str | None = typer.Option(None, "--profile", help="A profile's card schema (default: this hub's)."),
    print_: bool = typer.Option(False, "--print", help="Print the schema instead of its path."),
    config: Path | None = typer.Option(None, "--config", help="hub.yaml whose card schema to give."),
) -> None:
    """Show where the JSON Schema is (for editor set-up), or print it.

    The card schema is the reader's view of the hub's dialect: what editors and other
    validators see in a card (1.0 a number, links written <https://...>).
    """
    import json

    from ..schema import schema_path
    from .schemas import card_schema_file, effective_card_schema

    if name != "model-card":
        path = schema_path(name)
        if not path.is_file() or profile is not None:
            raise UsageError(f"no bundled schema named {name!r}" if profile is None
                             else "--profile goes with --name model-card")
        typer.echo(path.read_text(encoding="utf-8").rstrip() if print_ else str(path))
        return
    found = effective_card_schema(hub_config(config, []), profile)
    typer.echo(json.dumps(found.schema, indent=2, ensure_ascii=False) if print_ else str(card_schema_file(found)))


@app.command()
@handled
def rules(
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="text or json."),
    config: Path | None = typer.Option(None, "--config", help="hub.yaml whose severities to show."),
) -> None:
    """List every diagnostic code: its name, its severity in this hub, and what it means."""
    import json

    from .. import codes

    hub = hub_config(config, [])
    levels = hub.rules.rules
    rows = [(c.code, c.name, _level(levels[c.code] if c.code in levels else c.default), c.summary)
            for c in codes.CODES.values()]
    if fmt is CheckFormat.json:
        typer.echo(json.dumps({"profile": hub.profile, "rules": [
            {"code": c, "name": n, "severity": sev, "summary": text} for c, n, sev, text in rows]}, indent=2))
        return
    typer.echo(f"profile: {hub.profile}" + (f" (from {hub.path})" if hub.path else ""))
    for code, rule, sev, text in rows:
        typer.echo(f"{code} {rule:22s} {sev:8s} {text}")


def _level(level: Severity | None) -> str:
    return "off" if level is None else level.value
