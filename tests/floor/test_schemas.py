"""The bundled schemas are valid against their metaschema and document every field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from helpers import REPO
from hubtool import profile
from hubtool.config import profile_config

SCHEMAS = sorted((REPO / "schemas").glob("*.schema.json"))


@pytest.mark.parametrize("path", SCHEMAS, ids=[p.name for p in SCHEMAS])
def test_schema_is_valid_and_resolvable(path: Any) -> None:
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("urn:hubtool:schema:")
    # every $ref must resolve: validating an empty and a filled instance exercises them all
    validator = Draft202012Validator(schema)
    list(validator.iter_errors({}))


def _properties(node: Any, where: str = "") -> Any:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}/{name}", sub
        for key, sub in node.items():
            if key != "properties":
                yield from _properties(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{where}/{i}")


def test_every_card_property_has_a_description() -> None:
    schema = json.loads((REPO / "schemas" / "model-card.schema.json").read_text())
    undocumented = [where for where, sub in _properties(schema)
                    if "description" not in sub and "$ref" not in sub]
    assert undocumented == []


def test_card_refs_resolve_for_a_real_card() -> None:
    schema = json.loads((REPO / "schemas" / "model-card.schema.json").read_text())
    instance = {"asset": [{"file-format": "x"}], "golden": {"set": 1}}
    paths = {tuple(e.absolute_path) for e in Draft202012Validator(schema).iter_errors(instance)}
    assert ("asset", 0, "file-format") in paths and ("golden", "set") in paths


def test_bundled_profile_schemas_are_current() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "build_schemas.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", profile.available())
def test_every_profile_is_a_valid_hub_yaml(name: str, tmp_path: Path) -> None:
    config = profile_config(name, tmp_path)  # validated against schemas/hub.schema.json on the way
    assert config.profile == name and config.card.required and config.card.module_types.bases


@pytest.mark.parametrize("tasks", [10**38, 2**32])
def test_a_max_tasks_past_what_a_pattern_can_repeat_is_a_config_error(tasks: int, tmp_path: Path) -> None:
    """max-tasks becomes a regex repetition count: past Python's limit it was an internal OverflowError."""
    from hubtool.config import load_config
    from hubtool.errors import ConfigError

    path = tmp_path / "hub.yaml"
    path.write_text(f"name: t\ncard: {{module-type: {{max-tasks: {tasks}}}}}\n")
    with pytest.raises(ConfigError, match="greater than the maximum of 1000"):
        load_config(path)
    path.write_text("name: t\ncard: {module-type: {max-tasks: 1000}}\n")
    assert load_config(path).card.module_types.max_tasks == 1000
