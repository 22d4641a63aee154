"""`hubtool store verify` and `hubtool store gc`: looking after the blob store (verify: local or s3://)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import UsageError
from .app import app, exit_with, handled
from .common import CONFIG_HELP, card_paths, hub_config, report_unparsed
from .progress import TerminalProgress

if TYPE_CHECKING:
    from ..assets.blobstore import BlobStore
    from ..assets.store import DirectoryStore

store_app = typer.Typer(help="Look after the blob store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("verify")
@handled
def store_verify(
    store: str | None = typer.Option(None, "--store", help="Blob store folder, or s3://bucket/prefix."),
    repair: bool = typer.Option(False, "--repair", help="Remove blobs whose content does not match their name."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Re-hash every blob; report (and with --repair remove) the ones that do not match their name."""
    from ..assets.maintenance import BadBlob, Unreadable, strangers, verify_blobs
    from ..assets.store import local_store

    hub = hub_config(config, [])
    blobs: BlobStore
    if store is not None and store.startswith("s3://"):  # a Path would fold s3:// into s3:/ (a local folder)
        from ..assets.s3.blobs import S3BlobStore
        from ..assets.s3.client import S3Location, client_for

        blobs = S3BlobStore(S3Location.parse(store), client_for(hub.object_store))
    else:
        blobs = _existing(local_store(hub, Path(store) if store else None))
    count = bad = unread = 0
    progress = TerminalProgress(bars=True)
    with progress.shown():
        for found in verify_blobs(blobs, repair=repair, progress=progress):
            count += 1
            if isinstance(found, BadBlob):
                bad += 1
                typer.echo(f"CORRUPT {found.info.location}: content hashes to {found.actual}"
                           + (" (removed)" if found.removed else ""))
            elif isinstance(found, Unreadable):  # not known to be wrong: never removed
                unread += 1
                typer.echo(f"UNREADABLE {found.info.location}: {found.why}")
    odd = list(strangers(blobs))
    for stranger in odd:  # never removed, even with --repair: hubtool did not put it there
        typer.echo(f"STRAY {stranger.path}: {stranger.why} (not hubtool's; remove it by hand)")
    typer.echo(f"{count} blobs verified: {bad} corrupt" + (f", {unread} unreadable" if unread else "")
               + (f"; {len(odd)} stray entries" if odd else ""))
    exit_with((bad > 0 and not repair) or bool(odd) or unread > 0)


@store_app.command("gc")
@handled
def store_gc(
    paths: list[Path] | None = typer.Argument(None, help="Cards whose assets are kept (default: the hub's)."),
    store: str | None = typer.Option(None, "--store", help="Blob store folder."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be removed."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Remove blobs that no card references (and temp files of processes that are gone)."""
    from ..assets.maintenance import collect_garbage
    from ..assets.mirror import referenced_digests
    from ..assets.store import local_store
    from ..cards.validate import load_cards

    if store is not None and store.startswith("s3://"):
        raise UsageError("store gc collects a local store only; an s3:// mirror or hub is collected by "
                         "`hubtool published gc --to s3://...`")
    hub, given = card_paths(paths, config)
    cards, problems = load_cards(given, hub)
    if problems:
        report_unparsed(problems)
        raise UsageError("some cards do not parse: refusing to collect garbage that they might reference")
    done = collect_garbage(_existing(local_store(hub, Path(store) if store else None)), referenced_digests(cards),
                           dry_run=dry_run)
    for info in done.unreferenced:
        typer.echo(f"{'would remove' if dry_run else 'removed'} {info.digest} ({info.size:,} B)")
    typer.echo(f"{len(done.unreferenced)} unreferenced blobs {'found' if dry_run else 'removed'}; "
               f"{done.stale_temps} stale temp files removed"
               + (f"; {done.strays} stray entries under blobs/ left alone (see `hubtool store verify`)"
                  if done.strays else ""))


def _existing(store: DirectoryStore) -> DirectoryStore:
    """The store, if its folder is there: a mistyped --store said "0 blobs verified: 0 corrupt", which reads as
    a clean bill of health for a store that was never looked at."""
    if not store.root.is_dir():
        what = "not a folder" if store.root.exists() else "not there"
        raise UsageError(f"no store at {store.root}: it is {what}",
                         hint="name the store with --store (or HUBTOOL_HOME); `hubtool fetch` creates one")
    return store
