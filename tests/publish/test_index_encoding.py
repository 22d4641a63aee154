"""The index is assembled from each card's pre-encoded fields: it must be byte for byte what encoding
the whole index as one dict gives, for any values a card can carry."""

from __future__ import annotations

import io
import json
import math
import random
from typing import BinaryIO

import pytest

from hubtool import __version__
from hubtool.durable import JSON, JSONObject, canonical, compact, compact_object
from hubtool.errors import StoreError
from hubtool.publish import documents
from hubtool.publish.documents import SpilledDocuments
from hubtool.publish.index import INDEX_FORMAT, CardEntry, Document, Snapshot, card_document, snapshot_of
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
    pick = random.Random(seed + 1)
    given = {k: compact(v) for k, v in doc.items() if pick.random() < 0.4}  # some fields given pre-encoded
    rest = {k: v for k, v in doc.items() if k not in given}
    assert Document.of(rest, **given).encoded() == canonical(doc)
    assert Document.of(rest, **given).named("n") == compact_object(
        [(k, compact(v)) for k, v in {**doc, "document": "n"}.items()])


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
    run = CardRun("c.md", "c.md", "c.md")
    run.metadata = {"model-name": "m", "asset": [{"asset-link": "https://x/a.ms", "asset-sha256": "0" * 64}],
                    "accuracy": math.nan}
    assert isinstance(run.metadata_json, str) and json.loads(run.metadata_json)["model-name"] == "m"
    got = run.metadata
    assert got is not None
    got["model-name"] = "changed"  # a step changing its copy changes nothing
    assert (run.metadata or {})["model-name"] == "m"
    assert [a.link for a in run.assets] == ["https://x/a.ms"]
    run.metadata = {"asset": []}  # a new value forgets the assets read from the old one
    assert run.assets == []
    run.metadata = {"accuracy": math.nan, "note": "NaN in text is fine"}
    entry = CardEntry("c.md", None, (run.metadata_json or "").encode(), ("u", "m", "1"), (), {}, True)
    with pytest.raises(ValueError):  # the index refuses what JSON cannot hold, as encoding the dict did
        card_document(entry)
    run.metadata = {"note": "NaN and Infinity, in text"}
    entry = CardEntry("c.md", None, (run.metadata_json or "").encode(), ("u", "m", "1"), (), {}, True)
    assert card_document(entry).to_json()["metadata"] == {"note": "NaN and Infinity, in text"}


def test_spilled_documents_read_back_what_was_added_in_the_order_given() -> None:
    rng = random.Random(11)
    docs = [Document.of(_object(rng)) for _ in range(40)]
    spilled = SpilledDocuments()
    try:
        slots = [spilled.add(f"cards/u/{i}.json", doc) for i, doc in enumerate(docs)]
        order = list(reversed(slots))
        spilled.order(order)
        assert len(spilled) == 40
        assert list(spilled) == [(f"cards/u/{i}.json", docs[i]) for i in order]
        assert spilled[-1] == ("cards/u/0.json", docs[0]) and spilled[1:3] == list(spilled)[1:3]
        with pytest.raises(ValueError):
            spilled.order(order[:-1])  # every slot, exactly once
    finally:
        spilled.close()


def test_a_published_snapshot_is_spilled_and_indexes_as_the_documents_held_in_memory() -> None:
    entries = [CardEntry(f"cards/u{i % 3}/m{i}.md", f"title {i}", compact({"model-name": f"m{i}", "n": i}),
                         (f"u{i % 3}", f"m{40 - i}", "1.0"), (), {"status": "skipped"}, True) for i in range(40)]
    snapshot = snapshot_of(entries, hub_name="h", runtimes={"mindspore-lite": "2.0.0"})
    try:
        assert isinstance(snapshot.documents, SpilledDocuments)
        held = sorted(((e.ident, e.document, card_document(e)) for e in entries), key=lambda d: d[0])
        in_memory = Snapshot("h", {"mindspore-lite": "2.0.0"}, [(name, doc) for _, name, doc in held])
        assert snapshot.paths() == in_memory.paths() == [name for _, name, _ in held]
        assert snapshot.index(snapshot.paths()) == in_memory.index(in_memory.paths())
        streamed = io.BytesIO()
        snapshot.write_index(streamed, snapshot.paths())
        assert streamed.getvalue() == in_memory.index(in_memory.paths())
        with pytest.raises(ValueError):
            snapshot.write_index(io.BytesIO(), snapshot.paths()[1:])  # a name for every document
    finally:
        snapshot.close()


def test_a_full_disk_under_the_spilled_documents_is_a_store_error_not_a_crash(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def full(**_: object) -> BinaryIO:
        return open("/dev/full", "r+b")  # noqa: SIM115  # every write there fails with ENOSPC; the spill closes it

    monkeypatch.setattr(documents.tempfile, "TemporaryFile", full)
    entry = CardEntry("cards/u/m.md", None, b"{}", ("u", "m", "1"), (), {}, True)
    with pytest.raises(StoreError, match="temporary file .*No space left on device") as caught:
        snapshot_of([entry], hub_name="h", runtimes={})
    assert "nothing was published" in (caught.value.hint or "")
