"""Render check results: text (like a linter), JSON, GitHub annotations, JUnit XML.

`render_github` and `xml_text` serve the golden and publish reports too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from .validate import CheckResult
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
    return {"files": len(result.files), "errors": result.errors, "warnings": result.warnings,
            "infos": result.infos, "baselined": result.baselined}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _where(d: Diagnostic) -> str:
    return f"{d.path}:{d.line}:{d.col}" if d.line else d.path


def render_text(result: CheckResult, *, color: bool = False) -> str:
    """Linter lines for every finding the baseline does not list, then a summary."""
    lines = []
    for d in result.diagnostics:
        if d.baselined:
            continue
        sev = d.severity.value
        if color:
            sev = {Severity.ERROR: _RED, Severity.WARNING: _YELLOW}.get(d.severity, "") + sev + _RESET
        lines.append(f"{_where(d)}: {d.code} {sev}: {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    s = summary(result)
    tail = (f"{_plural(s['files'], 'card')} checked: {_plural(s['errors'], 'error')}, "
            f"{_plural(s['warnings'], 'warning')}")
    tail += f", {_plural(s['infos'], 'info')}" if s["infos"] else ""
    tail += f"; {s['baselined']} baselined" if s["baselined"] else ""
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
        if d.baselined:
            continue
        level = {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(d.severity, "notice")
        props = f"file={_gh_escape(d.path, prop=True)}"
        if d.line:
            props += f",line={d.line},col={d.col}"
        props += f",title={_gh_escape(d.code, prop=True)}"
        body = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{level} {props}::{_gh_escape(body)}")
    return "\n".join(out)


def render_junit(result: CheckResult) -> str:
    """One test case per card; its errors are failures, warnings go to system-out."""
    from xml.sax.saxutils import quoteattr  # here: it imports urllib.request, 30 ms a pre-commit run need not pay

    by_file: dict[str, list[Diagnostic]] = {f: [] for f in result.files}
    for d in result.diagnostics:
        by_file.setdefault(d.path, []).append(d)
    cases = []
    for path, diags in by_file.items():
        errors = [d for d in diags if d.is_error and not d.baselined]
        warnings = [d for d in diags if not d.is_error or d.baselined]
        inner = ""
        if errors:
            text = "\n".join(f"{_where(d)}: {d.code} {d.message}" for d in errors)
            inner += (f"<failure message={quoteattr(f'{len(errors)} error(s)')} type=\"hubtool.check\">"
                      f"{xml_text(text)}</failure>")
        if warnings:
            inner += "<system-out>" + xml_text("\n".join(
                f"{_where(d)}: {d.code} {d.severity.value}{' (baselined)' if d.baselined else ''}: {d.message}"
                for d in warnings)) + "</system-out>"
        cases.append(f'  <testcase classname="hubtool.check" name={quoteattr(path)}>{inner}</testcase>')
    failures = sum(1 for diags in by_file.values() if any(d.is_error and not d.baselined for d in diags))
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            f"<testsuite name=\"hubtool check\" tests=\"{len(by_file)}\" failures=\"{failures}\" errors=\"0\">\n"
            + "\n".join(cases) + "\n</testsuite>")


def xml_text(text: str) -> str:
    # XML 1.0 cannot carry most control characters even escaped: drop them
    clean = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
    return clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
