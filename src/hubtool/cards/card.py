"""A model card: file -> (title, metadata with positions, body) or diagnostics."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import yamlsource
from ..diagnostics import Diagnostic, error, warning
from ..durable import JSON, JSONObject
from ..yamlsource import Pos, YamlDoc
from . import frontmatter

_LINK = re.compile(r"<([^<>\s]+)>")
_NUMBERISH = {"int", "float"}


@dataclass(frozen=True)
class Asset:
    """One entry of a card's `asset` list (fields may be missing in a broken card)."""

    index: int
    file_format: str | None
    link: str | None
    sha256: str | None

    @property
    def pointer(self) -> str:
        return f"/asset/{self.index}"


@dataclass(frozen=True)
class Card:
    """A parsed card. `metadata` holds values as the hub means them (see load_card)."""

    path: Path
    display: str  # the path as reported in diagnostics
    title: str | None
    metadata: JSONObject
    doc: YamlDoc = field(repr=False)
    front: frontmatter.FrontMatter = field(repr=False)

    def value_pos(self, pointer: str) -> Pos:
        """Position of the value at `pointer`, else of its nearest enclosing value."""
        while True:
            pos = self.doc.values.get(pointer)
            if pos is not None:
                return pos
            if not pointer:
                return Pos(self.front.yaml_line, 1)
            pointer = pointer.rsplit("/", 1)[0]

    def key_pos(self, pointer: str) -> Pos:
        return self.doc.keys.get(pointer) or self.value_pos(pointer)

    @property
    def assets(self) -> list[Asset]:
        return assets_from(self.metadata)

    @property
    def is_twin(self) -> bool:
        return self.path.name.endswith("_cn.md")


@dataclass(frozen=True)
class LoadedCard:
    """The outcome of loading one card file: a Card, or none, and what was found."""

    path: Path
    display: str
    card: Card | None
    diagnostics: list[Diagnostic]


def assets_from(metadata: JSONObject) -> list[Asset]:
    """The `asset` entries of card metadata (missing fields are None)."""
    items = metadata.get("asset")
    if not isinstance(items, list):
        return []
    out = []
    for i, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        out.append(Asset(i, _str_or_none(item.get("file-format")),
                         _str_or_none(item.get("asset-link")), _str_or_none(item.get("asset-sha256"))))
    return out


def _str_or_none(value: JSON) -> str | None:
    return value if isinstance(value, str) else None


def load_card(path: Path, *, display: str, max_bytes: int,
              wants_string: Callable[[tuple[str | int, ...]], bool]) -> LoadedCard:
    """Read, split and parse one card; never raises for anything wrong in the file."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            return LoadedCard(path, display, None, [error(
                display, 0, 0, "HUB001", f"the card is {size:,} bytes, over the limit of {max_bytes:,}",
                hint="cards hold metadata and a description; move large content elsewhere, "
                     "or raise limits.max-card-bytes in hub/hub.yaml")])
        data = path.read_bytes()
    except OSError as exc:
        return LoadedCard(path, display, None, [error(display, 0, 0, "HUB001",
                                                      f"cannot read the card: {exc.strerror}")])
    text = yamlsource.decode(data, display)
    if isinstance(text, Diagnostic):
        return LoadedCard(path, display, None, [text])
    front = frontmatter.split(text, display)
    if isinstance(front, Diagnostic):
        return LoadedCard(path, display, None, [front])
    doc = yamlsource.parse(front.yaml_text, path=display, line_offset=front.yaml_line)
    diags = list(doc.diagnostics)
    if diags:
        return LoadedCard(path, display, None, diags)
    if not isinstance(doc.data, dict):
        what = "empty" if doc.data is None else f"a {type(doc.data).__name__}, not a mapping"
        return LoadedCard(path, display, None, [error(
            display, front.yaml_line if doc.data is not None else front.open_line, 1, "HUB109",
            f"the front matter is {what}", hint="write the metadata as 'key: value' lines")])
    diags += _normalise(doc, display, wants_string)
    card = Card(path=path, display=display, title=front.title, metadata=doc.data, doc=doc,
                front=front)
    return LoadedCard(path, display, card, diags)


def _parts(pointer: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        out.append(int(token) if token.isdigit() else token)
    return tuple(out)


def _set(data: Any, parts: tuple[str | int, ...], value: Any) -> None:
    for part in parts[:-1]:
        data = data[part]
    data[parts[-1]] = value


def _normalise(doc: YamlDoc, display: str,
               wants_string: Callable[[tuple[str | int, ...]], bool]) -> list[Diagnostic]:
    """Keep scalars as written where the schema wants strings; unwrap <links>."""
    diags: list[Diagnostic] = []
    for pointer, raw in doc.raw.items():
        if raw.tag == "null" or raw.tag == "timestamp":
            continue
        parts = _parts(pointer)
        if not wants_string(parts):
            continue
        _set(doc.data, parts, raw.text)
        if raw.tag in _NUMBERISH and str(raw.value) != raw.text:
            pos = doc.values[pointer]
            diags.append(warning(
                display, pos.line, pos.col, "HUB110",
                f"'{raw.text}' is kept as the string \"{raw.text}\", but YAML readers will read "
                f"it as the number {raw.value!r}", pointer=pointer,
                hint=f"quote it: \"{raw.text}\""))
    _unwrap_links(doc)
    return diags


def _unwrap_links(doc: YamlDoc) -> None:
    for pointer in doc.angled:
        parts = _parts(pointer)
        node: Any = doc.data
        for part in parts[:-1]:
            node = node[part]
        value = node[parts[-1]] if parts else None
        match = _LINK.fullmatch(value) if isinstance(value, str) else None
        if match:
            node[parts[-1]] = match.group(1)
            pos = doc.values.get(pointer)
            if pos is not None:
                doc.values[pointer] = Pos(pos.line, pos.col + 1)


def discover(paths: list[Path]) -> list[Path]:
    """Card files under the given files and folders, sorted, each once.

    Markdown files named README.md are documentation, not cards.
    """
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found.update(Path(root) / f for f in files
                             if f.endswith(".md") and f.lower() != "readme.md")
        else:
            found.add(path)
    return sorted(found)
