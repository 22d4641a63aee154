"""Bytes -> text -> plain data plus the file position of every key and value.

PyYAML's own constructors lose positions, keep the last of duplicate keys
silently and expand aliases (billion laughs).  So the tree is built here from
the parser's *events* (the C parser when available): duplicate keys at any
depth are reported with both lines, anchors and aliases are refused at the
first one (nothing is ever expanded), and plain scalars that YAML would
silently turn into numbers, booleans or dates are remembered as written so the
card layer can keep them as strings where the schema wants strings.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import yaml
from yaml import events as ev

from .diagnostics import Diagnostic, Pos, error
from .durable import JSON
from .errors import YamlRefused

try:  # the C parser is ~10x faster; fall back to pure Python where libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 64
_ALLOWED_TAGS = {None, "!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:int",
                 "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                 "tag:yaml.org,2002:null", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


class RawScalar(NamedTuple):
    """A plain scalar whose YAML type is not string: the text as written."""

    text: str
    value: int | float | bool | None
    tag: str


class YamlDoc:
    """A parsed YAML block: its data, where each value and key is, and what reading it found.

    A plain class, not a dataclass: see diagnostics.Diagnostic for why the pre-commit path has none.
    """

    __slots__ = ("data", "values", "keys", "raw", "angled", "diagnostics", "unreadable", "broken_line")

    def __init__(self, data: JSON = None) -> None:
        self.data = data
        self.values: dict[str, Pos] = {}  # pointer -> value position
        self.keys: dict[str, Pos] = {}  # pointer -> key position
        self.raw: dict[str, RawScalar] = {}  # pointer -> non-string plain scalar
        self.angled: list[str] = []  # pointers of strings written <like this>
        self.diagnostics: list[Diagnostic] = []
        self.unreadable: set[str] = set()  # pointers of numbers kept as text (HUB111)
        # a syntax error's file line: where the construct YAML could not finish began (0: no syntax error)
        self.broken_line = 0


def _hint_for(problem: str, line_text: str) -> str:
    if "mapping values are not allowed" in problem:
        return ("a value containing ': ' must be quoted, e.g. key: \"a: b\"; "
                "or the line is indented too deep")
    if line_text.rstrip().endswith(": -"):
        return ("a lone '-' starts a list, which cannot stand here: write `no`, quote it ('-'), or leave it empty "
                "(MindSpore Hub's validator rewrites `evaluation: -` before parsing; other YAML readers refuse it)")
    if "block sequence entries are not allowed" in problem:
        return "a lone '-' starts a list: put list items on the following lines, or quote the value"
    if "found character '\\t'" in problem or "\t" in line_text:
        return "YAML forbids tabs for indentation: use spaces"
    if "could not find expected ':'" in problem:
        return "every metadata line must be 'key: value'; a continued value must be indented"
    if "found undefined alias" in problem or "found unknown escape" in problem:
        return "quote the value"
    return "check the indentation and quote values that contain ':', '#', '[', '{' or a leading '-'"


_SCALAR, _SEQ, _MAP = ev.ScalarEvent, ev.SequenceStartEvent, ev.MappingStartEvent
_SEQ_END, _MAP_END = ev.SequenceEndEvent, ev.MappingEndEvent
_STR_TAGS = ("tag:yaml.org,2002:str", "!")
_tag_cache: dict[str, str] = {}
# Pos(line, col) runs a generated Python __new__; the tuple constructor itself does not (~100 ns a node)
_new_tuple = tuple.__new__


def _plain_tag(text: str) -> str:
    """The implicit tag of a plain scalar (memoised: card values repeat a lot)."""
    tag = _tag_cache.get(text)
    if tag is None:
        tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        if len(_tag_cache) < 8192:
            _tag_cache[text] = tag
    return tag


def _child(pointer: str, token: str | int) -> str:
    token = str(token)
    if "~" in token or "/" in token:
        token = token.replace("~", "~0").replace("/", "~1")
    return pointer + "/" + token


class _Builder:
    def __init__(self, path: str, line_offset: int, text: str) -> None:
        self.path = path
        self.offset = line_offset
        self.text = text
        self.doc = YamlDoc()

    def pos(self, mark: Any) -> Pos:
        return Pos(mark.line + self.offset, mark.column + 1)

    def fail(self, mark: Any, code: str, message: str, hint: str, pointer: str = "") -> None:
        p = self.pos(mark)
        self.doc.diagnostics.append(error(self.path, p.line, p.col, code, message,
                                          pointer=pointer, hint=hint))
        raise YamlRefused(message)

    def build(self) -> YamlDoc:
        loader = _Loader(self.text)
        try:
            # a C-level callable iterator: no Python generator frame per event
            # (both parsers return None once the stream is exhausted)
            self._document(iter(loader.get_event, None))
        except YamlRefused:
            self.doc.data = None
        except yaml.MarkedYAMLError as exc:
            self._syntax_error(exc)
        except yaml.YAMLError as exc:  # reader errors: control characters and the like
            self._reader_error(exc)
        finally:
            loader.dispose()
        return self.doc

    def _syntax_error(self, exc: yaml.MarkedYAMLError) -> None:
        mark = exc.problem_mark or exc.context_mark
        started = exc.context_mark if exc.context_mark and (not mark or exc.context_mark.line <= mark.line) else mark
        self.doc.broken_line = (started.line if started else 0) + self.offset
        line = (mark.line if mark else 0)
        col = (mark.column if mark else 0)
        lines = self.text.split("\n")
        line_text = lines[line] if line < len(lines) else ""
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        self.doc.data = None
        self.doc.diagnostics.append(error(
            self.path, line + self.offset, col + 1, "HUB101",
            f"YAML syntax error: {problem}{context}", hint=_hint_for(problem, line_text)))

    def _reader_error(self, exc: yaml.YAMLError) -> None:
        position = int(getattr(exc, "position", 0) or 0)
        line = self.text.count("\n", 0, position)
        col = position - (self.text.rfind("\n", 0, position) + 1)
        self.doc.data = None
        self.doc.diagnostics.append(error(
            self.path, line + self.offset, col + 1, "HUB106",
            f"the metadata contains a character YAML does not allow: {exc}",
            hint="remove control characters from the card"))

    def _document(self, stream: Any) -> None:
        documents = 0
        for event in stream:
            if isinstance(event, ev.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.fail(event.start_mark, "HUB107", "the front matter holds more than one YAML document",
                              "remove the extra '---' or '...' line inside the metadata")
                node_event = next(stream)
                if isinstance(node_event, ev.DocumentEndEvent):
                    continue
                self.doc.data = self._node(node_event, stream, "", 0)

    def _check_node(self, event: Any, pointer: str) -> None:
        # the common case (no anchor, no tag) costs two attribute reads
        anchor = getattr(event, "anchor", None)
        tag = getattr(event, "tag", None)
        if anchor is not None or type(event) is ev.AliasEvent:
            self.fail(event.start_mark, "HUB103", "YAML anchors and aliases are not allowed in a card",
                      "write the value out in full", pointer)
        if tag is not None and tag not in _ALLOWED_TAGS:
            self.fail(event.start_mark, "HUB104", f"YAML tag {tag!r} is not allowed in a card",
                      "remove the '!tag'; cards hold plain strings, numbers, lists and mappings", pointer)

    def _node(self, event: Any, stream: Any, pointer: str, depth: int) -> Any:
        if event.anchor is not None or getattr(event, "tag", None) is not None:  # the common case: neither
            self._check_node(event, pointer)
        if depth > MAX_DEPTH:
            self.fail(event.start_mark, "HUB108", f"the metadata is nested deeper than {MAX_DEPTH} levels",
                      "flatten the metadata", pointer)
        mark = event.start_mark
        self.doc.values[pointer] = _new_tuple(Pos, (mark.line + self.offset, mark.column + 1))
        kind = type(event)
        if kind is _SCALAR:
            return self._scalar(event, pointer)
        if kind is _MAP:
            return self._mapping(stream, pointer, depth)
        if kind is _SEQ:
            items: list[Any] = []
            for child in stream:
                if type(child) is _SEQ_END:
                    return items
                items.append(self._node(child, stream, _child(pointer, len(items)), depth + 1))
        raise AssertionError(f"unexpected YAML event {event!r}")  # the parser guarantees structure

    def _mapping(self, stream: Any, pointer: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        keys = self.doc.keys
        for key_event in stream:
            if type(key_event) is _MAP_END:
                return result
            if type(key_event) is not _SCALAR or key_event.anchor is not None or key_event.tag is not None:
                self._check_node(key_event, pointer)
            if type(key_event) is not _SCALAR:
                self.fail(key_event.start_mark, "HUB105", "a metadata key must be a plain name, not a list or mapping",
                          "write 'key: value'", pointer)
            key = key_event.value
            child = _child(pointer, key) if "~" in key or "/" in key else pointer + "/" + key  # inline: the usual key
            mark = key_event.start_mark
            key_pos = _new_tuple(Pos, (mark.line + self.offset, mark.column + 1))
            if key in result:
                first = keys[child]
                self.doc.diagnostics.append(error(
                    self.path, key_pos.line, key_pos.col, "HUB102",
                    f"duplicate key '{key}': first at line {first.line}, again at line {key_pos.line}",
                    pointer=child, hint="keep one of them; YAML readers silently keep only the last"))
                self._skip(next(stream), stream, child)  # keep the first value
                continue
            keys[child] = key_pos
            result[key] = self._node(next(stream), stream, child, depth + 1)
        raise AssertionError("unterminated mapping")  # the parser raises before this

    def _skip(self, event: Any, stream: Any, pointer: str) -> None:
        """Consume one node's events without building it (still refusing anchors)."""
        depth = 0
        while True:
            self._check_node(event, pointer)
            if isinstance(event, (_SEQ, _MAP)):
                depth += 1
            elif isinstance(event, (_SEQ_END, _MAP_END)):
                depth -= 1
            if depth == 0:
                return
            event = next(stream)

    def _scalar(self, event: ev.ScalarEvent, pointer: str) -> Any:
        text = event.value
        if text[:1] == "<":
            self.doc.angled.append(pointer)  # a <link>: the card layer unwraps it (no second tree walk)
        if event.style or not event.implicit[0] or event.tag in _STR_TAGS:
            return text  # quoted, block or explicitly a string: exactly as written
        tag = event.tag or _tag_cache.get(text) or _plain_tag(text)
        if tag == "tag:yaml.org,2002:str":
            return text
        value: Any
        if tag == "tag:yaml.org,2002:timestamp":
            value = text  # timestamps stay strings: 2020-11-17 is a date to YAML, not to the hub
        elif tag == "tag:yaml.org,2002:null":
            value = None
        else:
            node = yaml.ScalarNode(tag, text)  # marks unused: the constructors only read the value
            if tag == "tag:yaml.org,2002:bool":
                value = _constructor.construct_yaml_bool(node)
            elif tag == "tag:yaml.org,2002:int":
                try:
                    value = _constructor.construct_yaml_int(node)
                except ValueError:  # Python refuses int() of over 4,300 digits, as every Python reader will
                    return self._unreadable(event, pointer, f"an integer of {len(text):,} digits, more than "
                                            "YAML readers in Python accept (4,300)")
            elif tag == "tag:yaml.org,2002:float":
                value = _constructor.construct_yaml_float(node)
                if not math.isfinite(value):  # .inf, .nan, 1e999: JSON (the index, --format json) has none
                    return self._unreadable(event, pointer, f"{text[:40]!r} is not a finite number")
            else:  # pragma: no cover - the core resolver has no other implicit tags
                value = text
        self.doc.raw[pointer] = RawScalar(text, value, tag.rsplit(":", 1)[-1])
        return value

    def _unreadable(self, event: ev.ScalarEvent, pointer: str, why: str) -> str:
        """A number no JSON or Python reader can carry: said at its line, kept as the text written."""
        line, col = (event.start_mark.line, event.start_mark.column) if event.start_mark else (0, 0)
        self.doc.diagnostics.append(error(self.path, line + self.offset, col + 1, "HUB111", why,
                                          pointer=pointer, hint="write a number of ordinary size, or quote it"))
        self.doc.unreadable.add(pointer)
        return event.value


def parse(text: str, *, path: str, line_offset: int) -> YamlDoc:
    """Parse a YAML block that starts at file line `line_offset` (1-based)."""
    return _Builder(path, line_offset, text).build()

