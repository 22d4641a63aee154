"""Ctrl-C (SIGINT) stops fetch, mirror, golden and publish within about a second, exit 130 (issue #13).

Each command runs as a real process against a loopback server that is slow or
stalls; SIGINT comes once bytes are flowing.  Afterwards the store invariant
holds, the partial download is kept, and the next run resumes it with Range.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultserver import FaultServer, random_bytes

from helpers import REPO, assert_store_invariant, card_text
from hubtool.assets.store import DirectoryStore

HUBTOOL = str(Path(sys.executable).with_name("hubtool"))
BODY = random_bytes(4 * 1024 * 1024, seed=11)
SHA = hashlib.sha256(BODY).hexdigest()
STALLED = random_bytes(1000, seed=12)


def make_hub(root: Path, server: FaultServer, *, stalled: bool = False) -> Path:
    """A hub whose one card (two with `stalled`) points at slow assets on the loopback server."""
    (root / "hub").mkdir(parents=True)
    (root / "hub" / "hub.yaml").write_text(
        "name: t\ngolden:\n  default-sets: {cifar10: cifar10-canary}\npolicy:\n  allowed-schemes: [http]\n"
        "  allowed-hosts: ['127.0.0.1']\n  allow-private-addresses: ['127.0.0.1']\n  read-timeout: 60\n")
    shutil.copytree(REPO / "hub" / "golden", root / "hub" / "golden")
    server.add("/slow.ms", BODY, delay=0.1, etag='"v1"')  # 64 KiB every 0.1 s: 6.4 s in all
    assets = {"slow": ("/slow.ms", SHA)}
    if stalled:
        server.add("/stalled.ms", STALLED, latency=60)  # answers nothing for a minute: a blocked read
        assets["stalled"] = ("/stalled.ms", hashlib.sha256(STALLED).hexdigest())
    for name, (path, sha) in assets.items():
        (root / "cards" / "u").mkdir(parents=True, exist_ok=True)
        (root / "cards" / "u" / f"{name}.md").write_text(
            card_text(link=server.url(path), sha=sha, fmt="mslite", extra="golden:\n  set: cifar10-canary\n",
                      **{"model-name": name}))
    return root


def interrupt(args: list[str], root: Path, server: FaultServer) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run hubtool, SIGINT it once the slow asset is flowing; the result and seconds from SIGINT to exit."""
    env = {**os.environ, "HUBTOOL_HOME": str(root / "home")}
    proc = subprocess.Popen([HUBTOOL, *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    deadline = time.monotonic() + 30
    while server.routes["/slow.ms"].bytes_sent < 1536 * 1024 and time.monotonic() < deadline:  # past 1 chunk
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(args, proc.returncode, out, err), time.monotonic() - sent


@pytest.mark.parametrize("command", [
    ["fetch", "--store", "store"],
    ["mirror", "--to", "mirror", "--store", "store", "--jobs", "2"],
    ["golden", "--store", "store"],
    ["publish", "--to", "dist", "--store", "store"],
])
def test_ctrl_c_stops_within_a_second_and_the_next_run_resumes(tmp_path: Path, server: FaultServer,
                                                                command: list[str]) -> None:
    root = make_hub(tmp_path, server, stalled=command[0] == "mirror")
    done, seconds = interrupt(command, root, server)
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert seconds < 2.0, seconds
    assert "hubtool: interrupted" in done.stderr and "partial downloads are kept" in done.stderr
    assert "Traceback" not in done.stderr
    written = "mirror" if command[0] == "mirror" else "store"  # where the download went, and its partial
    for name in {"store", written}:
        assert_store_invariant(DirectoryStore(root / name), temps=name == written)
    if command[0] == "publish":
        assert "nothing was published" in done.stderr and not (root / "dist").exists()
    route = server.routes["/slow.ms"]
    route.delay = 0.0
    server.routes.get("/stalled.ms", route).latency = 0.0
    again = subprocess.run([HUBTOOL, "fetch", "--store", written],
                           cwd=root, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "HUBTOOL_HOME": str(root / "home")})
    assert again.returncode == 0, again.stdout + again.stderr
    assert route.range_requests, "the partial download was not resumed"


def test_ctrl_c_says_partial_downloads_are_kept_only_once_a_download_began(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A check, or a translation, keeps no partial download: Ctrl-C does not say it does.  Only a resumable
    writer (an HTTP download's) makes the run say so."""
    from hubtool import cancel
    from hubtool.cli.failures import exit_code_for

    cancel.reset()
    assert exit_code_for(KeyboardInterrupt()) == 130
    assert capsys.readouterr().err == "hubtool: interrupted\n"
    store = DirectoryStore(tmp_path / "store")
    store.writer("ab" * 32, source="a copy", resume=False).abort()
    exit_code_for(KeyboardInterrupt())
    assert capsys.readouterr().err == "hubtool: interrupted\n"
    cancel.note("publish", "nothing was published")
    store.writer("cd" * 32, source="https://example.org/m.ckpt").abort()
    exit_code_for(KeyboardInterrupt())
    assert capsys.readouterr().err == ("hubtool: interrupted: nothing was published; partial downloads are kept "
                                       "and resume on the next run\n")
    cancel.reset()
