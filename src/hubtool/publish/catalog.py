"""The published hub as a static HTML catalog: index.html, one page per card with its golden gallery, run.html.

Plain files in every generation, served by any static server or opened from file://: no external
requests (styles and the filter script are files of the catalog; a Content-Security-Policy says
so), no build step.  Jinja2 with autoescape on renders every page; a card's body goes through
cardbody.py (raw HTML escaped, http(s) links only).  Each golden image is copied as a thumbnail
(Pillow, nearest-neighbour up to 96 px: CIFAR's 32 px images stay sharp) under images/<set>/.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..durable import JSON, JSONObject, objects_in
from ..errors import GoldenSetError, ImageError
from ..golden.imaging import opened_image
from ..golden.inference import GoldenResult
from ..golden.report import case_dict
from ..golden.sets import GoldenSets
from .cardbody import body_html
from .index import CardEntry
from .runs import STEPS, CardRun

TEMPLATES = Path(__file__).with_name("templates")
STATIC = ("catalog.css", "catalog.js")
THUMB = 96


@dataclass(frozen=True)
class CardView:
    """What a card's page and its index row show."""

    page: str  # the page's path in the generation
    root: str  # the generation's root, relative to the page
    title: str
    model: str
    module_type: str
    dataset: str
    accuracy: str
    formats: list[str]
    status: str  # verified | unverified
    golden: JSONObject  # the index entry's golden summary
    score: str  # "20/20" when golden passed
    metadata: list[tuple[str, str]]
    assets: list[JSONObject]
    body: str  # safe HTML (cardbody.py)
    set: str | None
    gallery: list[JSONObject]  # every case, failed ones first
    ran: str | None


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["score_width"] = _score_width
    env.filters["thumb"] = thumb_name
    return env


def thumb_name(image: str) -> str:
    """A golden image's thumbnail file: its name with .png for whatever it was."""
    stem, dot, _ = image.rpartition(".")
    return f"{stem if dot else image}.png"


def render_catalog(entries: Sequence[CardEntry], runs: Sequence[CardRun], *, hub_name: str,
                   sets: GoldenSets) -> Iterator[tuple[str, bytes]]:
    """Every file of the catalog as (path in the generation, bytes), one at a time: a target writes each
    as it comes, so a hub of 10,000 cards never holds its pages in memory at once."""
    env = _environment()
    yield from ((name, (TEMPLATES / name).read_bytes()) for name in STATIC)
    by_card = {r.card: r for r in runs}
    cards = []
    thumbs: set[str] = set()
    for entry in entries:
        run = by_card.get(entry.card)
        view = _card_view(entry, run)
        yield view.page, _page(env, "card.html.j2", hub_name, view.root, card=replace(view, body=_body(run)))
        yield from _thumbnails(view, sets, thumbs)
        cards.append(view)
    yield "index.html", _page(env, "index.html.j2", hub_name, "", cards=cards, filters=_filters(cards))
    yield "run.html", _page(env, "run.html.j2", hub_name, "", rows=_run_rows(runs, cards), steps=STEPS)


def render_golden(results: Sequence[tuple[str, JSONObject, GoldenResult]], *, hub_name: str,
                  sets: GoldenSets) -> Iterator[tuple[str, bytes]]:
    """`hubtool golden --html`: the same gallery pages for a run, without publishing (card, metadata, verdict)."""
    env = _environment()
    yield from ((name, (TEMPLATES / name).read_bytes()) for name in STATIC)
    views = [_golden_view(i, card, metadata, result) for i, (card, metadata, result) in enumerate(results)]
    thumbs: set[str] = set()
    for view in views:
        yield view.page, _page(env, "card.html.j2", hub_name, view.root, card=view)
        yield from _thumbnails(view, sets, thumbs)
    yield "index.html", _page(env, "index.html.j2", hub_name, "", cards=views, filters=_filters(views))


def _golden_view(number: int, card: str, m: JSONObject, result: GoldenResult) -> CardView:
    name = str(m.get("model-name") or Path(card).stem)
    page = f"cards/{number:04d}-{_slug(name)}.html"
    golden: JSONObject = {"status": result.status, "reason": None if result.status == "passed" else result.message,
                          "set": result.set_name, "correct": result.correct, "cases": len(result.cases)}
    score = f"{result.correct}/{len(result.cases)}" if result.cases else ""
    formats = sorted({str(a.get("file-format")) for a in objects_in(m.get("asset")) if a.get("file-format")})
    return CardView(page, "../", card, name, _text(m.get("module-type")), _text(m.get("train-dataset")),
                    _text(m.get("accuracy")), formats, result.status, golden, score,
                    [(k, _text(v)) for k, v in m.items() if k not in ("asset", "golden")],
                    [{"index": i, "format": a.get("file-format"), "sha256": a.get("asset-sha256"), "size": None,
                      "kind": None, "origin": a.get("asset-link"), "translated": None, "path": None}
                     for i, a in enumerate(objects_in(m.get("asset")))],
                    "", result.set_name,
                    sorted((case_dict(c) for c in result.cases), key=lambda r: (bool(r["passed"]), str(r["image"]))),
                    result.details.ran if result.details else None)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "card"


