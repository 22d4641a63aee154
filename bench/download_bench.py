"""Benchmark downloads on loopback: hubtool fetch vs curl -o and the hashlib limit, resume, mirror jobs, RSS.

Prints figures; asserts nothing.  Everything runs against a real HTTP server on
127.0.0.1 (the test suite's fault-injecting server, serving files with sendfile), on
--port or an ephemeral one.  Set BENCH_BIG_MIB to change the 1 GiB size.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from faultserver import FaultServer  # noqa: E402
from whole import HUBTOOL, Run, alternate, arguments, compile_sources, line, run, seconds  # noqa: E402

BIG_MIB = int(os.environ.get("BENCH_BIG_MIB", "1024"))
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


def big_file(server: FaultServer, tmp: Path, rounds: int) -> None:
    size = BIG_MIB * CHUNK
    src = tmp / "big.bin"
    sha = write_random(src, size)
    server.add("/big.bin", file=src)
    url = server.url("/big.bin")
    hub = make_hub(tmp / "hub", [(url, sha)])
    commands = {
        "curl -o": ["curl", "-s", "-o", str(tmp / "curl.out"), url],
        # hubtool's store is durable (fdatasync before the rename): the same bytes made durable, and hashed
        "curl -o; sync FILE": ["sh", "-c", f"curl -s -o {tmp / 'curl.out'} {url} && sync {tmp / 'curl.out'}"],
        "hashlib limit": [sys.executable, "-c", HASH_ONLY, str(src)],
        # what a Python downloader on requests pays before its first byte: the interpreter and the library
        "  the limit after import requests": [sys.executable, "-c", "import requests\n" + HASH_ONLY, str(src)],
        "hubtool fetch": [HUBTOOL, "fetch", "--store", str(tmp / "store")],
    }

    def clean(name: str) -> None:
        (tmp / "curl.out").unlink(missing_ok=True)
        shutil.rmtree(tmp / "store", ignore_errors=True)
        os.sync()  # the next command starts with no writeback of this one's bytes still going on

    results = alternate(commands, rounds, hub, after=clean)  # A B C A B C: drift and page cache hit all alike
    print(f"{BIG_MIB} MiB over loopback, {rounds} alternating rounds of whole processes, median (min-max):")
    for name, runs in results.items():
        print(f"{line(name, runs, results['curl -o'], width=34)}  {size / seconds(runs) / 1e6:6.0f} MB/s")
    print("  target: hubtool fetch within 1.2x of curl -o; the floor of a verified, durable download is the slower "
          "of the hashlib and the sync lines, and of one on requests the line after `import requests`")

    route = server.add("/half.bin", file=src, cut_after=size // 2)
    route.file = None  # the cut needs the python writer path
    route.body = src.read_bytes() if BIG_MIB <= 256 else b""
    if route.body:
        hub2 = make_hub(tmp / "hub2", [(server.url("/half.bin"), sha)])
        run([HUBTOOL, "fetch", "--store", str(tmp / "store2")], hub2)
        print(f"resume after a cut at 50%: {route.bytes_sent:,} bytes sent for a {size:,}-byte file "
              f"({(route.bytes_sent - size) / CHUNK:.2f} MiB re-sent; target <= 1 chunk = 1 MiB)")
        shutil.rmtree(tmp / "store2", ignore_errors=True)


def rss_flat(server: FaultServer, tmp: Path) -> None:
    print("peak RSS of hubtool fetch by file size:")
    for mib in (100, BIG_MIB):
        src = tmp / f"f{mib}.bin"
        sha = write_random(src, mib * CHUNK)
        server.add(f"/f{mib}.bin", file=src)
        hub = make_hub(tmp / f"hub{mib}", [(server.url(f"/f{mib}.bin"), sha)])
        one: Run = run([HUBTOOL, "fetch", "--store", str(tmp / "s")], hub)
        print(f"  {mib:5d} MiB: peak RSS {one.rss_mib:.0f} MiB ({one.seconds:.2f} s)")
        shutil.rmtree(tmp / "s", ignore_errors=True)
        src.unlink()


POOCH = ("import json, sys, pooch\nfor url, sha in json.load(open(sys.argv[1])):\n"
         "    pooch.retrieve(url, known_hash='sha256:' + sha, path=sys.argv[2], progressbar=False)")


def mirror_jobs(server: FaultServer, tmp: Path, rounds: int) -> None:
    assets = []
    for i in range(200):
        body = os.urandom(4096)
        server.add(f"/small/{i}.bin", body, latency=0.05)
        assets.append((server.url(f"/small/{i}.bin"), hashlib.sha256(body).hexdigest()))
    hub = make_hub(tmp / "hub-small", assets)
    (tmp / "assets.json").write_text(json.dumps(assets))

    def clean(name: str) -> None:
        for folder in ("pooch", "mirror1", "mirror4", "nothing"):
            shutil.rmtree(tmp / folder, ignore_errors=True)

    mirror = [HUBTOOL, "mirror", "--store", str(tmp / "nothing"), "--to"]
    results = alternate({
        "baseline: pooch.retrieve in sequence": [sys.executable, "-c", POOCH, str(tmp / "assets.json"),
                                                 str(tmp / "pooch")],
        "hubtool mirror --jobs 1": [*mirror, str(tmp / "mirror1"), "--jobs", "1"],
        "hubtool mirror --jobs 4": [*mirror, str(tmp / "mirror4"), "--jobs", "4"],
    }, max(3, rounds // 2), hub, after=clean)
    print(f"mirror of 200 small assets, 50 ms latency per request, {max(3, rounds // 2)} alternating rounds:")
    for name, runs in results.items():
        print(line(name, runs, results["baseline: pooch.retrieve in sequence"]))
    print("  targets: --jobs 1 <= 1.05x pooch; --jobs 4 >= 3x faster than --jobs 1")


def main() -> None:
    args = arguments(__doc__ or "", rounds=5, port=True)
    compile_sources()
    server = FaultServer(port=args.port).start()
    try:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            mirror_jobs(server, Path(tmp), args.rounds)
            big_file(server, Path(tmp), args.rounds)
            rss_flat(server, Path(tmp))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
