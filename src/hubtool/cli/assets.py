"""`hubtool fetch`, `mirror`, `inspect` and `upgrade-ms`: assets in, mirrors out, files explained."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import UsageError
from .app import app, exit_with, handled
from .common import CONFIG_HELP, FORMAT_HELP, AssetFormat, hub_cards, shard_option
from .progress import TerminalProgress

if TYPE_CHECKING:
    from ..assets.mirror import AssetResult


@app.command()
@handled
def fetch(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    offline: bool = typer.Option(False, "--offline", help="Use only what the store holds."),
    keep_bad: bool = typer.Option(False, "--keep-bad", help="Keep mismatching downloads in quarantine/."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, max=64, help="Transfers at once."),
    fmt: AssetFormat = typer.Option(AssetFormat.text, "--format", "-f", help=FORMAT_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Bring every asset of the cards into the store, verified by SHA-256."""
    from ..assets.mirror import fetch_cards
    from ..assets.sources import fetcher_for
    from ..assets.store import local_store

    hub, cards, problems = hub_cards(paths, config)
    progress = TerminalProgress(bars=True)
    fetcher = fetcher_for(hub, local_store(hub, store), offline=offline, keep_bad=keep_bad, progress=progress)
    with progress.shown():
        results = fetch_cards(cards, fetcher, jobs=jobs)
    _render(results, fmt, unparsed=bool(problems))


@app.command()
@handled
def mirror(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    to: str = typer.Option(..., "--to", help="Mirror folder, or s3://bucket/prefix (blobs/ + manifest.json)."),
    store: Path | None = typer.Option(None, "--store", help="Local store to copy from before downloading."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, max=64, help="Transfers at once."),
    shard: str | None = typer.Option(None, "--shard", help="I/N or ci: this shard's cards only; its manifest is "
                                                           "manifests/shard-I-of-N.json."),
    merge: bool = typer.Option(False, "--merge", help="Write manifest.json from the shards' manifests "
                                                      "(no transfer)."),
    fmt: AssetFormat = typer.Option(AssetFormat.text, "--format", "-f", help=FORMAT_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Copy every asset of the hub into a static mirror folder, verified, resumable, idempotent."""
    from ..assets.mirror import MANIFEST, mirror_hub
    from ..assets.mirrormerge import merge_mirror, shard_manifest
    from ..assets.store import local_store

    if shard is not None and merge:
        raise UsageError("--shard and --merge are separate jobs: the shards first, then one --merge")
    picked = shard_option(shard)
    hub, cards, problems = hub_cards(paths, config, picked)
    if merge:
        done = merge_mirror(cards, hub, to)
        typer.echo(f"{done.where}: manifest.json written for {done.cards} cards from {done.manifests} shard "
                   "manifests")
        exit_with(bool(problems))
    name = shard_manifest(picked) if picked is not None else MANIFEST
    progress = TerminalProgress(bars=True)
    with progress.shown():
        results = mirror_hub(cards, hub, to, local=local_store(hub, store), jobs=jobs, progress=progress,
                             manifest_name=name)
    _render(results, fmt, unparsed=bool(problems))


def _render(results: list[AssetResult], fmt: AssetFormat, *, unparsed: bool) -> None:
    """Print the asset results; exit 1 when a card did not parse or an asset failed."""
    from ..assets.report import render_assets

    typer.echo(render_assets(results, fmt.value))
    exit_with(unparsed or any(not r.ok for r in results))


@app.command("upgrade-ms")
@handled
def upgrade_ms_cmd(
    source: Path = typer.Argument(..., help="A MindSpore Lite 1.0 / 1.1 .ms file."),
    dest: Path | None = typer.Argument(None, help="Where to write the MSL2 file (a new file name)."),
    in_place: bool = typer.Option(False, "--in-place", help="Replace the input file with its translation."),
) -> None:
    """Translate a MindSpore Lite 1.0/1.1 model to the MSL2 format that runtime 2.x loads."""
    from .quickupgrade import run_upgrade  # the command without typer, when it can be read so

    done = run_upgrade(source, dest, in_place=in_place)
    for line in done.err:
        typer.echo(line, err=True)
    if done.out is not None:
        typer.echo(done.out)
    raise typer.Exit(done.code)
