"""What several commands share: finding the hub, its cards, and the output formats.

No click or typer here: the pre-commit fast path (`quickcheck`) uses it too.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..cards.card import Card
    from ..cards.shard import Shard
    from ..config import HubConfig
    from ..diagnostics import Diagnostic


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


class AssetFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


CONFIG_HELP = "The hub's settings (default: hub/hub.yaml in the nearest folder above the cards that has one)."
FORMAT_HELP = "Output format."


def hub_config(config: Path | None, paths: list[Path]) -> HubConfig:
    """--config, else the hub.yaml above the first path (or the working directory)."""
    from ..config import load_config

    if config is not None and not config.is_file():
        raise UsageError(f"no such configuration file: {config}")
    start = paths[0] if paths else Path.cwd()
    return load_config(config, start=start if start.is_dir() else start.parent)


def existing(paths: list[Path]) -> list[Path]:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    return paths


def card_paths(paths: list[Path] | None, config: Path | None) -> tuple[HubConfig, list[Path]]:
    """The hub, and the card files or folders given (default: the hub's cards/)."""
    given = existing(list(paths or []))
    hub = hub_config(config, given)
    return hub, given or [hub_cards_dir(hub)]


def hub_cards_dir(hub: HubConfig) -> Path:
    """The hub's cards folder, or a usage error that says what is missing (a hub.yaml, or the folder)."""
    folder = hub.root / hub.cards_dir
    if folder.is_dir():
        return folder
    if hub.path is None:
        raise UsageError(f"no hub here: no hub/hub.yaml in {Path.cwd()} or above it, and no {hub.cards_dir}/ "
                         "folder", hint="run hubtool in a hub (a folder with hub/hub.yaml and cards/), or name "
                                        "the cards to work on (and --config for their hub.yaml)")
    raise UsageError(f"the hub's cards folder {folder} does not exist",
                     hint=f"create it, or set `cards:` in {hub.path}")


def report_unparsed(problems: list[Diagnostic]) -> None:
    for d in problems:
        sys.stderr.write(f"{d.path}:{d.line}:{d.col}: {d.code} skipped, the card does not parse: {d.message}\n")


def publish_destination(to: str | None, hub: HubConfig) -> Path | str:
    """`publish --to`: a folder or s3://bucket/prefix; by default publish.to in hub.yaml."""
    if to is None:
        return hub.root / hub.publish_to
    return to if to.startswith("s3://") else Path(to)


def report_targets(specs: list[str]) -> list[tuple[str, Path]]:
    """`publish --report json:PATH|junit:PATH`, each as (kind, path); a UsageError for anything else."""
    out = []
    for spec in specs:
        kind, _, path = spec.partition(":")
        if kind not in ("json", "junit") or not path:
            raise UsageError(f"--report {spec!r}: expected json:PATH or junit:PATH")
        out.append((kind, Path(path)))
    return out


def shard_option(text: str | None) -> Shard | None:
    """--shard I/N|ci, refused (a UsageError) before any work."""
    from ..cards.shard import parse_shard

    return parse_shard(text, os.environ) if text is not None else None


def hub_cards(paths: list[Path] | None, config: Path | None,
              picked: Shard | None = None) -> tuple[HubConfig, list[Card], list[Diagnostic]]:
    """The hub, its parsed cards, and the cards that do not parse (reported on stderr); with a shard,
    only that shard's cards (cards/shard.py), said on stderr."""
    from ..cards.listing import discover
    from ..cards.places import hub_path
    from ..cards.validate import load_cards

    hub, given = card_paths(paths, config)
    if picked is not None:
        found = discover(given)
        given = [path for path in found if picked.takes(hub_path(path, hub.root))]
        sys.stderr.write(f"hubtool: shard {picked}: {len(given)} of {len(found)} cards\n")
    cards, problems = load_cards(given, hub)
    report_unparsed(problems)
    return hub, cards, problems
