"""Golden inference for a card: choose the asset, fetch it, inspect it, run its golden set."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..assets.fetcher import Fetcher
from ..assets.inspect import FileFacts, inspect_file
from ..assets.layout import HEX64
from ..cards.card import Asset, assets_from
from ..config import HubConfig
from ..durable import JSONObject
from ..errors import (
    AssetError,
    GoldenSetError,
    ImageError,
    LegacyFormatError,
    NetworkSourceError,
    OfflineError,
    RuntimeUnavailable,
    TranslationRefused,
    WorkerError,
)
from ..legacy.store_translation import translate_into_store
from ..runtimes.mindspore.client import start_ahead
from ..runtimes.mslite.spawn import start_ahead as mslite_start_ahead
from ..runtimes.protocol import Network, OpenOptions
from ..runtimes.registry import NOT_RUNNABLE, RUNTIME_FOR_FORMAT, open_session, runtime_for
from .imaging import Preprocess
from .inference import Details, GoldenResult, Translation, decode_ahead, run_golden
from .network import materialize, resolve_network
from .sets import GoldenSet, GoldenSets, set_for_card


@dataclass(frozen=True)
class GoldenPlan:
    """What golden inference would do for a card, decided offline."""

    set_name: str | None
    asset: Asset | None
    reason: str = ""  # why nothing will run, when set_name or asset is None
    network: Network | None = None  # a checkpoint's network
    broken: str = ""  # why the card's network cannot be used (a failed verdict, not a skip)


def preprocess_overrides(metadata: JSONObject) -> JSONObject:
    """The card's `golden.preprocess` overrides of its set's preprocessing ({} when none)."""
    golden = metadata.get("golden")
    overrides = golden.get("preprocess") if isinstance(golden, dict) else None
    return dict(overrides) if isinstance(overrides, dict) else {}


class GoldenRunner:
    """Golden verdicts of cards of one hub; each golden set is read once per runner."""

    def __init__(self, config: HubConfig, fetcher: Fetcher, *, sets: GoldenSets | None = None,
                 timeout: float = 120.0) -> None:
        self.config = config
        self.fetcher = fetcher
        self.sets = sets or GoldenSets(config.root)
        self.timeout = timeout
        self.mindspore_ahead = 0  # MindSpore models still to run (expect): the next worker starts while one runs
        self.mslite_ahead: int | None = None  # the same for MindSpore Lite (None: not told, spares as started)

    def expect(self, plans: list[GoldenPlan]) -> None:
        """The models this runner is about to run, in order: while MindSpore ones follow, workers start ahead."""
        runtimes = [runtime_for(str(p.asset.file_format)) for p in plans
                    if p.asset is not None and p.set_name is not None]
        self.mindspore_ahead = runtimes.count("mindspore")
        self.mslite_ahead = runtimes.count("mindspore-lite")

    def plan(self, metadata: JSONObject) -> GoldenPlan:
        set_name = set_for_card(metadata, self.config.default_golden_sets)
        raw = metadata.get("golden")
        chosen_index = raw.get("asset") if isinstance(raw, dict) else None
        assets = assets_from(metadata)
        if isinstance(chosen_index, int):
            chosen = [a for a in assets if a.index == chosen_index]
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
        if chosen[0].file_format != "ckpt":
            return GoldenPlan(set_name, chosen[0])
        try:
            network = resolve_network(metadata, self.config)
        except NetworkSourceError as exc:
            return GoldenPlan(set_name, chosen[0], network=None, broken=exc.message)
        if network is None:
            return GoldenPlan(set_name, None, "no network is named for this checkpoint, so it is verified by hash "
                              "and inspection only: give the card a network: (mindcv:<model>, or a repository "
                              "folder of the hub), or hub.yaml golden.networks")
        return GoldenPlan(set_name, chosen[0], network=network)

    def run(self, metadata: JSONObject, plan: GoldenPlan | None = None) -> GoldenResult:
        """The golden verdict of one card's metadata; every outcome is a GoldenResult, never an exception."""
        p = plan or self.plan(metadata)
        if p.set_name is None or p.asset is None:
            return GoldenResult("skipped", p.reason, p.set_name)
        asset = p.asset
        runtime = runtime_for(str(asset.file_format))
        if runtime == "mindspore":  # counted down whether or not a worker starts
            self.mindspore_ahead -= 1
            start_ahead(self.mindspore_ahead > 0, self.config.runtimes.mindspore_address_space)
        elif runtime == "mindspore-lite" and self.mslite_ahead is not None:
            self.mslite_ahead -= 1
            mslite_start_ahead(self.mslite_ahead > 0)
        details = Details(asset.index, asset.file_format, asset.sha256,
                          network=p.network.describe() if p.network else None)
        if p.broken:
            return GoldenResult("failed", f"the checkpoint's network cannot be used: {p.broken}", p.set_name,
                                details=details)
        try:
            gset = self.sets.get(p.set_name)
            if not asset.link or not asset.sha256 or not HEX64.fullmatch(asset.sha256):
                return GoldenResult("unavailable", "not verified: the asset entry has no valid link or SHA-256 "
                                    "(`hubtool check` says why)", p.set_name, details=details)
            self.fetcher.fetch(asset.link, asset.sha256)
        except GoldenSetError as exc:
            return GoldenResult("failed", exc.message, p.set_name, details=details)
        except OfflineError as exc:
            return GoldenResult("offline", f"not verified (offline, asset not in store): {exc.message}",
                                p.set_name, details=details)
        except AssetError as exc:  # the model never ran: not a verdict on it ("failed" means it ran and was wrong)
            details.fetch = exc.kind
            return GoldenResult("unavailable", f"not verified: the asset could not be fetched ({exc.kind}): "
                                f"{exc.message}", p.set_name, details=details)
        cloned = self._cloned(p, details)
        if isinstance(cloned, GoldenResult):
            return cloned
        return self._inspected(gset, asset, asset.sha256, metadata, cloned, details)

    def _cloned(self, plan: GoldenPlan, details: Details) -> GoldenPlan | GoldenResult:
        """The plan with its network's pinned repository checked out into the store (once)."""
        if plan.network is None or plan.network.repository is None:
            return plan
        try:
            network = materialize(plan.network, self.fetcher.store, self.config.policy, offline=self.fetcher.offline)
        except NetworkSourceError as exc:
            return GoldenResult("failed", f"the checkpoint's network cannot be used: {exc.message}", plan.set_name,
                                details=details)
        except OfflineError as exc:
            return GoldenResult("offline", f"not verified (offline, the network's repository is not in the store): "
                                f"{exc.message}", plan.set_name, details=details)
        except AssetError as exc:
            return GoldenResult("unavailable", f"not verified: the network's repository could not be cloned "
                                f"({exc.kind}): {exc.message}", plan.set_name, details=details)
        return dataclasses.replace(plan, network=network)

    def _inspected(self, gset: GoldenSet, asset: Asset, sha256: str, metadata: JSONObject, plan: GoldenPlan,
                   details: Details) -> GoldenResult:
        """Inspect the fetched blob, translate a legacy .ms file, then run the set on it."""
        path = self.fetcher.store.blob_path(sha256)
        facts = inspect_file(path)
        details.inspect = facts.description
        wanted = _KIND_OF_FORMAT.get(str(asset.file_format))
        if wanted is not None and facts.kind != wanted[0]:
            return GoldenResult("failed", f"the asset is {facts.description}, not {wanted[1]}", gset.name,
                                details=details)
        if asset.file_format == "mslite" and facts.ms_format != "MSL2":
            translated = self._translate(sha256, facts, gset.name, details)
            if isinstance(translated, GoldenResult):
                return translated
            path = translated
        pre = Preprocess.from_dict(gset.preprocess).merged(preprocess_overrides(metadata))
        runtime = self.config.runtimes
        options = OpenOptions(self.timeout, plan.network, _input_shape(pre, metadata),
                              runtime.mindspore_unsandboxed, runtime.mindspore_address_space)
        result = self._run(gset, pre, path, str(asset.file_format), options, details)
        if details.translated is not None:
            t = details.translated
            result.message += (f" (on an MSL2 translation of the {t.from_version} file by hubtool's "
                               f"legacy translator {t.translator}, sha256 {t.sha256[:12]}…)")
        return result

    def _translate(self, sha256: str, facts: FileFacts, set_name: str, details: Details) -> Path | GoldenResult:
        """Runtime 2.0.0 cannot load 1.0/1.1 files: translate them (once, into the store) and test that."""
        try:
            done = translate_into_store(self.fetcher.store, sha256)
        except (TranslationRefused, LegacyFormatError) as exc:
            return GoldenResult("failed", f"{facts.description}; hubtool's translator cannot revive it: "
                                f"{exc.message}", set_name, details=details)
        details.translated = Translation(sha256, facts.built_by or "", done.sha256, done.translator)
        return done.path

    def _run(self, gset: GoldenSet, pre: Preprocess, path: Path, file_format: str, options: OpenOptions,
             details: Details) -> GoldenResult:
        try:
            decoded = decode_ahead(gset)  # while a spare worker (runtimes.spawn) imports its runtime
            with open_session(path, file_format, options) as session:
                details.ran = session.ran()
                result = run_golden(gset, pre, session, decoded)
        except RuntimeUnavailable as exc:
            return GoldenResult("unavailable", exc.message, gset.name, details=details)
        except ModuleNotFoundError as exc:  # numpy or Pillow, imported only where images and arrays are made
            return GoldenResult("unavailable", f"golden inference needs hubtool's 'golden' extra ({exc.name} is "
                                "not installed): pip install 'hubtool[golden]'", gset.name, details=details)
        except WorkerError as exc:
            if exc.error_type == "NetworkMismatch" and options.network is not None:
                return GoldenResult("failed", mismatch_message(options.network, exc.details), gset.name,
                                    details=details)
            return GoldenResult("failed", f"the runtime failed on the model ({exc.kind}): {exc.message}",
                                gset.name, details=details)
        except ImageError as exc:
            return GoldenResult("failed", exc.message, gset.name, details=details)
        result.details = details
        return result


