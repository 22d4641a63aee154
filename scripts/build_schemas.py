"""Write (or --check) the card schema of each profile shipped with hubtool: schemas/profiles/<profile>.card.schema.json.

These are what `hubtool schema` points editors and other validators at (the reader's view of a
card: 1.0 may be a number, links may be written <https://...>); tests/floor/test_schemas.py
fails when they are not current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hubtool import profile
from hubtool.config import profile_config
from hubtool.schema import exported_card_schema

OUT = Path(__file__).resolve().parents[1] / "schemas" / "profiles"


def rendered(name: str) -> str:
    config = profile_config(name, OUT)
    schema = exported_card_schema(config.card, profile=name, file_formats=config.extra_file_formats,
                                  backends=config.extra_backends)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name in profile.available():
        path = OUT / f"{name}.card.schema.json"
        text = rendered(name)
        if "--check" in argv:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale (run scripts/build_schemas.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
