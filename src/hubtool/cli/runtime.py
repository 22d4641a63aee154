"""`hubtool runtime install` and `hubtool runtime status`: the managed model runtimes."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UsageError
from .app import app, exit_with, handled
from .common import CONFIG_HELP, FORMAT_HELP, TextOrJson, hub_config
from .progress import TerminalProgress

runtime_app = typer.Typer(help="Manage model runtimes (MindSpore Lite in a CPython 3.7 env).",
                          no_args_is_help=True)
app.add_typer(runtime_app, name="runtime")


def _runtime_name(name: str) -> None:
    if name not in ("mindspore-lite", "mslite"):
        raise UsageError(f"unknown runtime {name!r}; hubtool manages: mindspore-lite")


@runtime_app.command("install")
@handled
def runtime_install(
    name: str = typer.Argument("mindspore-lite", help="The runtime to install."),
    force: bool = typer.Option(False, "--force", help="Reinstall even if it is installed."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Create the runtime's environment and install its pinned, hash-checked packages (idempotent)."""
    from ..runtimes.mslite import env as mslite_env

    _runtime_name(name)
    env = mslite_env.install(hub_config(config, []), force=force, progress=TerminalProgress())
    versions = ", ".join(f"{k} {v}" for k, v in sorted(env.packages.items()))
    typer.echo(f"mindspore-lite runtime ready in {env.root} ({versions})")


@runtime_app.command("status")
@handled
def runtime_status(
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help=FORMAT_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Report each runtime: interpreter, environment, versions and health (a real import)."""
    import json

    from ..runtimes.mslite import env as mslite_env

    report = mslite_env.status(hub_config(config, []))
    if fmt is TextOrJson.json:
        typer.echo(json.dumps({"runtimes": [report]}, indent=2, sort_keys=True))
    else:
        versions = report.get("versions")
        listed = ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) if isinstance(versions, dict) else ""
        typer.echo(f"{report['runtime']}: {report['health']}")
        typer.echo(f"  interpreter: {report.get('interpreter') or 'none found'}")
        typer.echo(f"  environment: {report['env']}" + ("" if report["installed"] else " (not installed)"))
        if listed:
            typer.echo(f"  versions:    {listed}")
        if report.get("problem"):
            typer.echo(f"  problem:     {report['problem']}")
    exit_with(report["health"] != "ok")
