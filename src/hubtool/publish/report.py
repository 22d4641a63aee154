"""Reports of a publish run: a human table, JSON, JUnit (one case per card and step), GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ..cards.report import JUnitCase, counted, github_command, junit_document, render_github
from ..diagnostics import printable_lines
from ..durable import JSONObject, objects_in
from .runs import STEPS, CardRun, PublishResult
from .target import Published


def as_dict(result: PublishResult) -> JSONObject:
    cards: list[JSONObject] = []
    for run in result.runs:
        cards.append({
            "card": run.display, "published": run.published, "verified": run.verified,
            "held-because": run.held_because or None,
            "steps": {name: {"status": s.status, "reason": s.reason or None, "cached": s.cached}
                      for name, s in run.steps.items()},
            "diagnostics": [d.as_dict() for d in run.diagnostics],
        })
    published = sum(r.published for r in result.runs)
    return {"cards": list(cards), "counters": dict(result.counters),
            "shard": str(result.shard) if result.shard else None,
            "generation": str(result.generation) if result.generation else None,
            "summary": {"cards": len(result.runs), "published": published, "held-back": len(result.runs) - published}}


def render_json(result: PublishResult) -> str:
    return json.dumps(as_dict(result), sort_keys=True)


def render_junit(result: PublishResult) -> str:
    """The shared JUnit layout: one case per card and step."""
    cases = []
    for run in result.runs:
        for name in STEPS:
            step = run.steps.get(name)
            if step is None:
                continue
            failed = (step.reason, step.reason) if step.status == "failed" else None
            cases.append(JUnitCase(run.display, name, failed, skipped=None if step.status in ("passed", "failed")
                                   else f"{step.status}: {step.reason}"))
    return junit_document("publish", cases)


def render_annotations(result: PublishResult) -> str:
    lines = []
    diags = [d for run in result.runs for d in run.diagnostics]
    if diags:
        lines.append(render_github(diags))
    for run in result.runs:
        if not run.published and not run.diagnostics:
            lines.append(github_command("error", run.held_because, file=run.display, title="held back"))
    return "\n".join(lines)


def printed(result: PublishResult, fmt: str, *, batch: int = 500) -> Iterator[str]:
    """What `hubtool publish --format fmt` prints, in texts of a line or more (each printed with a newline):
    a 10k cards' table comes `batch` lines at a time, never as one text in memory."""
    if fmt != "text":
        yield {"json": render_json, "github": render_annotations}[fmt](result)
        return
    chunk: list[str] = []
    for line in table_lines(result):
        chunk.append(line)
        if len(chunk) == batch:
            yield "\n".join(chunk)
            chunk = []
    if chunk:
        yield "\n".join(chunk)


def write_reports(result: PublishResult, targets: list[tuple[str, Path]]) -> None:
    """`--report json:PATH|junit:PATH`: each report written to its file."""
    for kind, path in targets:
        path.write_text(render_json(result) if kind == "json" else render_junit(result))


def render_table(result: PublishResult) -> str:
    """`table_lines`, as one text."""
    return printable_lines("\n".join(table_lines(result)))


def table_lines(result: PublishResult) -> Iterator[str]:
    """One line per card (aligned columns) and a totals line.

    Plain string formatting: rich's Table measured 2.5 s for 3,000 rows, more than
    the whole unchanged re-publish it would report on.  A hub's cards share a handful of
    verdicts, so the cells after the card's path are made once per distinct verdicts (not
    held per card: 10k cards' rows were ~7 MiB).
    """
    header = ["card", *STEPS, "result"]
    shared: dict[tuple[object, ...], int] = {}  # distinct verdicts -> their place in `cells`
    cells: list[list[str]] = []
    card_width = max([len(header[0]), *(len(run.display) for run in result.runs)])
    kinds = []  # each card's verdicts by their place: made once, not once per loop (a small int per card)
    for run in result.runs:
        verdicts = _verdicts(run)
        kind = shared.get(verdicts)
        if kind is None:
            kind = shared[verdicts] = len(cells)
            cells.append(_cells(result, run))
        kinds.append(kind)
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(header[1:-1])]
    tails = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in cells]
    yield "  ".join(h.ljust(w) for h, w in zip(header, [card_width, *widths], strict=False)) + "  " + header[-1]
    for run, kind in zip(result.runs, kinds, strict=True):
        yield run.display.ljust(card_width) + "  " + tails[kind]
    published = sum(r.published for r in result.runs)
    c = result.counters
    held = len(result.runs) - published
    where = f"shard {result.shard}: " if result.shard else ""
    verb = "pass" if result.shard else "published"
    yield (f"{where}{counted(len(result.runs), 'card')}: {published} {verb}, {held} held back "
           f"(* = served from the ledger); {counted(int(c.get('requests', 0)), 'HTTP request')}, "
           f"{counted(int(c.get('workers', 0)), 'runtime worker')}, "
           f"{counted(int(c.get('ledger-hits', 0)), 'ledger hit')}")
    if result.generation:
        said = " (unchanged: nothing it depends on changed since the last run, replayed)" if c.get("replayed") \
            else " (unchanged)" if c.get("unchanged") else ""
        yield f"published: {result.generation}{said}"
    elif result.shard:
        yield f"shard {result.shard}: outcomes recorded, nothing committed (`publish --merge` commits)"


def _verdicts(run: CardRun) -> tuple[object, ...]:
    """What a card's cells after its path depend on.  Each step by its object's id, not its value: cards share
    their verdicts' objects (`shared_step`), and hashing 40k dataclasses was a fifth of the table's time."""
    return (*map(id, map(run.steps.get, STEPS)), run.published, run.verified, run.held_because)


def _cells(result: PublishResult, run: CardRun) -> list[str]:
    """A card's cells after its path: one per step, then the result."""
    cells = []
    for name in STEPS:
        step = run.steps.get(name)
        cells.append("-" if step is None else step.status + ("*" if step.cached else ""))
    passed = "passes" if result.shard else "published"  # a shard commits nothing
    cells.append((passed + ("" if run.verified else " (unverified)")) if run.published
                 else f"held back: {run.held_because}")
    return cells


def render_published(found: Published) -> str:
    """The newest generation of a published hub, one line per card."""
    index = found.index
    cards = objects_in(index.get("cards"))
    hub = index.get("hub")
    name = hub.get("name") if isinstance(hub, dict) else None
    lines = [f"generation: {found.generation}",
             f"hub: {name}, {counted(len(cards), 'card')}, published by hubtool {index.get('hubtool')}"]
    for card in cards:
        golden = card.get("golden")
        golden = golden if isinstance(golden, dict) else {}
        score = f" {golden.get('correct')}/{golden.get('cases')}" if golden.get("cases") else ""
        lines.append(f"  {card.get('id')}  {'verified' if card.get('verified') else 'unverified'}  "
                     f"golden {golden.get('status')}{score}")
    return "\n".join(lines)
