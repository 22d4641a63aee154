"""Benchmark `hubtool check` against a bare CSafeLoader parse of the same YAML blocks.

Three cases, each timed as whole processes (interpreter start-up included), alternating
with its baseline in the same run; median and min-max of N rounds:

- a synthetic 3,000-card hub, whole hub;
- the pre-commit case: one staged card of that hub, the cross-card rules applied against
  every card of the hub from the warm facts cache (and once cold, with no cache);
- the real MindSpore Hub sample (../shared/hub-sample) with examples/mindspore-hub/hub.yaml.

Prints figures; it asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_hub import generate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "hub-sample" / "cards"
CARDS = int(os.environ.get("BENCH_CARDS", "3000"))
ROUNDS = int(os.environ.get("BENCH_REPEAT", "7"))
HUBTOOL = [str(Path(sys.executable).parent / "hubtool")]

BASELINE = r"""
import sys, yaml
from pathlib import Path
root = Path(sys.argv[1])
for p in sorted(root.rglob('*.md')) if root.is_dir() else [root]:
    text = p.read_text(encoding='utf-8', errors='replace')
    start = text.find('---\n') + 4
    end = text.find('\n---', start)
    try:
        yaml.load(text[start:end], Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        pass
"""


def once(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def alternate(commands: dict[str, list[str]], cwd: Path, env: dict[str, str]) -> dict[str, list[float]]:
    """Run the commands in turn, round after round, so drift hits every side alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS):
        for name, cmd in commands.items():
            times[name].append(once(cmd, cwd, env))
    return times


def figure(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})"


def report(title: str, times: dict[str, list[float]], base: str) -> None:
    print(title)
    for name, values in times.items():
        factor = statistics.median(values) / statistics.median(times[base])
        ratio = "" if name == base else f"  = {factor:.2f}x baseline"
        print(f"  {name:<44} {figure(values)}{ratio}")


def import_time(cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import hubtool.cli, hubtool.cards.validate"],
                          cwd=cwd, capture_output=True, text=True, check=True)
    rows = [line.split("|") for line in proc.stderr.splitlines() if line.startswith("import time:")]
    total = sum(int(r[0].split(":")[1]) for r in rows[1:] if r[0].split(":")[1].strip().isdigit())
    top = sorted(rows[1:], key=lambda r: -int(r[1]))[:5]
    return f"{total / 1000:.0f} ms self-time total; largest cumulative: " + ", ".join(
        f"{r[2].strip()} {int(r[1]) / 1000:.0f} ms" for r in top)


def main() -> None:
    # What `pip install` does: byte-compile the package. This machine sets PYTHONDONTWRITEBYTECODE,
    # so an edited checkout would otherwise recompile its changed modules in every timed run.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ, "HUBTOOL_HOME": str(root / "home")}  # the facts cache lives under its store
        cards = generate(root, CARDS)
        staged = sorted(cards.rglob("*.md"))[len(list(cards.rglob("*.md"))) // 2]
        print(f"{ROUNDS} alternating rounds of whole-process runs; median (min, max)\n")
        report(f"synthetic hub, {CARDS} cards (~40 front-matter lines each), whole hub:", alternate({
            "baseline: CSafeLoader parse of every block": [sys.executable, "-c", BASELINE, str(cards)],
            "hubtool check --format json": HUBTOOL + ["check", "--format", "json", str(cards)],
        }, root, env), "baseline: CSafeLoader parse of every block")

        once(HUBTOOL + ["check", str(cards)], root, env)  # fills the facts cache
        report("\npre-commit: one staged card, cross-card rules against the whole hub (warm cache):", alternate({
            "baseline: CSafeLoader parse of the one block": [sys.executable, "-c", BASELINE, str(staged)],
            "hubtool check STAGED": HUBTOOL + ["check", str(staged)],
        }, root, env), "baseline: CSafeLoader parse of the one block")
        cold = []
        for _ in range(3):
            shutil.rmtree(root / "home" / "store" / "check", ignore_errors=True)
            cold.append(once(HUBTOOL + ["check", str(staged)], root, env))
        print(f"  {'hubtool check STAGED, no cache (3 runs)':<44} {figure(cold)}")

        if SAMPLE.is_dir():
            config = REPO / "examples" / "mindspore-hub" / "hub.yaml"
            count = len(list(SAMPLE.rglob("*.md")))
            report(f"\nreal MindSpore Hub sample, {count} cards, with examples/mindspore-hub/hub.yaml:", alternate({
                "baseline: CSafeLoader parse of every block": [sys.executable, "-c", BASELINE, str(SAMPLE)],
                "hubtool check --config mindspore-hub": HUBTOOL + ["check", "--format", "json", "--config",
                                                                   str(config), str(SAMPLE)],
            }, root, env), "baseline: CSafeLoader parse of every block")
        report("\nbare interpreter start-up:", alternate({"python -c pass": [sys.executable, "-c", "pass"]}, root, env),
               "python -c pass")
        print(f"\nimport time: {import_time(root)}")


if __name__ == "__main__":
    main()
