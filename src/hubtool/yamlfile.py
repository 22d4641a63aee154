"""Read a YAML settings file (hub/hub.yaml, golden.yaml) and validate it against a bundled schema.

A file read cleanly before is not parsed again (`settingsmemo`): PyYAML and the schema's validator are
imported only for a file that is new, changed, or has a problem to say.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from . import settingsmemo, textdecode
from .diagnostics import make_pointer
from .errors import HubtoolError, SpecialFile
from .settingsmemo import Settings

if TYPE_CHECKING:
    from .schema import Validator

MAX_SETTINGS_BYTES = 16 * 1024 * 1024


@cache
def _validator(schema: str) -> Validator:
    # one compile per process: a hub.yaml and the profiles it extends share the hub schema
    from .schema import Validator, load_schema

    return Validator(load_schema(schema))


def read_validated(path: Path, schema: str, error: type[HubtoolError], *, empty_ok: bool = False) -> Settings:
    """The document's data and positions; the first problem raises `error` naming file:line:col and the fix."""
    try:
        data = textdecode.read_regular(path, MAX_SETTINGS_BYTES)
    except SpecialFile as exc:
        raise error(exc.message, hint="a settings file is a regular file") from None
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from exc
    if isinstance(data, int) or len(data) > MAX_SETTINGS_BYTES:
        raise error(f"{path} is over {MAX_SETTINGS_BYTES:,} bytes: not a settings file")
    key = settingsmemo.memo_key(data, schema, empty_ok=empty_ok)
    kept = None if key is None else settingsmemo.recalled(key)
    if kept is not None:
        return kept
    settings = _parsed(path, data, schema, error, empty_ok=empty_ok)
    if key is not None:
        settingsmemo.keep(key, settings)
    return settings


def _parsed(path: Path, data: bytes, schema: str, error: type[HubtoolError], *, empty_ok: bool) -> Settings:
    from . import yamlsource  # here: a file kept by settingsmemo needs no PyYAML

    text = textdecode.decode(data, str(path))
    if not isinstance(text, str):
        raise error(f"{path}:{text.line}:{text.col}: {text.message}")
    doc = yamlsource.parse(text, path=str(path), line_offset=1)
    if doc.diagnostics:
        d = doc.diagnostics[0]
        raise error(f"{path}:{d.line}:{d.col}: {d.message}", hint=d.hint)
    if doc.data is None and empty_ok:
        return Settings({}, doc.values)
    validator = _validator(schema)
    if not isinstance(doc.data, dict) or not validator.is_valid(doc.data):
        errors = sorted(validator.iter_errors(doc.data), key=lambda e: list(e.absolute_path))
        first = errors[0] if errors else None
        pointer = make_pointer(list(first.absolute_path)) if first else ""  # escaped, as the parse keys it
        pos = doc.values.get(pointer) or doc.values.get("")
        where = f"{path}:{pos.line}:{pos.col}" if pos else str(path)
        message = first.message if first else "the file must be a mapping"
        raise error(f"{where}: {message} (at {pointer or '/'})",
                    hint=f"`hubtool schema --name {schema} --print` shows what is allowed")
    return Settings(doc.data, doc.values)
