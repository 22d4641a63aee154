"""The schema `hubtool schema` gives is the tool's: other validators reach the same verdicts with it.

A card as YAML readers see it (1.0 is a number, links are written <https://...>) is validated by
check-jsonschema (PyPI, a YAML 1.1 reader) and by yaml-language-server (npm, YAML 1.2, what
editors run) against the exported card schema; hubtool's own schema findings (HUB2xx, and
HUB402/HUB403, which speak for the hash pattern) must fall on exactly the same cards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from yamlls import yaml_language_server

from helpers import REPO, SHARED, check_json, run_cli

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
SAMPLE = SHARED / "hub-sample" / "cards"
SCHEMA_CODES = ("HUB2", "HUB402", "HUB403")


def front_matter(card: Path) -> str:
    text = card.read_text(encoding="utf-8")
    start = text.index("---\n") + 4
    return text[start:text.index("\n---", start)] + "\n"


def failing(schema: Path, files: list[Path]) -> set[str]:
    proc = subprocess.run([str(CHECK_JSONSCHEMA), "--schemafile", str(schema), "-o", "json", *map(str, files)],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout)
    assert not report.get("parse_errors"), report["parse_errors"]
    return {Path(e["filename"]).name for e in report.get("errors", [])}


def seed_block(tmp_path: Path) -> Path:
    block = tmp_path / "seed.yaml"
    block.write_text(front_matter(REPO / "cards" / "noah-cvlab" / "plain-CNN-resnet50.md"))
    return block


def hub_schema() -> Path:
    return Path(run_cli("schema").output.strip())  # what an editor is pointed at


def test_the_seed_passes_check_jsonschema(tmp_path: Path) -> None:
    assert failing(hub_schema(), [seed_block(tmp_path)]) == set()


def test_the_seed_passes_yaml_language_server(tmp_path: Path) -> None:
    seed = seed_block(tmp_path)
    broken = tmp_path / "broken.yaml"  # proves the server applies the schema at all
    broken.write_text(seed.read_text().replace("model-name:", "model-nam:"))
    with yaml_language_server(hub_schema()) as server:
        found = server.diagnostics([seed, broken])
    assert found[seed] == []
    messages = [str(d["message"]) for d in found[broken]]
    assert any("model-name" in m for m in messages) and any("model-nam" in m for m in messages), messages


@pytest.fixture(scope="module")
def sample_blocks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The parseable English sample cards' front matter, one .yaml each, by the card's resolved path."""
    out_dir = tmp_path_factory.mktemp("sample-blocks")
    blocks = {}
    for card in sorted(SAMPLE.rglob("*.md")):
        text = front_matter(card)
        try:
            yaml.safe_load(text)
        except yaml.YAMLError:
            continue  # not YAML: no validator gets to a schema verdict
        if card.name.endswith("_cn.md"):
            continue  # twins are compared with their English card, not validated
        out = out_dir / (card.relative_to(SAMPLE).as_posix().replace("/", "__") + ".yaml")
        out.write_text(text)
        blocks[str(card.resolve())] = out
    assert len(blocks) > 250
    return blocks


def hubtool_schema_verdicts(blocks: dict[str, Path]) -> set[str]:
    _, doc = check_json("--config", str(REPO / "examples" / "mindspore-hub" / "hub.yaml"), str(SAMPLE))
    return {blocks[str(Path(d["path"]).resolve())].name for d in doc["diagnostics"]
            if d["code"].startswith(SCHEMA_CODES) and str(Path(d["path"]).resolve()) in blocks}


needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="../shared/hub-sample is not beside this checkout")


@needs_sample
def test_check_jsonschema_gives_hubtools_verdicts_on_the_real_cards(sample_blocks: dict[str, Path]) -> None:
    schema = Path(run_cli("schema", "--profile", "mindspore-hub").output.strip())
    theirs = failing(schema, list(sample_blocks.values()))
    ours = hubtool_schema_verdicts(sample_blocks)
    assert theirs == ours and len(ours) == 10  # the ten 8-hex "hashes"


@needs_sample
def test_yaml_language_server_gives_hubtools_verdicts_on_the_real_cards(sample_blocks: dict[str, Path]) -> None:
    schema = Path(run_cli("schema", "--profile", "mindspore-hub").output.strip())
    with yaml_language_server(schema) as server:
        found = server.diagnostics(list(sample_blocks.values()))
    theirs = {doc.name for doc, diagnostics in found.items() if diagnostics}
    assert theirs == hubtool_schema_verdicts(sample_blocks) and len(theirs) == 10
