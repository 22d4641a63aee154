"""Card and settings files as text: UTF-8 (an optional BOM dropped), line breaks made LF."""

from __future__ import annotations

from .diagnostics import Diagnostic, error

BOM = b"\xef\xbb\xbf"


def decode(data: bytes, path: str) -> str | Diagnostic:
    """UTF-8 (an optional BOM is dropped); CRLF and lone CR become LF.

    Replacing a line break by another keeps every line and column number."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start:exc.start + 4].hex(" ")
        return error(path, line, col, "HUB004",
                     f"the card is not valid UTF-8 (bytes {bad} at line {line})",
                     hint="save the file as UTF-8; hub cards must be UTF-8 text")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
