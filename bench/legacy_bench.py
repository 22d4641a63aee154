"""Benchmark the legacy translator on a 1.0-schema shortcut-free ResNet50 (~90 MB of weights).

In one run: `hubtool upgrade-ms` wall time and peak RSS against copying the same
file (cp), and the translator's own peak RSS relative to the file size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from legacy_writer import write_v0  # noqa: E402
from test_legacy import resnet50_plain  # noqa: E402

HUBTOOL = str(Path(sys.executable).parent / "hubtool")
PROBE = ("import resource, subprocess, sys, time; t = time.perf_counter(); r = subprocess.run(sys.argv[1:]);"
         "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


def timed(cmd: list[str]) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, *cmd], capture_output=True, text=True, check=True).stdout
    seconds, rss, code = out.split()[-3:]
    assert code == "0", cmd
    return float(seconds), int(rss)


def main() -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        src = Path(tmp) / "resnet50-plain-v0.ms"
        src.write_bytes(write_v0(resnet50_plain()))
        size = src.stat().st_size
        copies, translations = [], []
        for i in range(3):
            copies.append(timed(["cp", str(src), str(Path(tmp) / f"copy{i}.ms")]))
            translations.append(timed([HUBTOOL, "upgrade-ms", str(src), str(Path(tmp) / f"out{i}.ms")]))
        copy = min(c[0] for c in copies)
        wall = min(t[0] for t in translations)
        rss = max(t[1] for t in translations) * 1024
        out = (Path(tmp) / "out0.ms").stat().st_size
        print(f"1.0-schema shortcut-free ResNet50: {size / 1e6:.1f} MB in, {out / 1e6:.1f} MB MSL2 out "
              f"(best of 3 whole-process runs)")
        print(f"  cp of the file:        {copy:.3f} s")
        print(f"  hubtool upgrade-ms:    {wall:.3f} s  ({wall / copy:.1f}x the copy; target <= 10x)")
        print(f"  peak RSS:              {rss / 1e6:.0f} MB  ({rss / size:.2f}x the file size; target < 2x)")


if __name__ == "__main__":
    main()
