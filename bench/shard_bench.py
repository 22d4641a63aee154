"""Benchmark sharded publishing: one `hubtool publish` against n concurrent `publish --shard i/n` jobs and
their `publish --merge`, whole processes.

The hub is this repository's (its cards and hub/) plus BENCH_CARDS synthetic cards (default 200),
each with its own copy of the canary's .ms with 16 random bytes appended: a distinct asset, so
every card's golden step really runs (spawn the MindSpore Lite worker, load, 20 predictions;
~0.5 s each).  Every configuration starts from empty stores, an empty shared ledger and its own
HUBTOOL_HOME per job, as fresh CI runners would; the configurations alternate round by round.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from whole import HUBTOOL, REPO, Run, arguments, compile_sources, run, together  # noqa: E402

ALLOWED = (0, 1)  # 1: some cards are held back (the seed, without its network)


def make_hub(root: Path, count: int) -> None:
    shutil.copytree(REPO / "hub", root / "hub", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "cards", root / "cards")
    canary_card = (REPO / "cards" / "hubtool" / "cifar10-cnn-canary.md").read_text()
    model = (REPO / "hub" / "assets" / "cifar10-cnn-canary.ms").read_bytes()
    sha = hashlib.sha256(model).hexdigest()
    (root / "hub" / "assets" / "bench").mkdir()
    (root / "cards" / "bench").mkdir()
    for i in range(count):
        body = model + os.urandom(16)  # MindSpore Lite ignores bytes after the FlatBuffer
        (root / "hub" / "assets" / "bench" / f"{i}.ms").write_bytes(body)
        text = canary_card.replace("hub/assets/cifar10-cnn-canary.ms", f"hub/assets/bench/{i}.ms")
        text = text.replace(sha, hashlib.sha256(body).hexdigest()).replace("model-name: ", f"model-name: bench{i}-", 1)
        (root / "cards" / "bench" / f"model-{i}.md").write_text(text)


def publish(root: Path, job: str, *args: str) -> list[str]:
    return [HUBTOOL, "publish", "--to", str(root / "dist" / job / "hub"), "--store", str(root / "jobs" / job),
            "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"), *args]


def env(root: Path, job: str) -> dict[str, str]:
    return {**os.environ, "HUBTOOL_HOME": str(root / "homes" / job)}


def fresh(root: Path) -> None:
    for folder in ("jobs", "homes", "ledger", "dist"):
        shutil.rmtree(root / folder, ignore_errors=True)


def sharded(root: Path, n: int) -> tuple[float, list[Run], Run]:
    """n shard jobs at once, then the merge: (the shards' wall time, each shard, the merge)."""
    ledger = str(root / "ledger")
    jobs = [f"shard{i}of{n}" for i in range(1, n + 1)]
    wall, shards = together([publish(root, job, "--shard", f"{i}/{n}", "--ledger", ledger)
                             for i, job in enumerate(jobs, 1)], root, [env(root, job) for job in jobs], ALLOWED)
    merge = run(publish(root, f"merge{n}", "--merge", "--ledger", ledger), root, env(root, f"merge{n}"), ALLOWED)
    return wall, shards, merge


def main() -> None:
    args = arguments(__doc__ or "", rounds=1)
    compile_sources()
    count = int(os.environ.get("BENCH_CARDS", "200"))
    alone: list[Run] = []
    figures: dict[int, list[tuple[float, list[Run], Run]]] = {2: [], 4: []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_hub(root, count)
        for _ in range(args.rounds):
            fresh(root)
            alone.append(run(publish(root, "alone"), root, env(root, "alone"), ALLOWED))
            index = (root / "dist" / "alone" / "hub" / "index.json").read_bytes()
            for n in figures:
                fresh(root)
                figures[n].append(sharded(root, n))
                if (root / "dist" / f"merge{n}" / "hub" / "index.json").read_bytes() != index:
                    raise SystemExit(f"the merge of {n} shards published another index than one process did")
    one = statistics.median(r.seconds for r in alone)
    print(f"the repository hub + {count} synthetic .ms cards, {args.rounds} round(s), median (min-max), peak RSS:")
    print(f"  one publish process                 {one:7.1f} s ({min(r.seconds for r in alone):.1f}-"
          f"{max(r.seconds for r in alone):.1f})  peak RSS {statistics.median(r.rss_mib for r in alone):4.0f} MiB")
    for n, rounds in figures.items():
        walls = [w for w, _, _ in rounds]
        merges = [m.seconds for _, _, m in rounds]
        total = statistics.median(w + m for w, m in zip(walls, merges, strict=True))
        rss = max(r.rss_mib for _, shards, _ in rounds for r in shards)
        print(f"  {n} shards at once, then the merge    {total:7.1f} s = {total / one:.2f}x one process "
              f"(shards {statistics.median(walls):.1f} s, merge {statistics.median(merges):.2f} s, "
              f"merge RSS {statistics.median(m.rss_mib for _, _, m in rounds):.0f} MiB, shard RSS max {rss:.0f} MiB)")
    print(f"  every merge's index is the one process's, byte for byte ({len(index)} bytes)")


if __name__ == "__main__":
    main()
