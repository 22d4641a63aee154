"""`_cn.md` twins: read the way MindSpore Hub writes them, and compared with their English card.

A twin writes its metadata keys in Chinese with full-width colons (`模型名称：plain-CNN-resnet50`),
which YAML reads as plain text, so it is read here line by line: `key：value` entries, `资源：`
followed by `- key：value` list items.  Keys map to English through the profile's `twin-keys`,
words through `twin-values` (推理 -> inference).  Values are compared with the normalisations a
maintainer accepts: case, spaces, '-' and '_' in names (CIFAR-10 = cifar10, Apache 2.0 =
Apache2.0), a leading '.' (.mslite = mslite), leading zeros in dates (2020-9-8 = 2020-09-08);
links and hashes exactly; `summary` is translated text.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..config import CardSettings
from ..diagnostics import Diagnostic, Pos, error, warning
from ..durable import JSON, JSONObject

#: free text that a translated twin is expected to differ in
TRANSLATED_FIELDS = frozenset({"summary"})
_EXACT = frozenset({"asset-link", "repo-link", "asset-sha256"})
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# the key runs greedily to the first colon and is stripped where it is read: a lazy key before `\s*` was
# quadratic in the spaces of a line without a colon (16,000 of them: 1.2 s; a 1 MiB line: an hour)
_ENTRY = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s*)?(?P<key>[^\s：:#-][^：:]*)[：:]\s?(?P<value>.*)$")


def is_twin(file: str) -> bool:
    """Whether a card's file is a `_cn.md` twin (checked with its English card, never published itself)."""
    return file.endswith("_cn.md")


def english_path(twin: Path) -> Path:
    return twin.with_name(twin.name[: -len("_cn.md")] + ".md")


class TwinView:
    """A twin's metadata as English keys and values, and the file position of each."""

    __slots__ = ("metadata", "positions", "raw_keys")

    def __init__(self, metadata: JSONObject | None = None, positions: dict[str, Pos] | None = None) -> None:
        self.metadata: JSONObject = {} if metadata is None else metadata
        self.positions: dict[str, Pos] = {} if positions is None else positions  # pointer -> position of the entry
        self.raw_keys: dict[str, str] = {}  # pointer -> the key as the twin wrote it

    def pos(self, pointer: str) -> Pos:
        return self.positions.get(pointer) or self.positions.get("", Pos(1, 1))


def _value(text: str, settings: CardSettings) -> JSON:
    text = text.strip()
    if not text:
        return None
    if text[0] in "[{":
        # a flow value, read by the cards' own reader: the C parser, and anchors and aliases refused (PyYAML's
        # safe_load took 30 s and 3 GiB on one line of nested aliases); imported here, so that what only asks
        # `is_twin` (a replay) needs no PyYAML
        from ..yamlsource import parse

        doc = parse(text, path="", line_offset=1)
        if not doc.diagnostics and isinstance(doc.data, (list, dict)):
            return doc.data
    return settings.twin_values.get(text, text)


def read_twin(yaml_text: str, first_line: int, settings: CardSettings) -> TwinView:
    """The twin's entries, one per `key：value` line (blank and unreadable lines are passed over)."""
    view = TwinView(positions={"": Pos(first_line, 1)})
    items: list[JSON] = []
    current: JSONObject | None = None
    for offset, line in enumerate(yaml_text.split("\n")):
        match = _ENTRY.match(line.rstrip())
        if match is None:
            continue
        raw = match["key"].strip()
        key = settings.twin_keys.get(raw, raw)
        pos = Pos(first_line + offset, len(match["indent"]) + (len(match["dash"] or "")) + 1)
        if match["dash"] is not None or (match["indent"] and current is not None):
            if match["dash"] is not None:
                current = {}
                items.append(current)
            assert current is not None
            pointer = f"/asset/{len(items) - 1}/{key}"
            current[key] = _value(match["value"], settings)
        else:
            current = None
            pointer = f"/{key}"
            view.metadata[key] = _value(match["value"], settings)
            if key == "asset":
                view.metadata[key] = items
        view.positions[pointer] = pos
        view.raw_keys[pointer] = raw
    return view


