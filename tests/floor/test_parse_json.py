"""durable.parse_json: JSON from outside this process, where too deep is malformed like any other."""

from __future__ import annotations

import json

import pytest

from hubtool.durable import parse_json


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000,
                                  b"[" * 100_000])
def test_json_nested_past_the_decoders_recursion_is_malformed_json(text: str | bytes) -> None:
    """A baseline, a ledger row or a server's body may nest 100,000 deep: that is a ValueError its readers
    already catch, not the RecursionError json.loads raises."""
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        parse_json(text)


def test_json_reads_as_json() -> None:
    assert parse_json(b'{"a": [1, {"b": null}], "c": 1.5}') == {"a": [1, {"b": None}], "c": 1.5}
    with pytest.raises(ValueError):
        parse_json("{not json")
