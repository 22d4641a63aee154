"""Benchmark `hubtool publish` on a synthetic hub: the first publish, then unchanged re-runs, whole processes.

N cards (BENCH_CARDS, default 1,000 / 3,000 / 10,000) with one small loopback-hosted asset
each (hash only, no golden set) plus the canary (golden on the real runtime).  Two re-runs
alternate with their baseline, reading every card's bytes in a fresh process (what any
re-run must at least do to know nothing changed): the replayed one (the last run remembered
whole: publish/unchanged.py) and the normal path (that memory deleted before it, outside the
timed process); peak RSS next to every time.  Beside them, the floor of a replay: a bare script
that does what any replay must (list and stat the cards, read the statuses and the record, lstat
the blobs, print the table) and nothing else; and two lines that split the replay's time from
outside: that floor after importing the standard library modules a replay imports (as `-X
importtime` lists them), and hubtool's replay imported with nothing run.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from faultserver import FaultServer  # noqa: E402
from whole import HUBTOOL, REPO, alternate, arguments, compile_sources, line, report, run  # noqa: E402

from hubtool.filestatus import SETTLE_NS  # noqa: E402

READ_CARDS = ("import os, sys\nfor root, _, files in os.walk(sys.argv[1]):\n    for f in files:\n"
              "        open(os.path.join(root, f), 'rb').read()")


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


#: the least a replay does, without hubtool: list the cards, stat each and compare it with the status the last
#: run kept (one SQLite read), read the run's record, lstat every blob it names, print a line per card
REPLAY_FLOOR = r"""
import json, os, sqlite3, sys
cards = sorted(os.path.join(root, f) for root, _, files in os.walk(sys.argv[1]) for f in files if f.endswith(".md"))
db = sqlite3.connect(sys.argv[2])
known = dict(db.execute("SELECT file, entry FROM card_status"))
same = 0
for card in cards:
    st = os.stat(card)
    entry = known.get(card, "")
    same += entry[:entry.rfind(" ")] == f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
record = json.loads(db.execute("SELECT detail FROM verdicts WHERE step = 'hub-run'").fetchone()[0])
store = os.path.dirname(sys.argv[2])
for digest, found in record["blobs"].items():
    st = os.lstat(f"{store}/blobs/sha256/{digest[:2]}/{digest}")
    same += f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}" == found
sys.stdout.write("".join(f"{card}  passed*  passed  passed  skipped  published\n" for card in cards))
assert same == len(cards) + len(record["blobs"]), same
"""

REPLAYED = "re-run, replayed (nothing changed)"
#: imports each module named in the last argument, skipping those that are not there (`nt` on POSIX: importtime
#: lists tries); before REPLAY_FLOOR, whose own arguments come first
IMPORT_ALL = ("import importlib, sys\nfor name in sys.argv[-1].split():\n    try:\n"
              "        importlib.import_module(name)\n    except ImportError:\n        pass\n")


def replay_modules(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """The modules a replay imports, as `python -X importtime` lists them: (the standard library's, hubtool's)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True)
    names = [line.rpartition("|")[2].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and "self [us]" not in line]
    return ([n for n in names if n.split(".")[0] != "hubtool"], [n for n in names if n.split(".")[0] == "hubtool"])


def forget_run(ledger: Path, after: str) -> None:
    """After the replayed re-run, delete the run it replayed (publish/unchanged.py): the next re-run takes the
    normal path (and remembers the run again)."""
    if after != REPLAYED:
        return
    db = sqlite3.connect(ledger)
    with db:
        db.execute("DELETE FROM verdicts WHERE step = 'hub-run'")
    db.close()


def publish(root: Path) -> list[str]:
    return [HUBTOOL, "publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"), "--jobs", "8",
            "--config", str(root / "hub" / "hub.yaml"), str(root / "cards")]


def main() -> None:
    args = arguments(__doc__ or "", rounds=5, port=True)
    compile_sources()
    sizes = [int(os.environ["BENCH_CARDS"])] if os.environ.get("BENCH_CARDS") else [1000, 3000, 10000]
    server = FaultServer(port=args.port).start()
    try:
        for count in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                make_hub(root, server, count)
                env = {**os.environ, "HUBTOOL_HOME": str(root / "home")}
                first = run(publish(root), root, env)
                time.sleep(SETTLE_NS / 1e9)  # blobs fetched a moment ago keep a run from being remembered
                print(f"{count} cards + the canary:")
                print(line("first publish", [first]))
                print(line("first re-run (the normal path; remembers the run)", [run(publish(root), root, env)]))
                base = "baseline: read every card's bytes"
                ledger = root / "store" / "ledger.sqlite"
                stdlib, own = replay_modules(publish(root), root, env)
                floor = [str(root / "cards"), str(ledger), " ".join(stdlib)]
                results = alternate({base: [sys.executable, "-c", READ_CARDS, str(root / "cards")],
                                     "floor of a replay (no hubtool)": [sys.executable, "-c", REPLAY_FLOOR, *floor],
                                     f"  the floor after the {len(stdlib)} stdlib modules a replay imports": [
                                         sys.executable, "-c", IMPORT_ALL + REPLAY_FLOOR, *floor],
                                     f"  hubtool's replay imported ({len(own)} modules), nothing run": [
                                         sys.executable, "-c", IMPORT_ALL, " ".join(stdlib + own)],
                                     REPLAYED: publish(root), "re-run, the normal path": publish(root)},
                                    args.rounds, root, env, after=functools.partial(forget_run, ledger))
                report(f"  {args.rounds} alternating rounds, median (min-max):", results, base)
        print("targets: re-run <= 2x reading the cards' bytes; peak RSS flat, <= 70 MiB at 10,000 cards")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
