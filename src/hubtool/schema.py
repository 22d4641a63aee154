"""The bundled JSON Schemas, the hub's extensions to them, and compiled validators."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .durable import JSON, JSONObject
from .errors import SchemaError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError


def schema_dir() -> Path:
    """Where the schemas are: inside the installed package, or the repository's `schemas/`."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_schemas", here.parents[1] / "schemas"):
        if (candidate / "model-card.schema.json").is_file():
            return candidate
    raise SchemaError("the bundled JSON Schemas are missing",
                      hint="reinstall hubtool; the schemas ship with the package")


def schema_path(name: str) -> Path:
    return schema_dir() / f"{name}.schema.json"


@cache
def load_schema(name: str) -> JSONObject:
    path = schema_path(name)
    try:
        loaded: JSONObject = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot read schema {path}: {exc}") from exc
    return loaded


def extended_card_schema(*, module_types: tuple[str, ...] = (), file_formats: tuple[str, ...] = (),
                         backends: tuple[str, ...] = ()) -> JSONObject:
    """The card schema with the hub's extra vocabulary (hub/hub.yaml `schema:`)."""
    schema = load_schema("model-card")
    if not (module_types or file_formats or backends):
        return schema
    # the bundled schema's shape is known: navigate it untyped
    extended: dict[str, Any] = copy.deepcopy(schema)
    props = extended["properties"]
    if module_types:
        pattern: str = props["module-type"]["pattern"]
        head, rest = pattern.split(")", 1)
        props["module-type"]["pattern"] = head + "|" + "|".join(module_types) + ")" + rest
    if file_formats:
        formats = extended["$defs"]["asset"]["properties"]["file-format"]
        formats["enum"] = list(formats["enum"]) + [f for f in file_formats if f not in formats["enum"]]
    for key in ("train-backend", "infer-backend") if backends else ():
        props[key]["enum"] = list(props[key]["enum"]) + [b for b in backends if b not in props[key]["enum"]]
    return extended


def validator_for(schema: JSONObject) -> Draft202012Validator:
    """A Draft 2020-12 validator that explains every error (jsonschema, imported when needed)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


class Validator:
    """Validity in a few microseconds, explanations only when something is wrong.

    fastjsonschema compiles the schema to Python code and answers "valid?" about
    15x faster than jsonschema; most cards are valid, so jsonschema (and its 90 ms
    import) is only needed for the cards that are not.  The schemas use only
    keywords both libraries implement identically (a test holds them to it).
    """

    def __init__(self, schema: JSONObject) -> None:
        import fastjsonschema

        self.schema = schema
        self._fast = fastjsonschema.compile(schema)
        self._fast_error = fastjsonschema.JsonSchemaException
        self._detailed: Draft202012Validator | None = None

    def is_valid(self, instance: JSON) -> bool:
        try:
            self._fast(instance)
        except self._fast_error:
            return False
        return True

    def iter_errors(self, instance: JSON) -> Iterator[ValidationError]:
        """jsonschema's errors for an instance (all of them, with paths)."""
        if self._detailed is None:
            self._detailed = validator_for(self.schema)
        return self._detailed.iter_errors(instance)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = schema
        for part in ref[2:].split("/"):
            target = target[part]
        return _resolve(schema, target)
    return node


def wants_string(schema: JSONObject, parts: tuple[str | int, ...]) -> bool:
    """True when the schema types the value at `parts` as a string and nothing else scalar.

    Used to keep `model-version: 1.10` as the string "1.10" instead of YAML's 1.1.
    """
    node: Any = schema
    for part in parts:
        node = _resolve(schema, node)
        if isinstance(part, int):
            node = node.get("items")
        else:
            node = node.get("properties", {}).get(part, node.get("additionalProperties"))
        if not isinstance(node, dict):
            return False
    node = _resolve(schema, node)
    types = node.get("type")
    types = [types] if isinstance(types, str) else (types or [])
    return "string" in types and not {"number", "integer", "boolean"} & set(types)


def property_names(schema: JSONObject, parts: tuple[str | int, ...]) -> list[str]:
    """Names the schema allows in the mapping at `parts` (for "did you mean")."""
    node: Any = schema
    for part in parts:
        node = _resolve(schema, node)
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
        if not isinstance(node, dict):
            return []
    return list(_resolve(schema, node).get("properties", {}))
