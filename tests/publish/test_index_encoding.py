"""The index is assembled from each card's pre-encoded fields: it must be byte for byte what encoding
the whole index as one dict gives, for any values a card can carry."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from hubtool import __version__
from hubtool.durable import JSON, JSONObject, canonical, compact, compact_object
from hubtool.publish.index import INDEX_FORMAT, CardEntry, Document, Snapshot, card_document
from hubtool.publish.runs import CardRun

AWKWARD_STRINGS = ["", "é", "模型名称", "\u2028", "\x00", "\"quoted\"", "back\\slash", "😀", "</script>",
                   "document", "metadata", "cards", "{", "]"]


def _value(rng: random.Random, depth: int) -> JSON:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**63, -(2**70), 10**40])
    if kind == 2:
        return rng.choice([0.0, -0.0, 1e308, 5e-324, 0.1, 1 / 3])
    if kind in (3, 4):
        return rng.choice(AWKWARD_STRINGS) + str(rng.randrange(3))
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return _object(rng, depth + 1)


def _object(rng: random.Random, depth: int = 0) -> JSONObject:
    # keys that sort differently as text than as their encodings ("a\x00" < "a b", but "a\\u0000" > "a b")
    keys = ["a", "a\"", "a b", "a\x00", "A", "é", "模型", "\x00", "z", "document", "metadata"]
    return {rng.choice(keys) + str(rng.randrange(2)): _value(rng, depth) for _ in range(rng.randrange(6))}


@pytest.mark.parametrize("seed", range(200))
def test_an_object_assembled_from_its_encoded_fields_is_its_compact_encoding(seed: int) -> None:
    doc = _object(random.Random(seed))
    assert compact_object([(k, compact(v)) for k, v in doc.items()]) == compact(doc)
    assert Document.of(doc).encoded() == canonical(doc)
    assert Document.of(doc).to_json() == doc


def test_the_assembled_index_is_the_index_encoded_as_one_document() -> None:
    rng = random.Random(7)
    docs = [_object(rng) for _ in range(50)]
    names = [f"cards/u/{i}\u00e9.json" for i in range(50)]
    runtimes = {"mindspore-lite": "2.0.0", "mindspore": "2.10.0"}
    snapshot = Snapshot("hub \"é\"", runtimes, [(f"d{i}", Document.of(d)) for i, d in enumerate(docs)])
    whole = {"format": INDEX_FORMAT, "hub": {"name": "hub \"é\""}, "hubtool": __version__, "runtimes": runtimes,
             "cards": [dict(d, document=n) for d, n in zip(docs, names, strict=True)]}
    assert snapshot.index(names) == canonical(whole)
    assert Snapshot("h", {}, []).index([]) == canonical(
        {"format": INDEX_FORMAT, "hub": {"name": "h"}, "hubtool": __version__, "runtimes": {}, "cards": []})


def test_a_run_keeps_its_metadata_encoded_and_hands_out_copies() -> None:
    run = CardRun(Path("c.md"), "c.md", "", "c.md")
    run.metadata = {"model-name": "m", "asset": [{"asset-link": "https://x/a.ms", "asset-sha256": "0" * 64}],
                    "accuracy": math.nan}
    assert isinstance(run.metadata_json, bytes) and json.loads(run.metadata_json)["model-name"] == "m"
    got = run.metadata
    assert got is not None
    got["model-name"] = "changed"  # a step changing its copy changes nothing
    assert (run.metadata or {})["model-name"] == "m"
    assert [a.link for a in run.assets] == ["https://x/a.ms"]
    run.metadata = {"asset": []}  # a new value forgets the assets read from the old one
    assert run.assets == []
    run.metadata = {"accuracy": math.nan, "note": "NaN in text is fine"}
    entry = CardEntry("c.md", None, run.metadata_json or b"", ("u", "m", "1"), (), {}, True)
    with pytest.raises(ValueError):  # the index refuses what JSON cannot hold, as encoding the dict did
        card_document(entry)
    run.metadata = {"note": "NaN and Infinity, in text"}
    entry = CardEntry("c.md", None, run.metadata_json or b"", ("u", "m", "1"), (), {}, True)
    assert card_document(entry).to_json()["metadata"] == {"note": "NaN and Infinity, in text"}
