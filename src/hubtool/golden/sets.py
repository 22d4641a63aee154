"""Golden sets: hub/golden/<set>/golden.yaml, validated, with its images and reference outputs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ..durable import JSONObject, parse_json
from ..errors import GoldenSetError, SpecialFile
from ..textdecode import read_regular
from ..yamlfile import read_validated

GOLDEN_DIR = Path("hub") / "golden"
MAX_GOLDEN_FILE = 64 * 1024 * 1024  # an image, labels or reference outputs: far above any real one


class Case(NamedTuple):
    image: str
    expect: str
    top_k: int
    atol: float | None
    rtol: float | None
    why: str = ""


class GoldenSet(NamedTuple):
    name: str
    folder: Path
    images_dir: Path
    labels: tuple[str, ...]
    preprocess: JSONObject
    cases: tuple[Case, ...]
    min_correct: float
    reference: dict[str, list[float]] | None
    content_sha256: str  # over golden.yaml, labels, references and images: the ledger's key

    def image_path(self, case: Case) -> Path:
        return self.images_dir / case.image


def set_folder(hub_root: Path, name: str) -> Path:
    return hub_root / GOLDEN_DIR / name


def load_set(hub_root: Path, name: str) -> GoldenSet:
    """Read and validate a golden set; every problem is a GoldenSetError naming the file and line."""
    folder = set_folder(hub_root, name)
    path = folder / "golden.yaml"
    if "/" in name or name.startswith(".") or not path.is_file():
        raise GoldenSetError(f"golden set '{name}' does not exist ({path} is missing)",
                             hint="create hub/golden/<set>/golden.yaml, or name an existing set")
    doc = read_validated(path, "golden", GoldenSetError)
    raw: dict[str, Any] = doc.data  # type: ignore[assignment]  # validated against schemas/golden.schema.json
    golden = (hub_root / GOLDEN_DIR).resolve()  # what every file the set names must be inside
    images_dir = _inside(golden, folder / raw.get("images", "."), "the images folder", path)
    labels = _labels(golden, folder, raw["labels"], path)
    default_k = int(raw.get("top-k", 1))
    cases = []
    for i, item in enumerate(raw["cases"]):
        where = doc.values.get(f"/cases/{i}")
        if item["expect"] not in labels:
            raise GoldenSetError(f"{path}:{where.line if where else 0}: case {item['image']!r} expects "
                                 f"{item['expect']!r}, which is not one of the labels")
        if Path(item["image"]).is_absolute() or ".." in Path(item["image"]).parts:
            raise GoldenSetError(f"{path}:{where.line if where else 0}: case {item['image']!r} leaves the images "
                                 "folder", hint="name an image inside the set's images folder")
        cases.append(Case(item["image"], item["expect"], int(item.get("top-k", default_k)),
                          item.get("atol", raw.get("atol")), item.get("rtol", raw.get("rtol")), item.get("why", "")))
    reference = None
    if raw.get("reference-outputs"):
        ref_path = _inside(golden, folder / raw["reference-outputs"], "the reference outputs", path)
        try:
            outputs: Any = parse_json(golden_file(ref_path, "the reference outputs"))  # checked by the exceptions
            reference = outputs["outputs"]
        except (ValueError, KeyError, TypeError) as exc:
            raise GoldenSetError(f"{ref_path}: cannot read the reference outputs ({exc})") from exc
    missing = [c.image for c in cases if not _inside(golden, images_dir / c.image, "the image", path).exists()]
    if missing:
        raise GoldenSetError(f"{path}: images missing from {images_dir}: {', '.join(missing)}")
    return GoldenSet(name, folder, images_dir, tuple(labels), dict(raw["preprocess"]), tuple(cases),
                     float(raw.get("min-correct", 1.0)), reference,
                     _content_hash(path, folder, images_dir, cases, raw))


def _inside(golden: Path, named: Path, what: str, path: Path) -> Path:
    """`named` resolved, if it is in `golden`, the hub's golden folder (resolved): a golden.yaml comes with the
    pull request CI checks, and one naming ../../../etc/passwd as its labels put that file's lines in the
    published catalog."""
    resolved = named.resolve()
    if not resolved.is_relative_to(golden):
        raise GoldenSetError(f"{path}: {what} {named} is outside the hub's golden folder {golden}",
                             hint="keep a golden set's files under hub/golden/")
    return resolved


def _labels(golden: Path, folder: Path, labels: Any, path: Path) -> list[str]:
    if isinstance(labels, list):
        return [str(x) for x in labels]
    label_file = _inside(golden, folder / labels, "the labels file", path)
    try:
        text = golden_file(label_file, "the labels file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GoldenSetError(f"{path}: the labels file {label_file} is not UTF-8 ({exc.reason})") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def golden_file(path: Path, what: str) -> bytes:
    """A golden set's file, if it is a regular file of a sane size (a FIFO or /dev/zero would hang or never end)."""
    try:
        data = read_regular(path, MAX_GOLDEN_FILE)
    except SpecialFile as exc:
        raise GoldenSetError(f"{what} {exc}", hint="golden sets hold regular files only") from exc
    except OSError as exc:
        raise GoldenSetError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if isinstance(data, int):
        raise GoldenSetError(f"{what} {path} is {data:,} bytes, over the limit of {MAX_GOLDEN_FILE:,}")
    return data


def _content_hash(path: Path, folder: Path, images_dir: Path, cases: list[Case], raw: dict[str, Any]) -> str:
    digest = hashlib.sha256(golden_file(path, "the golden set"))
    extra = [folder / raw["labels"]] if isinstance(raw["labels"], str) else []
    if raw.get("reference-outputs"):
        extra.append(folder / raw["reference-outputs"])
    for file in extra + [images_dir / c.image for c in cases]:
        data = golden_file(file, "the golden image" if file.parent == images_dir else "the file")
        digest.update(file.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def set_for_card(metadata: JSONObject, default_sets: Mapping[str, str]) -> str | None:
    """The card's golden set: its own `golden.set`, else the hub's default for its train-dataset."""
    golden = metadata.get("golden")
    if isinstance(golden, dict) and isinstance(golden.get("set"), str):
        return str(golden["set"])
    dataset = metadata.get("train-dataset")
    return default_sets.get(dataset) if isinstance(dataset, str) else None


class GoldenSets:
    """The hub's golden sets, each read (and its images hashed) once per run; failures are remembered too."""

    def __init__(self, hub_root: Path) -> None:
        self.hub_root = hub_root
        self._loaded: dict[str, GoldenSet | GoldenSetError] = {}

    def get(self, name: str) -> GoldenSet:
        """The set `name`; GoldenSetError when it is missing or invalid."""
        found = self._loaded.get(name)
        if found is None:
            try:
                found = load_set(self.hub_root, name)
            except GoldenSetError as exc:
                found = exc
            self._loaded[name] = found
        if isinstance(found, GoldenSetError):
            raise found
        return found

    def problem(self, name: str) -> str | None:
        """Why the set `name` cannot be used, or None."""
        try:
            self.get(name)
        except GoldenSetError as exc:
            return exc.message
        return None


def fingerprint_files(hub_root: Path) -> list[Path]:
    """Every golden.yaml of the hub (part of what a card's check verdict depends on)."""
    return sorted((hub_root / GOLDEN_DIR).glob("*/golden.yaml"))