def canon(key: str, value: JSON) -> JSON:
    """The value as a maintainer compares it."""
    if isinstance(value, list):
        return [canon(key, v) for v in value]
    if isinstance(value, dict):
        return {k: canon(k, v) for k, v in value.items()}
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if key in _EXACT:
        return text
    date = _DATE.fullmatch(text)
    if date:  # 2020-9-8 = 2020-09-08
        return "-".join(str(int(part)) for part in date.groups())
    return re.sub(r"[\s_-]", "", text.lstrip(".").casefold())


def _show(value: JSON) -> str:
    return repr(value) if not isinstance(value, str) else repr(value.strip())


def compare(view: TwinView, display: str, english_meta: JSONObject, english_display: str,
            english_pos: dict[str, Pos]) -> list[Diagnostic]:
    """A HUB301 per disagreeing key (at the twin's line for it); one for missing keys, one for extra keys."""
    diags: list[Diagnostic] = []
    theirs = {k for k in english_meta if k not in TRANSLATED_FIELDS}
    mine = {k for k in view.metadata if k not in TRANSLATED_FIELDS}
    start = view.pos("")
    if theirs - mine:
        missing = sorted(theirs - mine)
        diags.append(error(display, start.line, start.col, "HUB301",
                           f"the twin lacks {len(missing)} key(s) {english_display} has: {', '.join(missing)}",
                           hint="copy them from the English card (in the twin's own words)"))
    if mine - theirs:
        extra = sorted(mine - theirs)
        diags.append(error(display, view.pos(f"/{extra[0]}").line, 1, "HUB301",
                           f"the twin has {len(extra)} key(s) {english_display} lacks: {', '.join(extra)}",
                           pointer=f"/{extra[0]}", hint="keep the metadata of both cards the same"))
    for key in sorted(mine & theirs):
        diags += _differences(view, display, key, view.metadata[key], english_meta[key], english_display,
                              english_pos)
    return diags


def _differences(view: TwinView, display: str, key: str, mine: JSON, theirs: JSON, english_display: str,
                 english_pos: dict[str, Pos]) -> list[Diagnostic]:
    if key == "asset" and isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        out = []
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            if not (isinstance(a, dict) and isinstance(b, dict)):
                out += _one(view, display, f"/asset/{i}", "asset", a, b, english_display, english_pos)
                continue
            for sub in sorted(set(a) | set(b)):
                out += _one(view, display, f"/asset/{i}/{sub}", sub, a.get(sub), b.get(sub), english_display,
                            english_pos)
        return out
    return _one(view, display, f"/{key}", key, mine, theirs, english_display, english_pos)


def _one(view: TwinView, display: str, pointer: str, key: str, mine: JSON, theirs: JSON, english_display: str,
         english_pos: dict[str, Pos]) -> list[Diagnostic]:
    if canon(key, mine) == canon(key, theirs):
        return []
    pos = view.pos(pointer)
    raw = view.raw_keys.get(pointer)
    as_written = f" ({raw})" if raw and raw != key else ""
    where = english_pos.get(pointer)
    there = f"{english_display}:{where.line}" if where else english_display
    return [error(display, pos.line, pos.col, "HUB301",
                  f"'{key.strip('/')}'{as_written} differs from the English card: {_show(mine)} here, "
                  f"{_show(theirs)} at {there}", pointer=pointer,
                  hint="the two cards must carry the same metadata")]


def not_comparable(display: str, line: int, reason: str) -> Diagnostic:
    return warning(display, line, 1, "HUB302", f"this _cn twin cannot be compared with its English card: {reason}",
                   hint="write the twin's keys as `key：value` lines (or in English, as YAML)")


def without_english(display: str, english: Path) -> Diagnostic:
    return warning(display, 1, 1, "HUB305", f"this _cn twin has no English card ({english.name})",
                   hint="add the English card next to it")
