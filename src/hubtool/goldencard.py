"""Golden inference for a card: choose the asset, fetch it, inspect it, run its golden set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .card import Asset, assets_from
from .config import HubConfig
from .download import Fetcher
from .errors import AssetError, OfflineError, RuntimeUnavailable, WorkerError
from .golden import GoldenResult, run_golden
from .goldenset import GoldenSetError, load_set, set_for_card
from .imaging import ImageError, Preprocess
from .inspect import inspect_file
from .runtimes import NOT_RUNNABLE, RUNTIME_FOR_FORMAT
from .store import HEX64


@dataclass(frozen=True)
class GoldenPlan:
    """What golden inference would do for a card, decided offline."""

    set_name: str | None
    asset: Asset | None
    reason: str = ""  # why nothing will run, when set_name or asset is None


def plan(metadata: dict[str, Any], config: HubConfig) -> GoldenPlan:
    set_name = set_for_card(metadata, config.default_golden_sets)
    raw = metadata.get("golden")
    golden: dict[str, Any] = raw if isinstance(raw, dict) else {}
    assets = assets_from(metadata)
    if isinstance(golden.get("asset"), int):
        chosen = [a for a in assets if a.index == golden["asset"]]
    else:
        chosen = [a for a in assets if a.file_format in RUNTIME_FOR_FORMAT]
    if not chosen:
        formats = ", ".join(sorted({a.file_format or "?" for a in assets})) or "none"
        only_inert = all(a.file_format in NOT_RUNNABLE for a in assets)
        why = (f"no runnable asset: {formats} assets are verified by hash and inspection only"
               if only_inert else f"no asset in a format with a runtime (formats: {formats})")
        return GoldenPlan(set_name, None, why)
    if set_name is None:
        return GoldenPlan(None, chosen[0], "no golden set configured for this card")
    return GoldenPlan(set_name, chosen[0])


def golden_for_card(metadata: dict[str, Any], config: HubConfig, fetcher: Fetcher, *,
                    timeout: float = 120.0) -> GoldenResult:
    """The golden verdict of one card's metadata; every outcome is a GoldenResult, never an exception."""
    p = plan(metadata, config)
    if p.set_name is None or p.asset is None:
        return GoldenResult("skipped", p.reason, p.set_name)
    asset = p.asset
    details: dict[str, Any] = {"asset": asset.index, "file-format": asset.file_format, "sha256": asset.sha256}
    try:
        gset = load_set(config.root, p.set_name)
        if not asset.link or not asset.sha256 or not HEX64.fullmatch(asset.sha256):
            return GoldenResult("failed", "the asset entry has no valid link or SHA-256", p.set_name, details=details)
        fetcher.fetch(asset.link, asset.sha256)
    except GoldenSetError as exc:
        return GoldenResult("failed", exc.message, p.set_name, details=details)
    except OfflineError as exc:
        return GoldenResult("offline", f"not verified (offline, asset not in store): {exc.message}", p.set_name,
                            details=details)
    except AssetError as exc:
        return GoldenResult("failed", f"the asset could not be fetched ({exc.kind}): {exc.message}", p.set_name,
                            details=dict(details, fetch=exc.kind))
    path = fetcher.store.blob_path(asset.sha256)
    facts = inspect_file(path)
    details["inspect"] = facts.description
    if asset.file_format == "mslite" and facts.kind != "mslite":
        return GoldenResult("failed", f"the asset is {facts.description}, not a .ms model", p.set_name,
                            details=details)
    if asset.file_format == "mslite" and facts.ms_format != "MSL2":
        translated = _translate(fetcher, asset.sha256, facts.description, p.set_name, details)
        if isinstance(translated, GoldenResult):
            return translated
        path = translated
    overrides = preprocess_overrides(metadata)
    pre = Preprocess.from_dict(gset.preprocess).merged(dict(overrides))
    result = _run(gset, pre, path, str(asset.file_format), timeout, details)
    if "translated" in details:
        t = details["translated"]
        result.message += (f" (on an MSL2 translation of the {t['from-version']} file by hubtool's "
                           f"legacy translator {t['translator']}, sha256 {t['sha256'][:12]}…)")
    return result


def _translate(fetcher: Fetcher, sha256: str, description: str, set_name: str,
               details: dict[str, Any]) -> Path | GoldenResult:
    """Runtime 2.0.0 cannot load 1.0/1.1 files: translate them (once, into the store) and test that."""
    from .legacy.flatread import LegacyFormatError
    from .legacy.store_translation import translate_into_store
    from .legacy.upgrade import TranslationRefused

    try:
        done = translate_into_store(fetcher.store, sha256)
    except (TranslationRefused, LegacyFormatError) as exc:
        return GoldenResult("failed", f"{description}; hubtool's translator cannot revive it: {exc.message}",
                            set_name, details=details)
    version = description.split("built by ", 1)[-1].split(" (")[0]
    details["translated"] = {"from": sha256, "from-version": version, "sha256": done.sha256,
                             "translator": done.translator}
    return done.path


def preprocess_overrides(metadata: dict[str, Any]) -> dict[str, Any]:
    golden = metadata.get("golden")
    overrides = golden.get("preprocess") if isinstance(golden, dict) else None
    return dict(overrides) if isinstance(overrides, dict) else {}


def _run(gset: Any, pre: Preprocess, path: Path, file_format: str, timeout: float,
         details: dict[str, Any]) -> GoldenResult:
    from .runtimes.sessions import open_session

    try:
        with open_session(path, file_format, timeout=timeout) as session:
            result = run_golden(gset, pre, session)
    except RuntimeUnavailable as exc:
        return GoldenResult("unavailable", exc.message, gset.name, details=details)
    except WorkerError as exc:
        return GoldenResult("failed", f"the runtime failed on the model ({exc.kind}): {exc.message}", gset.name,
                            details=details)
    except ImageError as exc:
        return GoldenResult("failed", exc.message, gset.name, details=details)
    result.details.update(details)
    return result
