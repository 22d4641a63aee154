"""Benchmark `hubtool publish` on a synthetic hub: first publish, then an unchanged re-run.

3,000 cards (BENCH_CARDS) with one small loopback-hosted asset each (hash only, no
golden set) plus the canary (golden on the real runtime).  Prints wall times, the
ratio, counters from the JSON report, and peak RSS for two hub sizes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
from faultserver import FaultServer  # noqa: E402

HUBTOOL = str(Path(sys.executable).parent / "hubtool")
CARDS = int(os.environ.get("BENCH_CARDS", "3000"))


def make_hub(root: Path, server: FaultServer, count: int) -> None:
    shutil.copytree(REPO / "hub" / "assets", root / "hub" / "assets")
    shutil.copytree(REPO / "hub" / "golden", root / "hub" / "golden")
    (root / "hub" / "hub.yaml").write_text(
        "name: bench\npolicy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n")
    (root / "cards" / "hubtool").mkdir(parents=True)
    shutil.copyfile(REPO / "cards" / "hubtool" / "cifar10-cnn-canary.md", root / "cards" / "hubtool" / "canary.md")
    for i in range(count):
        body = os.urandom(1024)
        server.add(f"/a/{i}.ckpt", body)
        folder = root / "cards" / f"user{i % 50}"
        folder.mkdir(exist_ok=True)
        (folder / f"model-{i}.md").write_text(
            f"# Model {i}\n\n---\nmodel-name: model-{i}\nbackbone-name: resnet50\nmodule-type: cv-classification\n"
            f"fine-tunable: False\ninput-shape: [224, 224, 3]\nmodel-version: '1.0'\ntrain-dataset: imagenet\n"
            f"accuracy: 0.76\nauthor: bench\nupdate-time: 2023-2-17\nuser-id: user{i % 50}\nused-for: inference\n"
            f"train-backend: ascend\nmindspore-version: '2.0'\nasset:\n- file-format: ckpt\n"
            f"  asset-link: {server.url(f'/a/{i}.ckpt')}\n  asset-sha256: {hashlib.sha256(body).hexdigest()}\n"
            f"license: Apache2.0\nsummary: synthetic model {i}\n---\n\n## Introduction\n\nText.\n")


def run(root: Path, report: str) -> tuple[float, dict, int]:  # type: ignore[type-arg]
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter();"
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL);"
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    cmd = [HUBTOOL, "publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"), "--jobs", "8",
           "--report", f"json:{root / report}", "--config", str(root / "hub" / "hub.yaml"), str(root / "cards")]
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True).stdout
    seconds, rss = out.split()
    return float(seconds), json.loads((root / report).read_text()), int(rss)


def main() -> None:
    server = FaultServer().start()
    try:
        results = {}
        for count in sorted({CARDS // 3, CARDS}):
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                make_hub(root, server, count)
                first, doc1, rss1 = run(root, "first.json")
                again, doc2, rss2 = run(root, "again.json")
                results[count] = (first, again, rss1, rss2, doc1, doc2)
        for count, (first, again, rss1, rss2, doc1, doc2) in results.items():
            print(f"{count} cards + the canary:")
            print(f"  first publish:      {first:7.2f} s  peak RSS {rss1 / 1024:.0f} MiB  "
                  f"counters {doc1['counters']}  summary {doc1['summary']}")
            print(f"  unchanged re-run:   {again:7.2f} s  peak RSS {rss2 / 1024:.0f} MiB  counters {doc2['counters']}")
            print(f"  re-run is {first / again:.1f}x faster (targets: < 3 s and >= 20x)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
