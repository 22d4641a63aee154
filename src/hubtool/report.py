"""Render check results: text (like a linter), JSON, GitHub annotations, JUnit XML."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from .diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from .mirror import AssetResult
    from .validate import CheckResult

FORMATS = ("text", "json", "github", "junit")
_RED, _YELLOW, _BOLD, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def render(result: CheckResult, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "github":
        return render_github(result.diagnostics)
    if fmt == "junit":
        return render_junit(result)
    return render_text(result, color=color)


def summary(result: CheckResult) -> dict[str, int]:
    return {"files": len(result.files), "errors": result.errors, "warnings": result.warnings}


def _where(d: Diagnostic) -> str:
    return f"{d.path}:{d.line}:{d.col}" if d.line else d.path


def render_text(result: CheckResult, *, color: bool = False) -> str:
    lines = []
    for d in result.diagnostics:
        sev = d.severity.value
        if color:
            sev = (_RED if d.is_error else _YELLOW) + sev + _RESET
        lines.append(f"{_where(d)}: {d.code} {sev}: {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    s = summary(result)
    tail = (f"{s['files']} card{'s' if s['files'] != 1 else ''} checked: "
            f"{s['errors']} error{'s' if s['errors'] != 1 else ''}, "
            f"{s['warnings']} warning{'s' if s['warnings'] != 1 else ''}")
    lines.append((_BOLD + tail + _RESET) if color else tail)
    return "\n".join(lines)


def render_json(result: CheckResult) -> str:
    doc = {"diagnostics": [d.as_dict() for d in result.diagnostics],
           "files": result.files, "summary": summary(result)}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render_github(diags: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: one annotation per diagnostic."""
    out = []
    for d in diags:
        level = "error" if d.severity is Severity.ERROR else "warning"
        props = f"file={_gh_escape(d.path, prop=True)}"
        if d.line:
            props += f",line={d.line},col={d.col}"
        props += f",title={_gh_escape(d.code, prop=True)}"
        body = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{level} {props}::{_gh_escape(body)}")
    return "\n".join(out)


def render_junit(result: CheckResult) -> str:
    """One test case per card; its errors are failures, warnings go to system-out."""
    by_file: dict[str, list[Diagnostic]] = {f: [] for f in result.files}
    for d in result.diagnostics:
        by_file.setdefault(d.path, []).append(d)
    cases = []
    for path, diags in by_file.items():
        errors = [d for d in diags if d.is_error]
        warnings = [d for d in diags if not d.is_error]
        inner = ""
        if errors:
            text = "\n".join(f"{_where(d)}: {d.code} {d.message}" for d in errors)
            inner += (f"<failure message={quoteattr(f'{len(errors)} error(s)')} type=\"hubtool.check\">"
                      f"{_xml_text(text)}</failure>")
        if warnings:
            inner += "<system-out>" + _xml_text("\n".join(
                f"{_where(d)}: {d.code} {d.message}" for d in warnings)) + "</system-out>"
        cases.append(f'  <testcase classname="hubtool.check" name={quoteattr(path)}>{inner}</testcase>')
    failures = sum(1 for diags in by_file.values() if any(d.is_error for d in diags))
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            f"<testsuite name=\"hubtool check\" tests=\"{len(by_file)}\" failures=\"{failures}\" errors=\"0\">\n"
            + "\n".join(cases) + "\n</testsuite>")


def _xml_text(text: str) -> str:
    # XML 1.0 cannot carry most control characters even escaped: drop them
    clean = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
    return clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_assets(results: list[AssetResult], fmt: str) -> str:
    """One line per asset (text) or a JSON document."""
    if fmt == "json":
        return json.dumps({"assets": [_asset_dict(r) for r in results], "summary": _asset_summary(results)},
                          indent=2, sort_keys=True)
    lines = []
    for r in results:
        where = f"{r.task.card}#asset/{r.task.index}"
        if r.outcome is not None:
            o = r.outcome
            how = {"present": "already in store", "copied": f"copied from {o.source}",
                   "downloaded": f"downloaded from {o.source}"}[o.action]
            if o.resumed_from:
                how += f" (resumed at {o.resumed_from:,} bytes)"
            lines.append(f"ok      {where}  {r.task.digest[:12]}  {o.size:>14,} B  {how}")
        else:
            lines.append(f"FAILED  {where}  {r.task.digest[:12] or '-':12}  [{r.kind}] {r.error}")
    s = _asset_summary(results)
    lines.append(f"{s['assets']} assets: {s['ok']} ok, {s['failed']} failed, "
                 f"{s['transferred_bytes']:,} bytes transferred")
    return "\n".join(lines)


def _asset_dict(r: AssetResult) -> dict[str, object]:
    o = r.outcome
    return {"card": r.task.card, "index": r.task.index, "link": r.task.link, "sha256": r.task.digest,
            "ok": r.ok, "error": r.error, "kind": r.kind,
            "action": o.action if o else None, "size": o.size if o else None,
            "source": o.source if o else None, "transferred": o.transferred if o else 0,
            "resumed_from": o.resumed_from if o else 0}


def _asset_summary(results: list[AssetResult]) -> dict[str, int]:
    return {"assets": len(results), "ok": sum(r.ok for r in results),
            "failed": sum(not r.ok for r in results),
            "transferred_bytes": sum(r.outcome.transferred for r in results if r.outcome)}
