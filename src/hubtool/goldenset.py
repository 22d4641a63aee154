"""Golden sets: hub/golden/<set>/golden.yaml, validated, with its images and reference outputs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import HubtoolError
from .yamlfile import read_validated

GOLDEN_DIR = Path("hub") / "golden"


class GoldenSetError(HubtoolError):
    kind = "golden-set"


@dataclass(frozen=True)
class Case:
    image: str
    expect: str
    top_k: int
    atol: float | None
    rtol: float | None
    why: str = ""


@dataclass(frozen=True)
class GoldenSet:
    name: str
    folder: Path
    images_dir: Path
    labels: tuple[str, ...]
    preprocess: dict[str, Any]
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
    raw = doc.data
    images_dir = (folder / raw.get("images", ".")).resolve()
    labels = _labels(folder, raw["labels"], path)
    default_k = int(raw.get("top-k", 1))
    cases = []
    for i, item in enumerate(raw["cases"]):
        where = doc.values.get(f"/cases/{i}")
        if item["expect"] not in labels:
            raise GoldenSetError(f"{path}:{where.line if where else 0}: case {item['image']!r} expects "
                                 f"{item['expect']!r}, which is not one of the labels")
        cases.append(Case(item["image"], item["expect"], int(item.get("top-k", default_k)),
                          item.get("atol", raw.get("atol")), item.get("rtol", raw.get("rtol")), item.get("why", "")))
    reference = None
    if raw.get("reference-outputs"):
        ref_path = folder / raw["reference-outputs"]
        try:
            reference = json.loads(ref_path.read_text())["outputs"]
        except (OSError, ValueError, KeyError) as exc:
            raise GoldenSetError(f"{ref_path}: cannot read the reference outputs ({exc})") from exc
    missing = [c.image for c in cases if not (images_dir / c.image).is_file()]
    if missing:
        raise GoldenSetError(f"{path}: images missing from {images_dir}: {', '.join(missing)}")
    return GoldenSet(name, folder, images_dir, tuple(labels), dict(raw["preprocess"]), tuple(cases),
                     float(raw.get("min-correct", 1.0)), reference,
                     _content_hash(path, folder, images_dir, cases, raw))


def _labels(folder: Path, labels: Any, path: Path) -> list[str]:
    if isinstance(labels, list):
        return [str(x) for x in labels]
    label_file = folder / labels
    try:
        return [line.strip() for line in label_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise GoldenSetError(f"{path}: cannot read the labels file {label_file}: {exc.strerror}") from exc


def _content_hash(path: Path, folder: Path, images_dir: Path, cases: list[Case], raw: dict[str, Any]) -> str:
    digest = hashlib.sha256(path.read_bytes())
    extra = [folder / raw["labels"]] if isinstance(raw["labels"], str) else []
    if raw.get("reference-outputs"):
        extra.append(folder / raw["reference-outputs"])
    for file in extra + [images_dir / c.image for c in cases]:
        digest.update(file.name.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def set_for_card(metadata: dict[str, Any], default_sets: dict[str, str]) -> str | None:
    """The card's golden set: its own `golden.set`, else the hub's default for its train-dataset."""
    golden = metadata.get("golden")
    if isinstance(golden, dict) and isinstance(golden.get("set"), str):
        return str(golden["set"])
    dataset = metadata.get("train-dataset")
    return default_sets.get(dataset) if isinstance(dataset, str) else None
