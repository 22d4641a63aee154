"""A model card: file -> (title, metadata with positions, body) or diagnostics."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import textdecode
from ..diagnostics import Diagnostic, Pos, error, pointer_tokens, warning
from ..durable import JSON, JSONObject
from ..errors import SpecialFile
from . import frontmatter

if TYPE_CHECKING:
    from ..yamlsource import YamlDoc

_LINK = re.compile(r"<([^<>\s]+)>")
_NUMBERISH = {"int", "float"}


class Asset:
    """One entry of a card's `asset` list (fields may be missing in a broken card).

    A plain class: a named tuple's `index` field would hide tuple.index (and see
    diagnostics.Diagnostic for why the pre-commit path has no dataclasses).
    """

    __slots__ = ("index", "file_format", "link", "sha256")

    def __init__(self, index: int, file_format: str | None, link: str | None, sha256: str | None) -> None:
        self.index = index
        self.file_format = file_format
        self.link = link
        self.sha256 = sha256

    @property
    def pointer(self) -> str:
        return f"/asset/{self.index}"


class Card(NamedTuple):
    """A parsed card. `metadata` holds values as the hub means them (see load_card)."""

    path: Path
    display: str  # the path as reported in diagnostics
    title: str | None
    metadata: JSONObject
    doc: YamlDoc
    front: frontmatter.FrontMatter
    assets: list[Asset]  # `assets_from(metadata)`, worked out once: the rules, the facts and the fetchers read it
    dropped: tuple[str, ...] = ()  # top-level entries left out because they are not valid YAML

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
    def is_twin(self) -> bool:
        return self.path.name.endswith("_cn.md")


class LoadedCard(NamedTuple):
    """The outcome of loading one card file: a Card, or none, and what was found."""

    path: Path
    display: str
    card: Card | None
    diagnostics: list[Diagnostic]
    front: frontmatter.FrontMatter | None = None  # when the fences were found


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
    """Read, split and parse one card; never raises for anything wrong in the file (`wants_string`: `_normalise`)."""
    named = textdecode.undecodable_name(display)
    if named is not None:
        return LoadedCard(path, display, None, [named])
    try:
        data = textdecode.read_regular(path, max_bytes)
    except SpecialFile as exc:
        return LoadedCard(path, display, None, [error(display, 0, 0, "HUB001", exc.message.replace(
            str(path), "the card", 1), hint="a card is a regular file: replace the special file or link")])
    except OSError as exc:
        return LoadedCard(path, display, None, [error(display, 0, 0, "HUB001",
                                                      f"cannot read the card: {exc.strerror}")])
    size = data if isinstance(data, int) else len(data)
    if isinstance(data, int) or size > max_bytes:
        return LoadedCard(path, display, None, [error(
            display, 0, 0, "HUB001", f"the card is {size:,} bytes, over the limit of {max_bytes:,}",
            hint="cards hold metadata and a description; move large content elsewhere, "
                 "or raise limits.max-card-bytes in hub/hub.yaml")])
    text = textdecode.decode(data, display)
    if isinstance(text, Diagnostic):
        return LoadedCard(path, display, None, [text])
    front = frontmatter.split(text, display)
    if isinstance(front, Diagnostic):
        return LoadedCard(path, display, None, [front])
    doc, syntax, dropped = _parse_recovering(front, display)
    diags = syntax + list(doc.diagnostics)
    # duplicate keys and unreadable numbers (kept as text) do not stop the card's checks
    if any(d.code not in ("HUB102", "HUB111") for d in doc.diagnostics):
        return LoadedCard(path, display, None, diags, front)
    if not isinstance(doc.data, dict):
        what = "empty" if doc.data is None else f"a {type(doc.data).__name__}, not a mapping"
        return LoadedCard(path, display, None, diags + [error(
            display, front.yaml_line if doc.data is not None else front.open_line, 1, "HUB109",
            f"the front matter is {what}", hint="write the metadata as 'key: value' lines")], front)
    diags += _normalise(doc, display, wants_string)
    card = Card(path=path, display=display, title=front.title, metadata=doc.data, doc=doc,
                front=front, assets=assets_from(doc.data), dropped=dropped)
    return LoadedCard(path, display, card, diags, front)


#: top-level entries a card may lose to YAML errors before it counts as unreadable
MAX_RECOVERIES = 8
_ENTRY_START = re.compile(r"^[^\s#-]")


def _parse_recovering(front: frontmatter.FrontMatter,
                      display: str) -> tuple[YamlDoc, list[Diagnostic], tuple[str, ...]]:
    """Parse; on a syntax error, report it and parse again without the top-level entry it is in.

    The entry's lines become blank lines, so every other line keeps its number.  Returns the
    last parse, the syntax errors reported on the way, and the keys of the entries left out.
    """
    from .. import yamlsource  # here: a replay imports this module for `assets_from` only, without PyYAML

    syntax: list[Diagnostic] = []
    dropped: list[str] = []
    doc = yamlsource.parse(front.yaml_text, path=display, line_offset=front.yaml_line)
    if not doc.broken_line:
        return doc, syntax, ()
    lines = front.yaml_text.split("\n")
    while len(syntax) < MAX_RECOVERIES and doc.broken_line and _only_syntax(doc):
        span = _entry_at(lines, doc.broken_line - front.yaml_line)
        if span is None:
            break
        first, last = span
        key = lines[first].split(":", 1)[0].strip()
        where = f"line {first + front.yaml_line}" + (f"-{last + front.yaml_line}" if last > first else "")
        d = next(d for d in doc.diagnostics if d.code == "HUB101")
        syntax.append(Diagnostic(d.path, d.line, d.col, d.code, d.severity,
                                 f"{d.message}; the rest of the card was checked without the '{key}' entry ({where})",
                                 d.pointer, d.hint))
        dropped.append(key)
        lines[first:last + 1] = [""] * (last - first + 1)
        doc = yamlsource.parse("\n".join(lines), path=display, line_offset=front.yaml_line)
    return doc, syntax, tuple(dropped)


def _only_syntax(doc: YamlDoc) -> bool:
    """One syntax error in an entry, and nothing else but duplicate keys (which the next parse reports again).

    A misplaced document marker ('...', '---') is not an entry's error: the card stays unreadable.
    """
    found = [d for d in doc.diagnostics]
    syntax = [d for d in found if d.code == "HUB101"]
    return (len(syntax) == 1 and "document" not in syntax[0].message
            and all(d.code in ("HUB101", "HUB102") for d in found))


def _entry_at(lines: list[str], index: int) -> tuple[int, int] | None:
    """The first and last line of the top-level entry that holds line `index` (0-based), or None."""
    if not 0 <= index < len(lines):
        return None
    first = next((i for i in range(index, -1, -1) if _ENTRY_START.match(lines[i])), None)
    if first is None or lines[first].startswith("---") or lines[first].startswith("..."):
        return None
    following = (i for i in range(first + 1, len(lines)) if _ENTRY_START.match(lines[i]))
    last = next(following, len(lines)) - 1
    while last > first and not lines[last].strip():
        last -= 1
    return first, last


def walk(data: JSON, pointer: str) -> tuple[tuple[str | int, ...], JSON]:
    """A JSON pointer's steps into `data` and the value there (None where there is none).

    A step is an index where the node is a list, else a key: keys are strings even when they
    look like numbers (`"0": x`, `"²": 1`).
    """
    steps: list[str | int] = []
    node = data
    for token in pointer_tokens(pointer):
        if isinstance(node, list) and token.isascii() and token.isdigit():
            index = int(token)
            steps.append(index)
            node = node[index] if index < len(node) else None
        else:
            steps.append(token)
            node = node.get(token) if isinstance(node, dict) else None
    return tuple(steps), node


def _locate(data: JSON, pointer: str) -> tuple[Any, str | int, tuple[str | int, ...], JSON]:
    """The container holding the value at `pointer`, its key there, the value's shape for the schema (list
    indices as 0) and the value: one pass, where a walk to the value and a second walk to set it took ~8% of a
    card's check."""
    container: Any = None
    key: str | int = ""
    shape: list[str | int] = []
    node = data
    for token in pointer_tokens(pointer):
        container = node
        if isinstance(node, list) and token.isascii() and token.isdigit():
            key = int(token)
            shape.append(0)
            node = node[key] if key < len(node) else None
        else:
            key = token
            shape.append(token)
            node = node.get(token) if isinstance(node, dict) else None
    return container, key, tuple(shape), node


def _normalise(doc: YamlDoc, display: str,
               wants_string: Callable[[tuple[str | int, ...]], bool]) -> list[Diagnostic]:
    """Keep scalars as written where the schema wants strings; unwrap <links>.

    `wants_string` is asked about a value's shape, its list indices given as 0."""
    diags: list[Diagnostic] = []
    for pointer, raw in doc.raw.items():
        if raw.tag == "null" or raw.tag == "timestamp":
            continue
        container, key, shape, _ = _locate(doc.data, pointer)
        if not wants_string(shape):
            continue
        container[key] = raw.text
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
        container, key, _, value = _locate(doc.data, pointer)
        match = _LINK.fullmatch(value) if isinstance(value, str) else None
        if match:
            container[key] = match.group(1)
            pos = doc.values.get(pointer)
            if pos is not None:
                doc.values[pointer] = Pos(pos.line, pos.col + 1)
