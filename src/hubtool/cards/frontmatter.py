"""Split a model card into title, YAML front matter and markdown body.

The hub's dialect (DESIGN.md section 3): an optional `# Title` line and blank
lines, then a `---` fence, the YAML block, a closing `---`, then the body.
Only the first two fences count: a `---` in the body is a horizontal rule.

Every step here is linear in the size of the file and runs in C where it can
(regex search, str.count), so a hostile file of millions of newlines or an
unclosed fence is answered in milliseconds.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..diagnostics import Diagnostic, error

_NON_SPACE = re.compile(r"\S")
_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_FENCE_HINT = ("a card starts with an optional '# Title' line, then a line '---', "
               "the YAML metadata, and a closing line '---'")


class FrontMatter(NamedTuple):
    """The parts of a card; line numbers are 1-based lines of the card file."""

    title: str | None
    yaml_text: str
    yaml_line: int  # file line of the first line of yaml_text
    open_line: int
    close_line: int
    body: str
    body_line: int


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def split(text: str, path: str) -> FrontMatter | Diagnostic:
    """Find the front matter of a decoded card, or say precisely why there is none."""
    title: str | None = None
    pos = 0
    while True:
        found = _NON_SPACE.search(text, pos)
        if found is None:
            what = "the card is empty" if title is None else "the card has only a title"
            return error(path, _line_of(text, len(text)) if text else 1, 1, "HUB002",
                         f"no front matter: {what}", hint=_FENCE_HINT)
        start = text.rfind("\n", 0, found.start()) + 1
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        if _FENCE.fullmatch(line):
            return _split_at_fence(text, path, title, start, end)
        if line.startswith("#") and title is None:
            title = line.lstrip("#").strip()
            pos = end
            continue
        lineno = _line_of(text, start)
        return error(path, lineno, found.start() - start + 1, "HUB002",
                     "no front matter: text before the opening '---' fence",
                     hint=_FENCE_HINT + "; only a single '# Title' line may come before it")


def _split_at_fence(text: str, path: str, title: str | None, start: int,
                    end: int) -> FrontMatter | Diagnostic:
    open_line = _line_of(text, start)
    closing = _FENCE.search(text, end + 1) if end < len(text) else None
    if closing is None:
        return error(path, open_line, 1, "HUB003",
                     f"the front matter opened at line {open_line} is never closed",
                     hint="add a line '---' after the last metadata line")
    close_line = open_line + text.count("\n", end, closing.start())
    yaml_text = text[end + 1:closing.start()]
    body_start = min(closing.end() + 1, len(text))
    return FrontMatter(title=title, yaml_text=yaml_text, yaml_line=open_line + 1,
                       open_line=open_line, close_line=close_line,
                       body=text[body_start:], body_line=close_line + 1)
