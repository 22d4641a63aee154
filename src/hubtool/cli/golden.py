"""`hubtool golden`: each card's model on its golden images, in its real runtime."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .. import cancel
from .app import app, exit_with, handled
from .common import CONFIG_HELP, FORMAT_HELP, hub_cards, shard_option
from .progress import TerminalProgress

if TYPE_CHECKING:
    from ..config import HubConfig
    from ..durable import JSONObject
    from ..golden.card import GoldenRunner
    from ..golden.inference import GoldenResult


class GoldenFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"


@app.command()
@handled
def golden(
    paths: list[Path] | None = typer.Argument(None, help="Cards or folders (default: the hub's cards/)."),
    store: Path | None = typer.Option(None, "--store", help="Blob store folder."),
    offline: bool = typer.Option(False, "--offline", help="Use only what the store holds."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds a runtime request may take."),
    fmt: GoldenFormat = typer.Option(GoldenFormat.text, "--format", "-f", help=FORMAT_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    html: Path | None = typer.Option(None, "--html", help="Also write the golden gallery as HTML pages into DIR "
                                                          "(for reviewing a change without publishing)."),
    shard: str | None = typer.Option(None, "--shard", help="Only shard I of N of the cards (I/N, from 1), or `ci` "
                                                            "for GitLab's or Slurm's own variables."),
) -> None:
    """Run each card's model on its golden images in its real runtime and judge every case."""
    from ..runtimes.mslite.spawn import prespawn
    from ..runtimes.spawn import discard_spares, spares

    if not spares():  # cli.main started one already when it saw the command; this is for other callers
        prespawn(replenish=True)  # the worker's start (~0.3 s of imports) overlaps hubtool's; unused, it is killed
    try:
        _golden(paths, store, offline, timeout, fmt, config, html, shard)
    finally:
        discard_spares()


def _golden(paths: list[Path] | None, store: Path | None, offline: bool, timeout: float, fmt: GoldenFormat,
            config: Path | None, html: Path | None, shard: str | None) -> None:
    import numpy  # noqa: F401  # every model run needs it: a missing extra is named here, before any work

    from ..assets.sources import fetcher_for
    from ..assets.store import local_store
    from ..golden.card import GoldenRunner
    from ..golden.report import render

    hub, cards, problems = hub_cards(paths, config, shard_option(shard))
    progress = TerminalProgress()
    fetcher = fetcher_for(hub, local_store(hub, store), offline=offline, progress=progress)
    runner = GoldenRunner(hub, fetcher, timeout=timeout)
    todo = [card for card in cards if not card.is_twin]
    runner.expect([runner.plan(card.metadata) for card in todo])
    results = []
    for i, card in enumerate(todo, 1):
        progress.status(f"golden {i}/{len(todo)}: {card.display}")
        results.append((card.display, runner.run(card.metadata)))
        cancel.note("golden", f"{len(results)} of {len(todo)} cards were golden-tested")
    typer.echo(render(results, fmt.value))
    if html is not None:
        _write_gallery(html, hub, [(c.display, c.metadata) for c in todo], results, runner)
    exit_with(bool(problems) or any(r.status not in ("passed", "skipped") for _, r in results))


def _write_gallery(folder: Path, hub: HubConfig, cards: list[tuple[str, JSONObject]],
                   results: list[tuple[str, GoldenResult]], runner: GoldenRunner) -> None:
    from ..durable import write_atomic
    from ..publish.catalog import render_golden

    tested = [(card, metadata, result) for (card, metadata), (_, result) in zip(cards, results, strict=True)]
    for rel, data in render_golden(tested, hub_name=hub.name, sets=runner.sets):
        write_atomic(folder / rel, data, durable=False)  # a review artifact, rewritten by the next run
    typer.echo(f"golden gallery: {folder / 'index.html'}", err=True)
