"""`hubtool publish`, and `hubtool published show|gc` for what a publish wrote."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import UsageError
from .app import app, exit_with, handled
from .common import (
    CONFIG_HELP,
    FORMAT_HELP,
    TextOrJson,
    card_paths,
    hub_config,
    publish_destination,
    report_targets,
    shard_option,
)
from .progress import TerminalProgress
from .quickpublish import replay_missed

if TYPE_CHECKING:
    from ..cards.shard import Shard


class PublishFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


# long: one parameter per option (typer's idiom); the body is a dozen lines
@app.command()
@handled
def publish(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    to: str | None = typer.Option(None, "--to", help="Folder or s3://bucket/prefix (default: publish.to in hub.yaml)."),
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    offline: bool = typer.Option(False, "--offline", help="No network: use only what the store holds."),
    allow_unverified: bool = typer.Option(False, "--allow-unverified",
                                          help="Publish cards whose golden check could not run, marked so."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore the ledger: verify every step again."),
    with_assets: bool = typer.Option(False, "--with-assets", help="Also publish the verified asset files."),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, max=64, help="Transfers at once."),
    ledger: str | None = typer.Option(None, "--ledger", help="A ledger shared by every machine publishing this "
                                                             "hub (a folder or s3://bucket/prefix): steps another "
                                                             "machine passed are not run again."),
    shard: str | None = typer.Option(None, "--shard", help="I/N or ci: run the steps of this shard's cards and "
                                                           "record their outcomes in --ledger; commit nothing."),
    merge: bool = typer.Option(False, "--merge", help="Replay every card's outcome the shards recorded in "
                                                      "--ledger (runs no step), then commit."),
    executor: str = typer.Option("local", "--executor", help="local, or dask://HOST:PORT: one task per card on "
                                                              "that Dask cluster (pip install 'hubtool[dask]')."),
    report: list[str] | None = typer.Option(None, "--report", help="json:PATH or junit:PATH (repeatable)."),
    fmt: PublishFormat = typer.Option(PublishFormat.text, "--format", "-f", help=FORMAT_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Gate every card on check, fetch, inspect and golden; publish the ones that pass, atomically."""
    from ..publish.pipeline import publish_hub
    from ..publish.report import printed, write_reports
    from ..publish.runs import PublishOptions

    if paths and paths[0] == Path("gc") and not Path("gc").exists():
        raise UsageError("`publish gc` is `hubtool published gc --to ...` (publish takes cards and folders)")
    spec = _sharding(shard, merge, ledger, with_assets, executor)
    hub, given = card_paths(paths, config)
    targets = report_targets(report or [])
    options = PublishOptions(to=publish_destination(to, hub), offline=offline, allow_unverified=allow_unverified,
                             no_cache=no_cache, with_assets=with_assets, jobs=jobs, ledger=ledger, shard=spec,
                             merge=merge, executor=executor)
    result = publish_hub(given, hub, options, store=store, progress=TerminalProgress(), replay=not replay_missed())
    write_reports(result, targets)
    for text in printed(result, fmt.value):
        typer.echo(text)
    exit_with(bool(result.held_back))


def _sharding(shard: str | None, merge: bool, ledger: str | None, with_assets: bool, executor: str) -> Shard | None:
    """--shard / --merge, refused before any work when they cannot mean what they say."""
    from ..publish.executors import parse_executor

    if merge and parse_executor(executor) is not None:
        raise UsageError("--merge runs no step: --executor has nothing to send")
    if shard is not None and merge:
        raise UsageError("--shard and --merge are separate jobs: the shards first, then one --merge")
    if (shard is not None or merge) and ledger is None:
        raise UsageError(f"{'--merge' if merge else '--shard'} needs --ledger DIR|s3://bucket/prefix: the shards "
                         "record their outcomes there and the merge reads them")
    if merge and with_assets:
        raise UsageError("--merge --with-assets is not supported: the verified blobs are in the shards' stores",
                         hint="publish the index with --merge, or publish with --with-assets on one machine")
    return shard_option(shard)


published_app = typer.Typer(help="Look at or clean up a published hub (a folder or s3://bucket/prefix).",
                            no_args_is_help=True)
app.add_typer(published_app, name="published")
_TO_HELP = "The published hub: folder or s3://bucket/prefix (default: publish.to in hub.yaml)."


@published_app.command("show")
@handled
def published_show(
    to: str | None = typer.Option(None, "--to", help=_TO_HELP),
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help=FORMAT_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """The newest published generation and its cards (on S3, its index is checked against its digest)."""
    import json

    from ..publish.pipeline import target_for
    from ..publish.report import render_published

    hub = hub_config(config, [])
    found = target_for(publish_destination(to, hub), hub).latest()
    if found is None:
        raise UsageError(f"nothing is published at {publish_destination(to, hub)}")
    typer.echo(json.dumps(found.index, indent=2, sort_keys=True) if fmt is TextOrJson.json
               else render_published(found))


@published_app.command("gc")
@handled
def published_gc(
    to: str | None = typer.Option(None, "--to", help=_TO_HELP),
    keep: int = typer.Option(3, "--keep", min=1, help="Generations to keep (the newest ones)."),
    grace_hours: float = typer.Option(24.0, "--grace-hours", min=0.0,
                                      help="Keep anything younger than this, whatever references it."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be removed; remove nothing."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Remove old generations and what only they referenced (S3: also multipart uploads older than the grace
    period). Safe beside running publishes: what they are writing or re-using is leased, never removed."""
    from ..publish.pipeline import target_for

    hub = hub_config(config, [])
    target = target_for(publish_destination(to, hub), hub)
    done = target.gc(keep=keep, grace_seconds=grace_hours * 3600, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for name in done.removed:
        typer.echo(f"{verb} {name}")
    for upload in done.aborted:
        typer.echo(f"{'would abort' if dry_run else 'aborted'} {upload}")
    typer.echo(f"{len(done.removed)} objects {'would be removed (dry run)' if dry_run else 'removed'}, "
               f"{len(done.aborted)} stale uploads; the newest {keep} generations are kept")
