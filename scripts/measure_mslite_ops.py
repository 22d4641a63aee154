"""Measure what the installed MindSpore Lite builds, operator by operator, into the data file inspect reads.

    .venv/bin/python scripts/measure_mslite_ops.py   # writes src/hubtool/legacy/mslite-2.0.0-ops.json

Names come from the runtime's own error lines where it says them, else from
ops.fbs's union order (hubtool.legacy.schema_msl2.PRIMITIVES, up to Transpose);
a type neither names stays nameless. See hubtool.runtimes.mslite.opsprobe.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hubtool.legacy.msl2_ops import DATA_FILE, data_document
from hubtool.legacy.writer import one_node_msl2
from hubtool.runtimes.mslite.opsprobe import measure


def main() -> int:
    document = data_document(measure(one_node_msl2))
    Path(DATA_FILE).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    counts: dict[str, int] = {}
    for entry in document["types"].values():
        counts[entry["verdict"]] = counts.get(entry["verdict"], 0) + 1
    print(f"wrote {DATA_FILE}: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
