"""Render golden verdicts: text, JSON, JUnit."""

from __future__ import annotations

import json
from collections import Counter

from ..cards.report import JUnitCase, counted, github_command, junit_document
from ..diagnostics import printable_lines
from ..durable import JSONObject
from .inference import CaseResult, GoldenResult


def case_dict(c: CaseResult) -> JSONObject:
    return {"image": c.image, "expected": c.expected, "passed": c.passed, "rank": c.rank, "top-k": c.top_k,
            "top": [{"label": label, "score": score} for label, score in c.top], "tie": c.tie or None,
            "deviation": c.deviation, "allowed-deviation": c.allowed, "message": c.message or None}


def result_dict(card: str, r: GoldenResult) -> JSONObject:
    return {"card": card, "status": r.status, "message": r.message, "set": r.set_name, "correct": r.correct,
            "required": r.required, "cases": len(r.cases), "details": r.details.as_dict() if r.details else {},
            "failed-cases": [case_dict(c) for c in r.failed_cases],
            "ties": [case_dict(c) for c in r.cases if c.tie]}


def _case_line(c: CaseResult) -> str:
    top = ", ".join(f"{label} {score:.4g}" for label, score in c.top)
    extra = f"; {c.tie}" if c.tie else ""
    return f"    {c.image}: {c.message or 'failed'} (top: {top}){extra}"


def render(results: list[tuple[str, GoldenResult]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"cards": [result_dict(card, r) for card, r in results], "summary": _tally(results)},
                          indent=2, sort_keys=True)
    if fmt == "junit":
        return render_junit(results)
    if fmt == "github":
        return render_github(results)
    lines = []
    for card, r in results:
        lines.append(f"{r.status.upper():11s} {card}" + (f"  [{r.set_name}]" if r.set_name else "")
                     + (f"  {r.message}" if r.message else ""))
        if r.details is not None and r.details.network is not None:  # a network's code ran: say whose, and how
            lines.append(f"    ran: {r.details.ran}" if r.details.ran else
                         f"    network: {r.details.network}")
        lines += [_case_line(c) for c in r.failed_cases]
        lines += [f"    {c.image}: note: {c.tie}" for c in r.cases if c.tie and c.passed]
    lines.append(_summary(results))
    return printable_lines("\n".join(lines))


def render_github(results: list[tuple[str, GoldenResult]]) -> str:
    """GitHub workflow commands: an error per failed card (with its failed cases), a warning per card that
    could not be verified (offline, unavailable), a notice with the tally; names and messages escaped."""
    out = []
    for card, r in results:
        if r.status in ("passed", "skipped"):
            continue
        body = "\n".join([r.message] + [_case_line(c) for c in r.failed_cases])
        out.append(github_command("error" if r.status == "failed" else "warning", body, file=card,
                                  title=f"golden {r.status}"))
    out.append(github_command("notice", _summary(results)))
    return "\n".join(out)


def _tally(results: list[tuple[str, GoldenResult]]) -> dict[str, int]:
    """How many cards ended in each status."""
    return dict(Counter(r.status for _, r in results))


def _summary(results: list[tuple[str, GoldenResult]]) -> str:
    """"3 cards: 1 failed, 2 passed": the last line of the text report and the GitHub notice."""
    return f"{counted(len(results), 'card')}: " + ", ".join(f"{n} {s}" for s, n in sorted(_tally(results).items()))


def render_junit(results: list[tuple[str, GoldenResult]]) -> str:
    """The shared JUnit layout: one case per card, step "golden"; not run (offline, unavailable) is a skip."""
    cases = []
    for card, r in results:
        failure = (r.message, "\n".join([r.message] + [_case_line(c) for c in r.failed_cases]))
        cases.append(JUnitCase(card, "golden", failure if r.status == "failed" else None,
                               skipped=None if r.status in ("passed", "failed") else f"{r.status}: {r.message}"))
    return junit_document("golden", cases)
