"""A card's document path in a published hub: one segment per part, whatever the card says."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import REPO, canary_card, run_cli, runtime_env
from hubtool.publish.docpath import document_path, segment

_UNRESERVED = re.compile(r"[A-Za-z0-9._+~-]+")  # what a URL and any file system take as they are


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=12), st.text(max_size=12))
def test_a_segment_is_one_safe_name_and_the_same_only_for_the_same_text(a: str, b: str) -> None:
    for text in (a, b):
        part = segment(text)
        assert _UNRESERVED.fullmatch(part) and part not in (".", "..")
    assert (segment(a) == segment(b)) == (a == b)


def test_ordinary_names_keep_their_paths() -> None:
    assert document_path("noah-cvlab", "plain-CNN-resnet50", "1.0") == "cards/noah-cvlab/plain-CNN-resnet50@1.0.json"
    assert document_path("..", "a/b", "../../x") == "cards/~2E~2E/a~2Fb@..~2F..~2Fx.json"
    assert segment("") == "~" and segment("~") == "~7E" and segment("é") == "~C3~A9" and segment("a@b") == "a~40b"


def test_a_version_that_climbs_stays_in_the_generation(tmp_path: Path) -> None:
    """model-version `../../../../../../escaped` (any string of up to 32 characters passes the default schema)
    put the document and its catalog page in dist/, outside the generation."""
    runtime_env()
    shutil.copytree(REPO / "hub" / "assets", tmp_path / "hub" / "assets")
    shutil.copytree(REPO / "hub" / "golden", tmp_path / "hub" / "golden")
    (tmp_path / "hub" / "hub.yaml").write_text("name: t\ngolden:\n  default-sets: {cifar10: cifar10}\n")
    (tmp_path / "cards" / "u").mkdir(parents=True)
    (tmp_path / "cards" / "u" / "canary.md").write_text(
        canary_card(**{"model-name": "canary", "model-version": "'../../../../../../escaped'"}))
    result = run_cli("publish", "--to", str(tmp_path / "dist" / "hub"), "--store", str(tmp_path / "store"),
                     "--config", str(tmp_path / "hub" / "hub.yaml"), str(tmp_path / "cards"))
    assert result.exit_code == 0, result.output
    written = {p.relative_to(tmp_path / "dist").parts[:2] for p in (tmp_path / "dist").rglob("*escaped*")}
    assert written == {("hub.generations", "00000001")}, written
    [document] = (tmp_path / "dist" / "hub" / "cards" / "u").glob("*.json")
    assert document.name == "canary@..~2F..~2F..~2F..~2F..~2F..~2Fescaped.json"