#: file-format -> the kind `inspect` must find in the bytes, and how to say it
_KIND_OF_FORMAT = {"mslite": ("mslite", "a .ms model"), "mindir": ("mindir", "a MindIR model"),
                   "ckpt": ("ckpt", "a MindSpore checkpoint")}


def _input_shape(pre: Preprocess, metadata: JSONObject) -> tuple[int, ...] | None:
    """A checkpoint's input (a network declares none): the set's size, else the card's input-shape [h, w, c]."""
    size: list[int] | None = list(pre.size) if pre.size is not None else None
    raw = metadata.get("input-shape")
    declared = [d for d in raw if isinstance(d, int) and d > 0] if isinstance(raw, list) else []
    if size is None and len(declared) == 3:
        size = declared[:2] if declared[2] == 3 else declared[1:]
    if size is None:
        return None
    image = (size[0], size[1], 3) if pre.layout == "NHWC" else (3, size[0], size[1])
    return (1, *image) if pre.batch else image


def mismatch_message(network: Network, details: dict[str, object]) -> str:
    """Why a checkpoint does not fit its network, before anything ran: missing names, other shapes."""
    parts = []
    missing, shapes = details.get("missing_count"), details.get("shape_count")
    if isinstance(missing, int) and missing:
        names = ", ".join(str(n) for n in _items(details.get("missing"))[:5])
        parts.append(f"{missing} of the network's {details.get('network')} parameters are not in the "
                     f"checkpoint ({names}{', ...' if missing > 5 else ''})")
    if isinstance(shapes, int) and shapes:
        shown = "; ".join(f"{d.get('name')}: network {d.get('network')}, checkpoint {d.get('checkpoint')}"
                          for d in _items(details.get("shapes"))[:3] if isinstance(d, dict))
        parts.append(f"{shapes} have another shape ({shown}{'; ...' if shapes > 3 else ''})")
    return (f"the checkpoint does not fit the network {network.describe()} ({network.origin}): "
            + "; ".join(parts or ["the worker did not say how"]) + "; nothing was run")


def _items(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
