"""Diagnostics: what hubtool found wrong in the hub, as plain values (no printing here)."""

from __future__ import annotations

from enum import Enum
from json.encoder import encode_basestring as _json_text  # json's own escaper, as ensure_ascii=False uses it
from typing import NamedTuple

from .durable import JSONObject


class Severity(str, Enum):
    ERROR = "error"  # fails the check
    WARNING = "warning"  # fails the check with --strict
    INFO = "info"  # worth knowing, never a failure


# text from a card, a model file or a server reaches a terminal or a CI log: its control characters (an escape
# sequence that clears the screen or retitles the window, a carriage return or newline that forges another
# finding's line) are shown as escapes, as repr() shows them; so are the bidirectional controls, which make a
# terminal or a log viewer show a line's text in another order than it has ("Trojan Source", CVE-2021-42574)
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_SHOWN = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)] if c != 0x09} | {
    c: f"\\u{c:04x}" for c in _BIDI}
_SHOWN_IN_LINES = {c: shown for c, shown in _SHOWN.items() if c != 0x0A}


def printable(text: str) -> str:
    """`text` with its control characters (tab aside) written as \\xNN escapes, and its bidirectional controls
    as \\uNNNN: one line, shown in its own order, and inert."""
    return text.translate(_SHOWN)


def printable_lines(text: str) -> str:
    """`printable`, its line breaks kept: for a report whose lines hubtool wrote around others' text."""
    return text.translate(_SHOWN_IN_LINES)


class Pos(NamedTuple):
    """1-based line and column in a file (a NamedTuple: yamlsource builds one per YAML node).  Here, not in
    yamlsource, so that what only holds positions does not import PyYAML (a replay, a settings file kept)."""

    line: int
    col: int


class Diagnostic(NamedTuple):
    """One finding at an exact place in a card file.

    `line` and `col` are 1-based positions in the card file itself (not in its
    YAML block); 0 means "the whole file".  `pointer` is the RFC 6901 JSON
    pointer of the field concerned ("" for the whole document).

    A named tuple: the pre-commit path defines no dataclasses (its values are named tuples, its
    mutable state plain classes with __slots__).  Defining a dataclass costs ~10x a named tuple
    and `dataclasses` imports `inspect`: 26 of them were up to a fifth of a pre-commit run.
    """

    path: str
    line: int
    col: int
    code: str
    severity: Severity
    message: str
    pointer: str = ""
    hint: str = ""
    # what the finding is about, independent of its line: the baseline's key (see cards/baseline.py)
    fingerprint: str = ""
    baselined: bool = False  # listed in the hub's baseline: reported, counted, never a failure

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def counts(self) -> bool:
        """Not baselined: it can fail a check."""
        return not self.baselined

    def with_severity(self, severity: Severity) -> Diagnostic:
        return self._replace(severity=severity)

    def as_dict(self) -> JSONObject:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "pointer": self.pointer,
            "hint": self.hint,
            "baselined": self.baselined,
        }

    def json_line(self) -> str:
        """`as_dict()` as `json.dumps(..., sort_keys=True, ensure_ascii=False)` writes it, ~4x faster: a
        whole-hub check writes thousands (json.dumps was 15 ms of a 0.47 s check of 2,970 real cards).
        The same escaper and number text as json's; tests hold it equal to json.dumps on hostile values."""
        return (f'{{"baselined": {"true" if self.baselined else "false"}, "code": {_json_text(self.code)}, '
                f'"col": {int(self.col)!r}, "hint": {_json_text(self.hint)}, "line": {int(self.line)!r}, '
                f'"message": {_json_text(self.message)}, "path": {_json_text(self.path)}, '
                f'"pointer": {_json_text(self.pointer)}, "severity": {_json_text(self.severity.value)}}}')


def error(path: str, line: int, col: int, code: str, message: str, *,
          pointer: str = "", hint: str = "") -> Diagnostic:
    return Diagnostic(path, line, col, code, Severity.ERROR, message, pointer, hint)


def warning(path: str, line: int, col: int, code: str, message: str, *,
            pointer: str = "", hint: str = "") -> Diagnostic:
    return Diagnostic(path, line, col, code, Severity.WARNING, message, pointer, hint)


def info(path: str, line: int, col: int, code: str, message: str, *,
         pointer: str = "", hint: str = "") -> Diagnostic:
    return Diagnostic(path, line, col, code, Severity.INFO, message, pointer, hint)


def escape_pointer_token(token: str | int) -> str:
    """RFC 6901: '~' becomes '~0' and '/' becomes '~1'."""
    return str(token).replace("~", "~0").replace("/", "~1")


def make_pointer(parts: tuple[str | int, ...] | list[str | int]) -> str:
    return "".join("/" + escape_pointer_token(p) for p in parts)


def pointer_tokens(pointer: str) -> list[str]:
    """`make_pointer` undone: the pointer's tokens, '~1' and '~0' decoded."""
    tokens = pointer.split("/")[1:]
    return [t.replace("~1", "/").replace("~0", "~") for t in tokens] if "~" in pointer else tokens
