"""Benchmark `hubtool check` on a synthetic 3,000-card hub against a bare CSafeLoader parse.

Prints figures; it asserts nothing.  Both sides are measured as whole processes
(interpreter start-up included) in the same run, best of N.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_hub import generate  # noqa: E402

CARDS = int(os.environ.get("BENCH_CARDS", "3000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
HUBTOOL = [str(Path(sys.executable).parent / "hubtool")]

BASELINE = r"""
import sys, yaml
from pathlib import Path
for p in sorted(Path(sys.argv[1]).rglob('*.md')):
    text = p.read_text()
    start = text.index('---\n') + 4
    end = text.index('\n---\n', start)
    yaml.load(text[start:end], Loader=yaml.CSafeLoader)
"""


def best(cmd: list[str], cwd: Path) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def import_time(cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import hubtool.cli, hubtool.cards.validate"],
                          cwd=cwd, capture_output=True, text=True, check=True)
    rows = [line.split("|") for line in proc.stderr.splitlines() if line.startswith("import time:")]
    total = sum(int(r[0].split(":")[1]) for r in rows[1:] if r[0].split(":")[1].strip().isdigit())
    top = sorted(rows[1:], key=lambda r: -int(r[1]))[:5]
    return f"{total / 1000:.0f} ms self-time total; largest cumulative: " + ", ".join(
        f"{r[2].strip()} {int(r[1]) / 1000:.0f} ms" for r in top)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cards = generate(root, CARDS)
        one = next(cards.rglob("*.md"))
        base = best([sys.executable, "-c", BASELINE, str(cards)], root)
        full = best(HUBTOOL + ["check", "--format", "json", str(cards)], root)
        single = best(HUBTOOL + ["check", str(one)], root)
        empty = best([sys.executable, "-c", "pass"], root)
        print(f"cards: {CARDS} (~40 front-matter lines each), best of {REPEAT} whole-process runs")
        print(f"baseline  CSafeLoader parse of the YAML blocks: {base:.3f} s")
        print(f"hubtool check, whole hub:                      {full:.3f} s  ({full / base:.2f}x baseline;"
              f" target < 1.5 s and < 5x)")
        print(f"hubtool check, one card (pre-commit case):     {single:.3f} s  (target < 0.25 s)")
        print(f"bare interpreter start-up:                     {empty:.3f} s")
        print(f"import time: {import_time(root)}")


if __name__ == "__main__":
    main()