def _page(env: Environment, template: str, hub_name: str, root: str, **context: object) -> bytes:
    return env.get_template(template).render(hub=hub_name, root=root, **context).encode("utf-8")


def _card_view(entry: CardEntry, run: CardRun | None) -> CardView:
    m = entry.metadata
    page = entry.document.removesuffix(".json") + ".html"
    golden = entry.golden
    results = [r for r in (run.golden.results if run and run.golden else ()) if isinstance(r, dict)]
    score = f"{golden.get('correct')}/{golden.get('cases')}" if golden.get("status") == "passed" else ""
    set_name = golden.get("set")
    return CardView(
        page, "../" * page.count("/"), entry.title or str(m.get("model-name")), str(m.get("model-name")),
        _text(m.get("module-type")), _text(m.get("train-dataset")), _text(m.get("accuracy")),
        sorted({str(a.file_format) for a in entry.assets if a.file_format}),
        "verified" if entry.verified else "unverified", golden, score,
        [(k, _text(v)) for k, v in m.items() if k not in ("asset", "golden")],
        [{"index": a.index, "format": a.file_format, "sha256": a.sha256, "size": a.size, "kind": a.kind,
          "origin": a.origin, "translated": a.translated, "path": a.path} for a in entry.assets],
        "", set_name if isinstance(set_name, str) else None,
        sorted(results, key=lambda r: (bool(r.get("passed")), str(r.get("image")))),
        run.golden.ran if run and run.golden else None)


def _body(run: CardRun | None) -> str:
    """The card's body as safe HTML, read again from its file (not kept in memory for every card)."""
    if run is None:
        return ""
    try:
        return body_html(run.path.read_text(encoding="utf-8"), run.display)
    except (OSError, UnicodeDecodeError):
        return ""


def _text(value: JSON) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _filters(cards: list[CardView]) -> dict[str, list[str]]:
    """The values each index filter offers, from the cards themselves."""
    def values(found: set[str]) -> list[str]:
        return sorted(v for v in found if v)

    return {"module_type": values({c.module_type for c in cards}), "dataset": values({c.dataset for c in cards}),
            "formats": values({f for c in cards for f in c.formats}), "status": values({c.status for c in cards})}


def _run_rows(runs: Sequence[CardRun], cards: list[CardView]) -> list[JSONObject]:
    """Every card of the run, the held-back ones first with the reason; published ones link to their page."""
    pages = {c.model: c.page for c in cards}
    rows: list[JSONObject] = []
    for run in sorted(runs, key=lambda r: (r.published, r.card)):
        model = str((run.metadata or {}).get("model-name", ""))
        rows.append({"card": run.card, "published": run.published, "reason": run.held_because,
                     "page": pages.get(model) if run.published else None,
                     # each step's verdict, not whether this machine's ledger remembered it: a generation
                     # is the same whichever machines (or shards) ran the steps
                     "steps": {s: run.steps[s].status for s in STEPS if s in run.steps}})
    return rows


def _thumbnails(view: CardView, sets: GoldenSets, done: set[str]) -> Iterator[tuple[str, bytes]]:
    """images/<set>/<image>.png for every case of the card's gallery (once per run: cards share sets)."""
    name, gallery = view.set, view.gallery
    if name is None or not gallery:
        return
    try:
        gset = sets.get(name)
    except GoldenSetError:
        return
    shown = {r.get("image") for r in gallery}
    for case in gset.cases:
        path = f"images/{name}/{thumb_name(case.image)}"
        if case.image in shown and path not in done:
            done.add(path)
            try:
                thumbnail = _thumbnail(gset.image_path(case))
            except ImageError:  # changed since golden read it: the page shows the case without its picture
                continue
            yield path, thumbnail


def _thumbnail(path: Path) -> bytes:
    from PIL import Image

    with opened_image(path) as img:  # a FIFO, a decompression bomb: refused, not read
        rgb = img.convert("RGB")
        scale = THUMB / max(rgb.size)
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
        buf = io.BytesIO()
        rgb.resize(size, resample).save(buf, "PNG")
        return buf.getvalue()


def _score_width(score: JSON, top: JSON) -> int:
    """A score's bar, in percent of the case's best score (0 for scores at or below zero)."""
    scores = [t.get("score") for t in top if isinstance(t, dict)] if isinstance(top, list) else []
    best = max((float(v) for v in scores if isinstance(v, (int, float))), default=0.0)
    value = float(score) if isinstance(score, (int, float)) else 0.0
    return 0 if best <= 0 or value <= 0 else min(100, round(100 * value / best))
