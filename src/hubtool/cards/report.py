"""Render check results: text (like a linter), JSON, GitHub annotations, JUnit XML.

`render_github` and `xml_text` serve the golden and publish reports too.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, NamedTuple

from ..diagnostics import Diagnostic, Severity, printable, printable_lines

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
        lines.append(printable(f"{_where(d)}: {d.code} ") + f"{sev}: {printable(d.message)}")
        if d.hint:
            lines.append(f"    hint: {printable(d.hint)}")
    s = summary(result)
    tail = (f"{_plural(s['files'], 'card')} checked: {_plural(s['errors'], 'error')}, "
            f"{_plural(s['warnings'], 'warning')}")
    tail += f", {_plural(s['infos'], 'info')}" if s["infos"] else ""
    tail += f"; {s['baselined']} baselined" if s["baselined"] else ""
    lines.append((_BOLD + tail + _RESET) if color else tail)
    return "\n".join(lines)


def render_json(result: CheckResult) -> str:
    """One JSON document, one finding and one file per line.

    Written line by line rather than with indent=2: json's C encoder only runs without
    indentation (the indented encode was 0.47 s of 2.6 s on 4,752 cards), and a finding per
    line is what grep and diff want anyway.  Each line as json.dumps(sort_keys=True) would write
    it (`Diagnostic.json_line`).
    """
    def items(lines: list[str]) -> str:
        body = ",\n".join("    " + line for line in lines)
        return f"[\n{body}\n  ]" if body else "[]"

    diags = [d.json_line() for d in result.diagnostics]
    files = [encode_basestring(f) for f in result.files]  # as json.dumps(f, ensure_ascii=False) writes it
    return (f'{{\n  "diagnostics": {items(diags)},\n  "files": {items(files)},\n'
            f'  "summary": {json.dumps(summary(result), sort_keys=True)}\n}}')


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def counted(n: int, noun: str) -> str:
    """"1 card", "2 cards": every summary line says it right."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def first_few(names: list[str], limit: int = 5) -> str:
    """"a, b, c, ...": what a refusal about many cards shows of them."""
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def github_command(level: str, message: str, *, file: str | None = None, line: int = 0, col: int = 0,
                   title: str | None = None) -> str:
    """One workflow command, escaped by GitHub's rules (a newline, `::` or `,` in a file name or a
    message cannot end it or start another command); control characters in the title and message shown as
    escapes."""
    props = [f"file={_gh_property(file)}"] if file is not None else []
    if line:
        props += [f"line={line}", f"col={col}"]
    if title is not None:
        props.append(f"title={_gh_property(printable_lines(title))}")
    # what a reader sees shows its control characters as escapes (the log viewer runs ANSI sequences); the file
    # stays exact, for the annotation to find it
    said = _gh_data(printable_lines(message))
    return f"::{level} {','.join(props)}::{said}" if props else f"::{level}::{said}"


def render_github(diags: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: one annotation per diagnostic."""
    out = []
    for d in diags:
        if d.baselined:
            continue
        level = {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(d.severity, "notice")
        body = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(github_command(level, body, file=d.path, line=d.line, col=d.col, title=d.code))
    return "\n".join(out)


class JUnitCase(NamedTuple):
    """One card's step, in the one JUnit layout check, golden and publish share: classname = the card's
    path, name = the step; a failure, a skip (with why) or a pass, and anything else in system-out."""

    card: str
    step: str
    failure: tuple[str, str] | None = None  # (message, details)
    skipped: str | None = None
    output: str | None = None


def junit_document(suite: str, cases: list[JUnitCase]) -> str:
    """A JUnit XML document that parses whatever the names and messages hold."""
    lines = []
    for case in cases:
        inner = ""
        if case.failure is not None:
            message, details = case.failure
            inner += (f"<failure message={xml_attr(message)} type={xml_attr(f'hubtool.{case.step}')}>"
                      f"{xml_text(details)}</failure>")
        elif case.skipped is not None:
            inner += f"<skipped message={xml_attr(case.skipped)}/>"
        if case.output:
            inner += f"<system-out>{xml_text(case.output)}</system-out>"
        lines.append(f"  <testcase classname={xml_attr(case.card)} name={xml_attr(case.step)}>{inner}</testcase>")
    failures = sum(c.failure is not None for c in cases)
    skipped = sum(c.failure is None and c.skipped is not None for c in cases)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            f"<testsuite name={xml_attr(f'hubtool {suite}')} tests=\"{len(cases)}\" failures=\"{failures}\" "
            f"skipped=\"{skipped}\" errors=\"0\">\n" + "\n".join(lines) + "\n</testsuite>")


def render_junit(result: CheckResult) -> str:
    """One test case per card (step "check"); its errors are the failure, warnings go to system-out."""
    by_file: dict[str, list[Diagnostic]] = {f: [] for f in result.files}
    for d in result.diagnostics:
        by_file.setdefault(d.path, []).append(d)
    cases = []
    for path, diags in by_file.items():
        errors = [d for d in diags if d.is_error and not d.baselined]
        warnings = [d for d in diags if not d.is_error or d.baselined]
        failure = (counted(len(errors), "error"), "\n".join(f"{_where(d)}: {d.code} {d.message}" for d in errors))
        out = "\n".join(f"{_where(d)}: {d.code} {d.severity.value}{' (baselined)' if d.baselined else ''}: "
                        f"{d.message}" for d in warnings)
        cases.append(JUnitCase(path, "check", failure if errors else None, output=out or None))
    return junit_document("check", cases)


def _xml_chars(text: str) -> str:
    # XML 1.0 cannot carry most control characters, lone surrogates (from undecodable file
    # names) or U+FFFE/U+FFFF even escaped: drop them
    return "".join(ch for ch in text if ch in "\t\n\r" or "\x20" <= ch <= "\ud7ff"
                   or "\ue000" <= ch <= "\ufffd" or ch >= "\U00010000")


def xml_text(text: str) -> str:
    return _xml_chars(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attr(text: str) -> str:
    """A quoted attribute value; line breaks and tabs as character references, so they survive."""
    escaped = xml_text(text).replace('"', "&quot;")
    return '"' + escaped.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;") + '"'
