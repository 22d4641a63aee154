"""`hubtool runtime install` and `hubtool runtime status`: the managed model runtimes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import UsageError
from .app import app, exit_with, handled
from .common import CONFIG_HELP, FORMAT_HELP, TextOrJson, hub_config
from .progress import TerminalProgress

if TYPE_CHECKING:
    from ..runtimes.managed import RuntimeSpec

runtime_app = typer.Typer(help="Manage model runtimes (MindSpore Lite in a CPython 3.7 env, MindSpore 2.x in "
                               "a CPython 3.11 env).", no_args_is_help=True)
app.add_typer(runtime_app, name="runtime")
RUNTIMES = ("mindspore-lite", "mindspore")


def _spec(name: str) -> RuntimeSpec:
    from ..runtimes.mindspore import env as mindspore_env
    from ..runtimes.mslite import env as mslite_env

    specs = {"mindspore-lite": mslite_env.SPEC, "mslite": mslite_env.SPEC, "mindspore": mindspore_env.SPEC}
    if name not in specs:
        raise UsageError(f"unknown runtime {name!r}; hubtool manages: {', '.join(RUNTIMES)}")
    return specs[name]


@runtime_app.command("install")
@handled
def runtime_install(
    name: str = typer.Argument("mindspore-lite", help="The runtime to install."),
    force: bool = typer.Option(False, "--force", help="Reinstall even if it is installed."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Create the runtime's environment and install its pinned, hash-checked packages (idempotent)."""
    from ..runtimes import managed

    spec = _spec(name)
    env = managed.install(spec, hub_config(config, []), force=force, progress=TerminalProgress())
    versions = ", ".join(f"{k} {v}" for k, v in sorted(env.packages.items()))
    typer.echo(f"{spec.name} runtime ready in {env.root} ({versions})")


@runtime_app.command("status")
@handled
def runtime_status(
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help=FORMAT_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Report each runtime: interpreter, environment, versions and health (a real import)."""
    import json

    from ..runtimes import managed

    hub = hub_config(config, [])
    reports = [managed.status(_spec(name), hub) for name in RUNTIMES]
    if fmt is TextOrJson.json:
        typer.echo(json.dumps({"runtimes": reports}, indent=2, sort_keys=True))
    else:
        for report in reports:
            versions = report.get("versions")
            listed = ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) if isinstance(versions, dict) else ""
            typer.echo(f"{report['runtime']}: {report['health']}")
            typer.echo(f"  interpreter: {report.get('interpreter') or 'none found'}")
            typer.echo(f"  environment: {report['env']}" + ("" if report["installed"] else " (not installed)"))
            if listed:
                typer.echo(f"  versions:    {listed}")
            if report.get("problem"):
                typer.echo(f"  problem:     {report['problem']}")
    exit_with(any(r["health"] != "ok" for r in reports))
