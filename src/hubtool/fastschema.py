"""fastjsonschema validators, compiled once per schema and machine instead of once per process.

Generating and compiling a validator costs ~30 ms per schema (90 ms for the three
a `check` uses), about as much as checking a card takes; the pre-commit hook pays
it on every commit.  The compiled code object is kept in the cache dir, keyed by
the schema's content, fastjsonschema's version and the Python version (marshal
data is version-specific), so later runs load it in a fraction of a millisecond.
The cache is hubtool's own folder: a missing or unwritable one only costs the
compile.  An entry is the SHA-256 of its marshal data, then the data: one that is
unreadable, a special file (a FIFO would block the read, a link to /dev/zero never
end it), oversized, not what its digest says (bit rot, a truncated write, an entry
of an older hubtool) or that defines no validator is damage: compiled again and
replaced.  Its code is run only once its digest matched.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType

from .durable import JSON, JSONObject, write_atomic
from .textdecode import read_intact

FastValidate = Callable[[JSON], JSON]
#: a validator's code is ~100 KiB marshalled for the card schema; anything far over it is not an entry
MAX_ENTRY_BYTES = 16 << 20


def fast_validator(schema: JSONObject) -> FastValidate:
    """fastjsonschema's validator for `schema` (same semantics as `fastjsonschema.compile`)."""
    import fastjsonschema

    path = _entry(schema, fastjsonschema.VERSION)
    loaded = _load(path) if path is not None else None
    validate = _defined(*loaded) if loaded is not None else None
    if validate is not None:
        return validate
    from fastjsonschema.ref_resolver import RefResolver

    name = RefResolver.from_schema(schema, store={}).get_scope_name()
    code = compile(fastjsonschema.compile_to_code(schema), f"<hubtool schema {name}>", "exec")
    if path is not None:
        try:
            data = marshal.dumps((name, code))
            write_atomic(path, hashlib.sha256(data).digest() + data, durable=False)
        except OSError:  # a read-only cache dir: compile every time, as without a cache
            pass
    validate = _defined(name, code)
    assert validate is not None, "fastjsonschema's code defines its validator"
    return validate


def _defined(name: str, code: CodeType) -> FastValidate | None:
    """The validator `code` defines under `name`, or None when it does not (a damaged cache entry)."""
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 - code fastjsonschema generated from our own bundled schema
    validate = namespace.get(name)
    return validate if callable(validate) else None


def _entry(schema: JSONObject, version: str) -> Path | None:
    from .places import cache_dir

    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    key = hashlib.sha256(f"{version}\0{sys.version}\0{text}".encode()).hexdigest()[:32]
    try:
        return cache_dir() / "schemas" / f"fastjsonschema-{key}.marshal"
    except RuntimeError:  # no home directory to put a cache in
        return None


def _load(path: Path) -> tuple[str, CodeType] | None:
    try:
        entry = read_intact(path, MAX_ENTRY_BYTES)
        if entry is None or hashlib.sha256(entry[32:]).digest() != entry[:32]:
            return None
        loaded = marshal.loads(entry[32:])
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[0], str) \
            and isinstance(loaded[1], CodeType):
        return loaded[0], loaded[1]
    return None
