"""fastjsonschema validators, compiled once per schema and machine instead of once per process.

Generating and compiling a validator costs ~30 ms per schema (90 ms for the three
a `check` uses), about as much as checking a card takes; the pre-commit hook pays
it on every commit.  The compiled code object is kept in the cache dir, keyed by
the schema's content, fastjsonschema's version and the Python version (marshal
data is version-specific), so later runs load it in a fraction of a millisecond.
The cache is hubtool's own folder: a missing or unwritable one only costs the
compile; an unreadable entry is compiled again and replaced.
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

FastValidate = Callable[[JSON], JSON]


def fast_validator(schema: JSONObject) -> FastValidate:
    """fastjsonschema's validator for `schema` (same semantics as `fastjsonschema.compile`)."""
    import fastjsonschema

    path = _entry(schema, fastjsonschema.VERSION)
    loaded = _load(path) if path is not None else None
    if loaded is None:
        from fastjsonschema.ref_resolver import RefResolver

        name = RefResolver.from_schema(schema, store={}).get_scope_name()
        code = compile(fastjsonschema.compile_to_code(schema), f"<hubtool schema {name}>", "exec")
        loaded = name, code
        if path is not None:
            try:
                write_atomic(path, marshal.dumps(loaded), durable=False)
            except OSError:  # a read-only cache dir: compile every time, as without a cache
                pass
    name, code = loaded
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 - code fastjsonschema generated from our own bundled schema
    validate = namespace[name]
    assert callable(validate)
    return validate


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
        loaded = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[0], str) \
            and isinstance(loaded[1], CodeType):
        return loaded[0], loaded[1]
    return None
