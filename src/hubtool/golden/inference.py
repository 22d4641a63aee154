"""Golden inference: a golden set + preprocessing + a runtime session -> a verdict per case."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..durable import JSONObject
from ..runtimes.protocol import Session
from .imaging import Preprocess, input_size, load_rgb, to_tensor
from .sets import Case, GoldenSet

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy (~100 ms) loads where arrays are made


@dataclass(frozen=True)
class Translation:
    """The MSL2 translation of a 1.0/1.1 asset that a verdict was obtained on."""

    source: str  # the card's asset SHA-256
    from_version: str  # the release that wrote the original, e.g. "MindSpore Lite 1.0.0"
    sha256: str
    translator: str

    def as_dict(self) -> JSONObject:
        return {"from": self.source, "from-version": self.from_version, "sha256": self.sha256,
                "translator": self.translator}


@dataclass
class Details:
    """Which asset a verdict is about, and what happened to it before the runtime saw it."""

    asset: int
    file_format: str | None
    sha256: str | None
    fetch: str | None = None  # the failure's kind when the asset could not be fetched
    inspect: str | None = None  # what the file is, from its bytes
    translated: Translation | None = None
    network: str | None = None  # a checkpoint's network, as it was called
    ran: str | None = None  # what ran the model (runtime, version, sandbox)

    def as_dict(self) -> JSONObject:
        out: JSONObject = {"asset": self.asset, "file-format": self.file_format, "sha256": self.sha256}
        if self.fetch is not None:
            out["fetch"] = self.fetch
        if self.inspect is not None:
            out["inspect"] = self.inspect
        if self.translated is not None:
            out["translated"] = self.translated.as_dict()
        if self.network is not None:
            out["network"] = self.network
        if self.ran is not None:
            out["ran"] = self.ran
        return out


@dataclass(frozen=True)
class CaseResult:
    image: str
    expected: str
    passed: bool
    rank: int  # 1-based rank of the expected class
    top: list[tuple[str, float]]  # the top-k (at least 3) classes with their scores
    top_k: int
    tie: str = ""  # set when the expected class ties with another at its rank
    deviation: float | None = None  # max |output - reference| when a reference exists
    allowed: float | None = None
    message: str = ""


@dataclass
class GoldenResult:
    """The verdict on one card (or one model) against one golden set."""

    status: str  # passed | failed | skipped | unavailable | offline
    message: str = ""
    set_name: str | None = None
    cases: list[CaseResult] = field(default_factory=list)
    correct: int = 0
    required: int = 0
    details: Details | None = None

    @property
    def failed_cases(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]


#: images decoded before the runtime is ready (its worker starts meanwhile); the rest as they are run
DECODE_AHEAD = 64


def decode_ahead(gset: GoldenSet) -> dict[str, np.ndarray]:
    """The first images of the set, decoded (ImageError for one that is not an image)."""
    return {case.image: load_rgb(gset.image_path(case)) for case in gset.cases[:DECODE_AHEAD]}


def run_golden(gset: GoldenSet, pre: Preprocess, session: Session,
               decoded: dict[str, np.ndarray] | None = None) -> GoldenResult:
    """Preprocess every image, run it, and judge each case; the model's input is checked first.

    `decoded` holds images decode_ahead already read (each is used once, then dropped).
    """
    import numpy as np

    shapes = session.input_shapes()
    if len(shapes) != 1:
        return GoldenResult("failed", f"the model has {len(shapes)} inputs; golden sets feed one image",
                            gset.name)
    size = input_size(pre, shapes[0])
    if isinstance(size, str):
        return GoldenResult("failed", f"preprocessing does not fit the model: {size}", gset.name)
    results = []
    ahead = dict(decoded or {})
    for case in gset.cases:
        rgb = ahead.pop(case.image, None)
        tensor = to_tensor(load_rgb(gset.image_path(case)) if rgb is None else rgb, pre, size)
        scores = np.asarray(session.predict([tensor])[0], dtype=np.float64).reshape(-1)
        results.append(judge(case, scores, gset))
    correct = sum(r.passed for r in results)
    required = math.ceil(gset.min_correct * len(results) - 1e-9)
    status = "passed" if correct >= required else "failed"
    message = f"{correct}/{len(results)} cases passed (required {required})"
    return GoldenResult(status, message, gset.name, results, correct, required)


def judge(case: Case, scores: np.ndarray, gset: GoldenSet) -> CaseResult:
    import numpy as np

    labels = gset.labels
    if scores.size != len(labels):
        return CaseResult(case.image, case.expect, False, 0, [], case.top_k,
                          message=f"the model returned {scores.size} scores for {len(labels)} labels")
    want = labels.index(case.expect)
    score = scores[want]
    rank = int(np.sum(scores > score)) + 1
    ties = [labels[i] for i in np.flatnonzero(scores == score) if i != want]
    order = np.argsort(-scores, kind="stable")[: max(case.top_k, 3)]
    top = [(labels[i], float(scores[i])) for i in order]
    passed = rank <= case.top_k
    messages = []
    deviation = allowed = None
    reference = (gset.reference or {}).get(case.image)
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64)
        atol, rtol = case.atol or 0.0, case.rtol or 0.0
        excess = np.abs(scores - ref) - (atol + rtol * np.abs(ref))
        deviation = float(np.max(np.abs(scores - ref)))
        allowed = float(atol + rtol * float(np.max(np.abs(ref))))
        if np.any(excess > 0):
            passed = False
            worst = int(np.argmax(excess))
            messages.append(f"output deviates from the reference by up to {deviation:.3g} (class {labels[worst]}: "
                            f"{scores[worst]:.6g} vs {ref[worst]:.6g}; atol {atol:g}, rtol {rtol:g})")
    if rank > case.top_k:
        messages.insert(0, f"expected {case.expect} in the top {case.top_k}, it ranks {rank}")
    tie = f"{case.expect} ties with {', '.join(ties)} at {score:.6g}" if ties else ""
    return CaseResult(case.image, case.expect, passed, rank, top, case.top_k, tie, deviation, allowed,
                      "; ".join(messages))
