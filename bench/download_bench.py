"""Benchmark downloads on loopback: hubtool fetch vs curl -o and the hashlib limit, resume, mirror jobs, RSS.

Prints figures; asserts nothing.  Everything runs against a real HTTP server on
127.0.0.1 (the test suite's fault-injecting server, serving files with sendfile).
Set BENCH_BIG_MIB to change the 1 GiB size.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from faultserver import FaultServer  # noqa: E402

HUBTOOL = str(Path(sys.executable).parent / "hubtool")
BIG_MIB = int(os.environ.get("BENCH_BIG_MIB", "1024"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
# the floor of any verified download: one SHA-256 over the file, from the page cache, in a fresh process
HASH_ONLY = ("import hashlib, sys\nh = hashlib.sha256()\nf = open(sys.argv[1], 'rb')\n"
             "while b := f.read(1 << 20):\n    h.update(b)")
CHUNK = 1024 * 1024


def write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            block = os.urandom(min(left, 16 * CHUNK))
            fh.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def make_hub(root: Path, assets: list[tuple[str, str]]) -> Path:
    (root / "hub").mkdir(parents=True, exist_ok=True)
    (root / "hub" / "hub.yaml").write_text(
        "name: bench\npolicy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n  max-asset-bytes: 17179869184\n")
    cards = root / "cards" / "bench"
    cards.mkdir(parents=True, exist_ok=True)
    for i, (url, sha) in enumerate(assets):
        (cards / f"m{i}.md").write_text(
            f"# M{i}\n---\nmodel-name: m{i}\nuser-id: bench\nmodel-version: '1'\n"
            f"asset:\n- file-format: ckpt\n  asset-link: {url}\n  asset-sha256: {sha}\n---\n")
    return root


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command, measured by a fresh parent."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter();"
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], cwd=cwd, capture_output=True, text=True,
                         check=True).stdout.split()
    if out[2] != "0":
        raise SystemExit(f"command failed: {cmd}")
    return float(out[0]), int(out[1])


def big_file(server: FaultServer, tmp: Path) -> None:
    size = BIG_MIB * CHUNK
    src = tmp / "big.bin"
    sha = write_random(src, size)
    server.add("/big.bin", file=src)
    url = server.url("/big.bin")
    hub = make_hub(tmp / "hub", [(url, sha)])
    commands = {
        "curl -o": ["curl", "-s", "-o", str(tmp / "curl.out"), url],
        "hashlib limit": [sys.executable, "-c", HASH_ONLY, str(src)],
        "hubtool fetch": [HUBTOOL, "fetch", "--store", str(tmp / "store")],
    }
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for _ in range(ROUNDS):  # alternating A B C A B C: drift and page-cache state hit all alike
        for name, cmd in commands.items():
            results[name].append(timed(cmd, hub))
            (tmp / "curl.out").unlink(missing_ok=True)
            subprocess.run(["rm", "-rf", str(tmp / "store")], check=True)
    curl = statistics.median(t for t, _ in results["curl -o"])
    print(f"{BIG_MIB} MiB over loopback, {ROUNDS} alternating rounds of whole processes, median (min-max):")
    for name, runs in results.items():
        times = [t for t, _ in runs]
        med = statistics.median(times)
        print(f"  {name:14s} {med:6.2f} s ({min(times):.2f}-{max(times):.2f})  {size / med / 1e6:6.0f} MB/s  "
              f"{med / curl:5.2f}x curl  peak RSS {max(r for _, r in runs) / 1024:5.0f} MiB")
    print("  target: hubtool fetch within 1.2x of curl -o (the hashlib line is the floor of a verified download)")

    route = server.add("/half.bin", file=src, cut_after=size // 2)
    route.file = None  # the cut needs the python writer path
    route.body = src.read_bytes() if BIG_MIB <= 256 else b""
    if route.body:
        hub2 = make_hub(tmp / "hub2", [(server.url("/half.bin"), sha)])
        timed([HUBTOOL, "fetch", "--store", str(tmp / "store2")], hub2)
        print(f"resume after a cut at 50%: {route.bytes_sent:,} bytes sent for a {size:,}-byte file "
              f"({(route.bytes_sent - size) / CHUNK:.2f} MiB re-sent; target <= 1 chunk = 1 MiB)")
        subprocess.run(["rm", "-rf", str(tmp / "store2")], check=True)


def rss_flat(server: FaultServer, tmp: Path) -> None:
    print("peak RSS of hubtool fetch by file size:")
    for mib in (100, BIG_MIB):
        src = tmp / f"f{mib}.bin"
        sha = write_random(src, mib * CHUNK)
        server.add(f"/f{mib}.bin", file=src)
        hub = make_hub(tmp / f"hub{mib}", [(server.url(f"/f{mib}.bin"), sha)])
        secs, rss = timed([HUBTOOL, "fetch", "--store", str(tmp / "s")], hub)
        print(f"  {mib:5d} MiB: peak RSS {rss / 1024:.0f} MiB ({secs:.2f} s)")
        subprocess.run(["rm", "-rf", str(tmp / "s"), str(src)], check=True)


def mirror_jobs(server: FaultServer, tmp: Path) -> None:
    assets = []
    for i in range(200):
        body = os.urandom(4096)
        server.add(f"/small/{i}.bin", body, latency=0.05)
        assets.append((server.url(f"/small/{i}.bin"), hashlib.sha256(body).hexdigest()))
    hub = make_hub(tmp / "hub-small", assets)
    times = {}
    for jobs in (1, 4):
        out = tmp / f"mirror{jobs}"
        times[jobs] = timed([HUBTOOL, "mirror", "--to", str(out), "--jobs", str(jobs),
                             "--store", str(tmp / "nothing")], hub)[0]
    print(f"mirror of 200 small assets, 50 ms latency per request: --jobs 1 {times[1]:.2f} s, "
          f"--jobs 4 {times[4]:.2f} s: {times[1] / times[4]:.2f}x faster (target >= 3x)")


def main() -> None:
    server = FaultServer().start()
    try:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            mirror_jobs(server, Path(tmp))
            big_file(server, Path(tmp))
            rss_flat(server, Path(tmp))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
