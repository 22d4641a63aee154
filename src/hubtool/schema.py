"""The bundled JSON Schemas, the hub's extensions to them, and compiled validators."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .durable import JSON, JSONObject, parse_json
from .errors import ExplainerNotLoaded, SchemaError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

    from .config import CardSettings, HubConfig, ModuleTypes


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
        loaded = parse_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot read schema {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise SchemaError(f"schema {path} is not a JSON object")
    return loaded


def hub_card_schema(config: HubConfig) -> JSONObject:
    """The card schema of this hub: its profile's (`card_schema`), with the formats and backends hub.yaml adds."""
    return card_schema(config.card, file_formats=config.extra_file_formats, backends=config.extra_backends)


def card_schema(card: CardSettings, *, file_formats: tuple[str, ...] = (),
                backends: tuple[str, ...] = ()) -> JSONObject:
    """The card schema of a hub: the bundled one with the profile's and the hub's settings applied.

    This is hubtool's view of a card: values the schema types as strings were kept as written
    (1.10 stays "1.10") and <links> unwrapped.  `reader_view` turns it into what editors and
    other validators need for the same card as a YAML reader sees it.
    """
    # the bundled schema's shape is known: navigate it untyped
    schema: dict[str, Any] = copy.deepcopy(load_schema("model-card"))
    props = schema["properties"]
    schema["required"] = list(card.required)
    props["module-type"]["pattern"] = module_type_pattern(card.module_types)
    props["module-type"]["description"] = module_type_description(card.module_types)
    if card.evaluation == "text":
        props["evaluation"] = {"description": "Free text (acc89.38, top1acc62 | top5acc78), or a mapping of "
                                              "metric -> value.",
                               "type": ["string", "number", "boolean", "null", "object"]}
    if file_formats:
        formats = schema["$defs"]["asset"]["properties"]["file-format"]
        formats["enum"] = list(formats["enum"]) + [f for f in file_formats if f not in formats["enum"]]
    for key in ("train-backend", "infer-backend") if backends else ():
        props[key]["enum"] = list(props[key]["enum"]) + [b for b in backends if b not in props[key]["enum"]]
    return schema


def exported_card_schema(card: CardSettings, *, profile: str, file_formats: tuple[str, ...] = (),
                         backends: tuple[str, ...] = ()) -> JSONObject:
    """The card schema editors and other validators use: the reader's view, named after its profile."""
    view: dict[str, Any] = dict(reader_view(card_schema(card, file_formats=file_formats, backends=backends)))
    view["$id"] = f"urn:hubtool:schema:model-card:1:{profile}"
    view["title"] = f"{view['title']} ({profile} profile)"
    return view


def module_type_description(types: ModuleTypes) -> str:
    bases = ", ".join(types.bases)
    tasks = "at most one '-<task>' part" if types.max_tasks == 1 else "'-<task>' parts"
    if types.bare:
        return f"Task family, alone or with {tasks}: a base ({bases}), e.g. cv or cv-classification."
    return f"Task family and task: a base ({bases}) followed by '-' and the task, e.g. cv-classification."


def module_type_pattern(types: ModuleTypes) -> str:
    """`^(cv|nlp|...)(-task){lo,hi}$`: a base, then as many '-<task>' parts as the dialect allows."""
    low = 0 if types.bare else 1
    if types.max_tasks is None:
        count = "*" if low == 0 else "+"
    else:
        count = "?" if (low, types.max_tasks) == (0, 1) else f"{{{low},{types.max_tasks}}}"
    return f"^({'|'.join(types.bases)})(-[A-Za-z0-9_]+){count}$"


#: what hubtool unwraps: <scheme://...>, markdown's autolink form
_BRACKETED_URL = "<(?=[A-Za-z][A-Za-z0-9+.-]*://)"


def reader_view(schema: JSONObject) -> JSONObject:
    """The same rules for a card as YAML readers (editors, check-jsonschema) see it.

    hubtool keeps plain scalars as written where the schema wants a string, so a string field
    may hold what YAML reads as a number or a boolean (model-version: 1.0), and it unwraps
    <https://...> links, so a patterned string may also be the bracketed URL.
    """
    view: dict[str, Any] = copy.deepcopy(schema)
    _widen(view)
    return view


def _widen(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _widen(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _widen(value)
    types = node.get("type")
    types = [types] if isinstance(types, str) else types
    if isinstance(types, list) and "string" in types:
        node["type"] = types + [t for t in ("number", "boolean") if t not in types]
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("^") and pattern.endswith("$"):
            inner = pattern[1:-1]
            node["pattern"] = f"^(?:{_BRACKETED_URL}(?:{inner})>|(?:{inner}))$"


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

        from .fastschema import fast_validator

        self.schema = schema
        self._fast = fast_validator(schema)
        self._fast_error = fastjsonschema.JsonSchemaException
        self._detailed: Draft202012Validator | None = None
        self.import_held = False

    def is_valid(self, instance: JSON) -> bool:
        try:
            self._fast(instance)
        except self._fast_error:
            return False
        return True

    def iter_errors(self, instance: JSON) -> Iterator[ValidationError]:
        """jsonschema's errors for an instance (all of them, with paths)."""
        return self.prepare_explaining().iter_errors(instance)

    def prepare_explaining(self) -> Draft202012Validator:
        """The explaining validator, imported and built now if it was not yet (unless `import_held`)."""
        if self._detailed is None:
            if self.import_held:
                raise ExplainerNotLoaded()
            self._detailed = validator_for(self.schema)
        return self._detailed


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
