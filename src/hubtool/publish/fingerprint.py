"""What a card's check verdict depends on besides its bytes, as one digest: the check key's and a run key's part.

Made from the hub's files and the schema alone, so that a replay (`publish/replay.py`) can make it
without building the checker.
"""

from __future__ import annotations

import hashlib

from ..config import HubConfig
from ..durable import JSONObject
from ..golden.sets import fingerprint_files
from ..schema import hub_card_schema


def check_fingerprint(config: HubConfig, schema: JSONObject | None = None) -> str:
    """The hub's card schema (`schema`, when the caller has made it already), hub.yaml, the baseline and the
    golden sets' files, as one digest."""
    schema = hub_card_schema(config) if schema is None else schema
    digest = hashlib.sha256(repr(sorted(schema.items(), key=str)).encode())
    for extra in [config.path, config.baseline, *fingerprint_files(config.root)]:
        if extra is not None and extra.is_file():
            digest.update(str(extra).encode() + extra.read_bytes())
    return digest.hexdigest()
