"""jsonschema's errors -> diagnostics that say what is wrong at the value's own file position.

Only cards that fail the fast validity check get here, so jsonschema (slow to
import, slow to run) is paid for by broken cards alone.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, error, make_pointer, warning
from ..durable import JSON, JSONObject
from ..schema import Validator, property_names
from .card import Card

if TYPE_CHECKING:
    from jsonschema import ValidationError

_CODES = {"required": "HUB201", "type": "HUB202", "enum": "HUB203", "const": "HUB203",
          "pattern": "HUB204", "format": "HUB204", "additionalProperties": "HUB205"}
Parts = tuple[str | int, ...]


def schema_diagnostics(validator: Validator, card: Card, *, skip: set[str]) -> list[Diagnostic]:
    """Every schema error of the card, once per (pointer, code); pointers in `skip` are reported elsewhere."""
    if validator.is_valid(card.metadata):
        return []
    diags: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for err in validator.iter_errors(card.metadata):
        parts: Parts = tuple(err.absolute_path)
        pointer = make_pointer(parts)
        if pointer in skip:
            continue
        for diag in _translate(validator.schema, card, err, parts, pointer):
            if (diag.pointer, diag.code) not in seen:
                seen.add((diag.pointer, diag.code))
                diags.append(diag)
    return diags


def _describe(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"a {'list' if isinstance(value, list) else 'mapping'}"


def _message(err: ValidationError, name: str) -> tuple[str, str | None]:
    """The message for a type/enum/pattern/other error, and a "did you mean" when there is one."""
    kind, value = err.validator, err.instance
    allowed: Any = err.validator_value  # the schema keyword's value: its shape depends on the keyword
    if kind == "type":
        expected = allowed
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{name} must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}, not {_describe(value)}", None
    if kind == "enum":
        message = f"{name}: {value!r} is not one of: {', '.join(map(str, allowed))}"
        close = difflib.get_close_matches(str(value), [str(v) for v in allowed], n=1)
        return message, (f"did you mean '{close[0]}'?" if close else None)
    if kind == "pattern":
        return f"{name}: {value!r} does not have the required form", None
    return f"{name}: {err.message}", None


def _translate(schema: JSONObject, card: Card, err: ValidationError, parts: Parts,
               pointer: str) -> list[Diagnostic]:
    kind = err.validator
    code = _CODES.get(str(kind), "HUB206")
    allowed: Any = err.validator_value
    instance: Any = err.instance
    if kind == "required":
        missing = [k for k in allowed if k not in instance]
        pos = card.value_pos(pointer)
        return [error(card.display, pos.line, pos.col, code,
                      f"missing required key '{k}'" + (f" in {pointer}" if pointer else ""),
                      pointer=f"{pointer}/{k}", hint=field_hint(schema, parts + (k,)))
                for k in missing]
    if kind == "additionalProperties":
        return _unknown_keys(schema, card, instance, parts)
    pos = card.value_pos(pointer)
    message, close = _message(err, field_name(parts))
    return [error(card.display, pos.line, pos.col, code, message, pointer=pointer,
                  hint=close or field_hint(schema, parts))]


def _unknown_keys(schema: JSONObject, card: Card, instance: JSON, parts: Parts) -> list[Diagnostic]:
    known = property_names(schema, parts)
    out = []
    for key in instance if isinstance(instance, dict) else ():
        if key in known:
            continue
        pointer = make_pointer(parts + (key,))
        pos = card.key_pos(pointer)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
        hint = f"did you mean '{close[0]}'?" if close else "remove it, or check the schema for the right name"
        out.append(warning(card.display, pos.line, pos.col, "HUB205",
                           f"unknown key '{key}'", pointer=pointer, hint=hint))
    return out


def field_hint(schema: JSONObject, parts: Parts) -> str:
    """The schema's description (and first example) of the field at `parts`."""
    defs: Any = schema.get("$defs", {})
    node: Any = schema
    for part in parts:
        while isinstance(node, dict) and "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
        if not isinstance(node, dict):
            return ""
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    hint = str(node.get("description", ""))
    if node.get("examples"):
        hint += f" Example: {node['examples'][0]}"
    return hint.strip()


def field_name(parts: Parts) -> str:
    """A readable name for a field: asset[0].asset-sha256, input-shape[1]."""
    if not parts:
        return "the metadata"
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
