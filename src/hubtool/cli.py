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


class AssetFormat(str, Enum):
    text = "text"
    json = "json"


def _card_paths(paths: list[Path] | None, config: Path | None) -> tuple[Any, list[Path]]:
    given = _existing(list(paths or []))
    hub = _config(config, given)
    return hub, given or _existing([hub.root / hub.cards_dir])


def _report_unparsed(problems: list[Any]) -> None:
    for d in problems:
        typer.echo(f"{d.path}:{d.line}:{d.col}: {d.code} skipped, the card does not parse: {d.message}", err=True)


def _load_cards(paths: list[Path] | None, config: Path | None) -> tuple[Any, list[Any], list[Any]]:
    """The hub, its parsed cards, and the cards that do not parse (reported on stderr)."""
    from .assets import load_cards

    hub, card_paths = _card_paths(paths, config)
    cards, problems = load_cards(card_paths, hub)
    _report_unparsed(problems)
    return hub, cards, problems


@app.command()
@_handled
def fetch(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    offline: bool = typer.Option(False, "--offline", help="Use only what the store holds."),
    keep_bad: bool = typer.Option(False, "--keep-bad", help="Keep mismatching downloads in quarantine/."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, max=64, help="Transfers at once."),
    fmt: AssetFormat = typer.Option(AssetFormat.text, "--format", "-f"),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Bring every asset of the cards into the store, verified by SHA-256."""
    from .assets import make_fetcher, run_fetch, store_for
    from .report import render_assets

    hub, cards, problems = _load_cards(paths, config)
    fetcher = make_fetcher(hub, store_for(hub, store), offline=offline, keep_bad=keep_bad)
    results = run_fetch(cards, fetcher, jobs=jobs)
    typer.echo(render_assets(results, fmt.value))
    raise typer.Exit(EXIT_FINDINGS if problems or any(not r.ok for r in results) else EXIT_OK)


@app.command()
@_handled
def mirror(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    to: str = typer.Option(..., "--to", help="Mirror folder, or s3://bucket/prefix (blobs/ + manifest.json)."),
    store: Path | None = typer.Option(None, "--store", help="Local store to copy from before downloading."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, max=64, help="Transfers at once."),
    fmt: AssetFormat = typer.Option(AssetFormat.text, "--format", "-f"),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Copy every asset of the hub into a static mirror folder, verified, resumable, idempotent."""
    from .assets import make_fetcher, run_fetch, store_for
    from .mirror import manifest, write_json_atomic
    from .report import render_assets
    from .store import BlobStore

    hub, cards, problems = _load_cards(paths, config)
    if to.startswith("s3://"):
        from .mirror import mirror_to_s3

        results = mirror_to_s3(cards, hub, to, make_fetcher(hub, store_for(hub, store)), jobs=jobs)
    else:
        fetcher = make_fetcher(hub, BlobStore(Path(to)), local_stores=(store_for(hub, store),))
        results = run_fetch(cards, fetcher, jobs=jobs)
        write_json_atomic(Path(to) / "manifest.json", manifest(cards, results))
    typer.echo(render_assets(results, fmt.value))
    raise typer.Exit(EXIT_FINDINGS if problems or any(not r.ok for r in results) else EXIT_OK)


@app.command("inspect")
@_handled
def inspect_cmd(
    files: list[Path] = typer.Argument(..., help="Files to inspect."),
    fmt: AssetFormat = typer.Option(AssetFormat.text, "--format", "-f"),
) -> None:
    """Say what a file really is from its bytes (.ms format and version, ONNX, LFS pointer, HTML...)."""
    import json

    from .inspect import inspect_file

    out = []
    for path in _existing(files):
        if not path.is_file():
            raise UsageError(f"not a file: {path}")
        facts = inspect_file(path)
        item: dict[str, Any] = {"path": str(path), "kind": facts.kind, "description": facts.description,
                                **facts.details}
        if facts.ms_format in ("v0", "MSL1"):
            item.update(_legacy_verdict(path))
        out.append(item)
    if fmt is AssetFormat.json:
        typer.echo(json.dumps(out, indent=2, sort_keys=True))
    else:
        for item in out:
            typer.echo(f"{item['path']}: {item['kind']}: {item['description']}")
            if "operators" in item:
                ops = ", ".join(f"{name} {count}" for name, count in item["operators"].items())
                typer.echo(f"    operators: {ops}")
                verdict = ("can translate it to MSL2 (`hubtool upgrade-ms`)" if item["translatable"]
                           else "refuses: " + "; ".join(item["refusals"]))
                typer.echo(f"    translator: {verdict}")


def _legacy_verdict(path: Path) -> dict[str, Any]:
    from .legacy.flatread import LegacyFormatError
    from .legacy.upgrade import analyze_file

    try:
        analysis = analyze_file(path)
    except LegacyFormatError as exc:
        return {"operators": {}, "translatable": False, "refusals": [exc.message]}
    return {"operators": analysis.histogram, "translatable": analysis.translatable, "refusals": analysis.refusals}


@app.command("upgrade-ms")
@_handled
def upgrade_ms_cmd(
    source: Path = typer.Argument(..., help="A MindSpore Lite 1.0 / 1.1 .ms file."),
    dest: Path = typer.Argument(..., help="Where to write the MSL2 file."),
) -> None:
    """Translate a MindSpore Lite 1.0/1.1 model to the MSL2 format that runtime 2.x loads."""
    from .legacy.flatread import LegacyFormatError
    from .legacy.upgrade import TranslationRefused, upgrade_ms

    _existing([source])
    try:
        size = upgrade_ms(source, dest)
    except TranslationRefused as exc:
        typer.echo(f"hubtool: refused: {source} cannot be translated faithfully:", err=True)
        for reason in exc.reasons:
            typer.echo(f"  - {reason}", err=True)
        raise typer.Exit(EXIT_FINDINGS) from None
    except LegacyFormatError as exc:
        typer.echo(f"hubtool: {source}: {exc.message}", err=True)
        raise typer.Exit(EXIT_FINDINGS) from None
    typer.echo(f"{dest}: MSL2, {size:,} bytes (translated from {source})")


store_app = typer.Typer(help="Look after the blob store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("verify")
@_handled
def store_verify(
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    repair: bool = typer.Option(False, "--repair", help="Remove blobs whose content does not match their name."),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Re-hash every blob; report (and with --repair remove) the ones that do not match their name."""
    from .assets import store_for

    blob_store = store_for(_config(config, []), store)
    bad = 0
    count = 0
    for info in blob_store.iter_blobs():
        count += 1
        actual = blob_store.verify(info.digest) if len(info.digest) == 64 else "not a blob name"
        if actual is not None:
            bad += 1
            typer.echo(f"CORRUPT {info.path}: content hashes to {actual}" + (" (removed)" if repair else ""))
            if repair:
                info.path.unlink(missing_ok=True)
    typer.echo(f"{count} blobs verified: {bad} corrupt")
    raise typer.Exit(EXIT_FINDINGS if bad and not repair else EXIT_OK)


@store_app.command("gc")
@_handled
def store_gc(
    paths: list[Path] | None = typer.Argument(None, help="Cards whose assets are kept (default: the hub's)."),
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be removed."),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Remove blobs that no card references (and temp files of processes that are gone)."""
    from .assets import load_cards, referenced_digests, store_for

    hub, card_paths = _card_paths(paths, config)
    cards, problems = load_cards(card_paths, hub)
    if problems:
        _report_unparsed(problems)
        raise UsageError("some cards do not parse: refusing to collect garbage that they might reference")
    keep = referenced_digests(cards)
    blob_store = store_for(hub, store)
    removed = 0
    for info in blob_store.iter_blobs():
        if info.digest not in keep:
            removed += 1
            typer.echo(f"{'would remove' if dry_run else 'removed'} {info.digest} ({info.size:,} B)")
            if not dry_run:
                blob_store.remove(info.digest)
    temps = 0 if dry_run else blob_store.clean_tmp()
    typer.echo(f"{removed} unreferenced blobs {'found' if dry_run else 'removed'}; {temps} stale temp files removed")


class GoldenFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"


@app.command()
@_handled
def golden(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    offline: bool = typer.Option(False, "--offline", help="Use only what the store holds."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds a runtime request may take."),
    fmt: GoldenFormat = typer.Option(GoldenFormat.text, "--format", "-f"),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Run each card's model on its golden images in its real runtime and judge every case."""
    from .assets import make_fetcher, store_for
    from .goldencard import golden_for_card
    from .goldenreport import render

    hub, cards, problems = _load_cards(paths, config)
    fetcher = make_fetcher(hub, store_for(hub, store), offline=offline)
    results = [(card.display, golden_for_card(card.metadata, hub, fetcher, timeout=timeout))
               for card in cards if not card.is_twin]
    typer.echo(render(results, fmt.value))
    bad = problems or any(r.status not in ("passed", "skipped") for _, r in results)
    raise typer.Exit(EXIT_FINDINGS if bad else EXIT_OK)


class PublishFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


@app.command()
@_handled
def publish(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    to: str | None = typer.Option(None, "--to", help="Folder or s3://bucket/prefix (default: publish.to in hub.yaml)."),
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    offline: bool = typer.Option(False, "--offline", help="No network: use only what the store holds."),
    allow_unverified: bool = typer.Option(False, "--allow-unverified",
                                          help="Publish cards whose golden check could not run, marked so."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore the ledger: verify every step again."),
    with_assets: bool = typer.Option(False, "--with-assets", help="Also publish the verified asset files."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, max=64),
    report: list[str] | None = typer.Option(None, "--report", help="json:PATH or junit:PATH (repeatable)."),
    fmt: PublishFormat = typer.Option(PublishFormat.text, "--format", "-f"),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Gate every card on check, fetch, inspect and golden; publish the ones that pass, atomically."""
    from .assets import make_fetcher, store_for
    from .ledger import Ledger
    from .publish import Publisher, PublishOptions
    from .publishreport import render_annotations, render_json, render_junit, render_table
    from .runtimes.mslite_env import installed_env

    hub, card_paths = _card_paths(paths, config)
    targets = _report_targets(report or [])
    blob_store = store_for(hub, store)
    env = installed_env()
    identity = {"mindspore-lite": env.record["packages"]["mindspore_lite"]} if env else {}
    destination: Path | str = to if to and to.startswith("s3://") else Path(to) if to else hub.root / hub.publish_to
    options = PublishOptions(to=destination, offline=offline, allow_unverified=allow_unverified,
                             no_cache=no_cache, with_assets=with_assets, jobs=jobs)
    ledger = Ledger(blob_store.root / "ledger.sqlite")
    try:
        publisher = Publisher(hub, make_fetcher(hub, blob_store, offline=offline), ledger, options, identity)
        if sys.stderr.isatty():
            publisher.progress = lambda text: typer.echo(f"hubtool: {text}", err=True)
        result = publisher.run(card_paths)
    finally:
        ledger.close()
    for kind, path in targets:
        path.write_text(render_json(result) if kind == "json" else render_junit(result))
    rendered = {"json": render_json, "github": render_annotations}.get(fmt.value, render_table)(result)
    typer.echo(rendered)
    raise typer.Exit(EXIT_FINDINGS if result.held_back else EXIT_OK)


def _report_targets(specs: list[str]) -> list[tuple[str, Path]]:
    out = []
    for spec in specs:
        kind, _, path = spec.partition(":")
        if kind not in ("json", "junit") or not path:
            raise UsageError(f"--report {spec!r}: expected json:PATH or junit:PATH")
        out.append((kind, Path(path)))
    return out


runtime_app = typer.Typer(help="Manage model runtimes (MindSpore Lite in a CPython 3.7 env).",
                          no_args_is_help=True)
app.add_typer(runtime_app, name="runtime")


def _runtime_name(name: str) -> None:
    if name not in ("mindspore-lite", "mslite"):
        raise UsageError(f"unknown runtime {name!r}; hubtool manages: mindspore-lite")


@runtime_app.command("install")
@_handled
def runtime_install(
    name: str = typer.Argument("mindspore-lite", help="The runtime to install."),
    force: bool = typer.Option(False, "--force", help="Reinstall even if it is installed."),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Create the runtime's environment and install its pinned, hash-checked packages (idempotent)."""
    from .runtimes import mslite_env

    _runtime_name(name)
    env = mslite_env.install(_config(config, []), force=force, log=lambda m: typer.echo(f"hubtool: {m}", err=True))
    versions = ", ".join(f"{k} {v}" for k, v in sorted(env.record.get("packages", {}).items()))
    typer.echo(f"mindspore-lite runtime ready in {env.root} ({versions})")


@runtime_app.command("status")
@_handled
def runtime_status(
    fmt: AssetFormat = typer.Option(AssetFormat.text, "--format", "-f"),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Report each runtime: interpreter, environment, versions and health (a real import)."""
    import json

    from .runtimes import mslite_env

    report = mslite_env.status(_config(config, []))
    if fmt is AssetFormat.json:
        typer.echo(json.dumps({"runtimes": [report]}, indent=2, sort_keys=True))
    else:
        versions = ", ".join(f"{k} {v}" for k, v in sorted(report.get("versions", {}).items()))
        typer.echo(f"{report['runtime']}: {report['health']}")
        typer.echo(f"  interpreter: {report.get('interpreter') or 'none found'}")
        typer.echo(f"  environment: {report['env']}" + ("" if report["installed"] else " (not installed)"))
        if versions:
            typer.echo(f"  versions:    {versions}")
        if report.get("problem"):
            typer.echo(f"  problem:     {report['problem']}")
    raise typer.Exit(EXIT_OK if report["health"] == "ok" else EXIT_FINDINGS)


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print hubtool's version.")) -> None:
    if version:
        typer.echo(f"hubtool {__version__}")
        raise typer.Exit(EXIT_OK)


def main() -> None:
    """Console-script entry point."""
    app()
