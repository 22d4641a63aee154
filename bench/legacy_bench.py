"""Benchmark the legacy translator on a 1.0-schema shortcut-free ResNet50 (~90 MB of weights), whole processes.

In alternating rounds: `hubtool upgrade-ms` against copying the same file (cp, and dd with
fsync: upgrade-ms writes durably), each with its own peak RSS, and the translator's peak
RSS relative to the file size.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from legacy_graphs import resnet50_plain  # noqa: E402
from legacy_writer import write_v0  # noqa: E402
from whole import HUBTOOL, alternate, arguments, compile_sources, report  # noqa: E402


def main() -> None:
    args = arguments(__doc__ or "", rounds=5)
    compile_sources()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        src = Path(tmp) / "resnet50-plain-v0.ms"
        src.write_bytes(write_v0(resnet50_plain()))
        size = src.stat().st_size
        out = Path(tmp) / "out.ms"

        def clean(name: str) -> None:
            out.unlink(missing_ok=True)
            (Path(tmp) / "copy.ms").unlink(missing_ok=True)

        results = alternate({
            "baseline: cp": ["cp", str(src), str(Path(tmp) / "copy.ms")],
            # upgrade-ms writes durably (fsync before the rename): the same copy made durable
            "baseline: dd conv=fsync": ["dd", f"if={src}", f"of={Path(tmp) / 'copy.ms'}", "bs=4M", "conv=fsync",
                                        "status=none"],
            "hubtool upgrade-ms": [HUBTOOL, "upgrade-ms", str(src), str(out)],
        }, args.rounds, after=clean)
        report(f"1.0-schema shortcut-free ResNet50, {size / 2**20:.1f} MiB in; {args.rounds} alternating rounds "
               "of whole processes, median (min-max):", results, "baseline: cp")
        rss = max(r.rss_mib for r in results["hubtool upgrade-ms"]) * 2**20
        print(f"  hubtool peak RSS {rss / size:.2f}x the file size (targets: <= 4x cp, RSS <= 1.2x the file)")


if __name__ == "__main__":
    main()
