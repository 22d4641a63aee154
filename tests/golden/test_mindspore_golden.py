"""Golden inference in MindSpore 2.x: the canary's MindIR and checkpoint, networks from their sources,
and repositories whose code attacks the machine (each gets a failed verdict; the parent carries on)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_golden import make_hub

from helpers import REPO, card_text, mindspore_env
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.cards.validate import CardChecker
from hubtool.config import load_config
from hubtool.golden.card import GoldenRunner
from hubtool.golden.inference import GoldenResult

HUBTOOL = str(Path(sys.executable).with_name("hubtool"))

ASSETS = REPO / "hub" / "assets"
GOLDEN = "golden:\n  set: cifar10-canary\n"


def sha(name: str) -> str:
    return hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()


def ms_card(fmt: str, *, network: str | None = None, name: str = "cifar10-cnn-canary-ckpt") -> str:
    extra = GOLDEN + (f"network: {network}\n" if network is not None else "")
    return card_text(extra=extra, fmt=fmt, link=f"hub/assets/cifar10-cnn-canary.{fmt}",
                     sha=sha(f"cifar10-cnn-canary.{fmt}"), **{"model-name": name})


def verdict(root: Path, rel: str = "u/c.md", *, timeout: float = 120.0) -> GoldenResult:
    mindspore_env()  # the real runtime, or the test fails saying how to install it
    config = load_config(root / "hub" / "hub.yaml")
    card = CardChecker(config).load(root / "cards" / rel).card
    assert card is not None
    fetcher = build_fetcher(DirectoryStore(root / "store"), config.policy, hub_root=config.root)
    return GoldenRunner(config, fetcher, timeout=timeout).run(card.metadata)


def evil_hub(tmp_path: Path, body: str, hub_yaml: str = "") -> Path:
    """A hub with the canary's checkpoint card, whose network (a repository folder in the hub) runs `body`."""
    root = make_hub(tmp_path, {"u/c.md": ms_card("ckpt", network="hub/networks/evil")})
    folder = root / "hub" / "networks" / "evil"
    folder.mkdir(parents=True)
    (folder / "mindspore_hub_conf.py").write_text(
        "import os, signal, socket, sys\n\n"
        "def create_network(name, *args, **kwargs):\n" + "".join(f"    {line}\n" for line in body.splitlines()))
    hub = root / "hub" / "hub.yaml"
    hub.write_text(hub.read_text() + hub_yaml)
    return root


@pytest.mark.parametrize("fmt", ["mindir", "ckpt"])
def test_the_canary_passes_in_mindspore_within_the_reference_tolerance(tmp_path: Path, fmt: str) -> None:
    network = "hub/networks/cifar10-cnn" if fmt == "ckpt" else None
    root = make_hub(tmp_path, {"u/c.md": ms_card(fmt, network=network)})
    result = verdict(root)
    assert (result.status, result.correct, result.required) == ("passed", 20, 20), result.message
    assert max(c.deviation or 0 for c in result.cases) < 2e-5  # 9.5e-6 measured; the set allows 1e-4
    assert result.details is not None and (result.details.ran or "").startswith("MindSpore 2.10.0 (a sandboxed")
    if fmt == "ckpt":
        assert result.details.network == ("mindspore_hub_conf.create_network('cifar10-cnn-canary-ckpt') "
                                          "from hub/networks/cifar10-cnn")


def test_hub_yaml_names_the_network_when_the_card_does_not(tmp_path: Path) -> None:
    root = make_hub(tmp_path, {"u/c.md": ms_card("ckpt")})
    hub = root / "hub" / "hub.yaml"
    hub.write_text(hub.read_text().replace("golden:\n", "golden:\n  networks:\n    CIFAR10-CNN-canary-ckpt:\n"
                                           "      source: hub/networks/cifar10-cnn:cifar10_cnn:Cifar10Cnn\n"
                                           "      kwargs: {num_classes: 10}\n"))
    result = verdict(root)
    assert result.status == "passed", result.message
    assert result.details is not None
    assert result.details.network == "cifar10_cnn.Cifar10Cnn(num_classes=10) from hub/networks/cifar10-cnn"


def test_a_checkpoint_without_a_network_is_skipped_saying_how_to_name_one(tmp_path: Path) -> None:
    root = make_hub(tmp_path, {"u/c.md": ms_card("ckpt")})
    result = verdict(root)
    assert result.status == "skipped"
    assert "verified by hash and inspection only: give the card a network:" in result.message


def test_a_checkpoint_that_does_not_fit_its_network_is_reported_before_running(tmp_path: Path) -> None:
    """mindcv's resnet18 has none of the canary's parameters: the names, counted, and nothing ran."""
    root = make_hub(tmp_path, {"u/c.md": ms_card("ckpt", network="mindcv:resnet18")})
    result = verdict(root)
    assert result.status == "failed" and not result.cases
    assert result.message.startswith("the checkpoint does not fit the network mindcv:resnet18 (the card's network:)")
    assert "parameters are not in the checkpoint (conv1.weight" in result.message
    assert result.message.endswith("nothing was run")


def test_a_layer_of_another_width_is_named_with_both_shapes(tmp_path: Path) -> None:
    root = make_hub(tmp_path, {})
    narrow = root / "hub" / "networks" / "narrow"
    narrow.mkdir(parents=True)
    for name in ("mindspore_hub_conf.py", "cifar10_cnn.py"):
        text = (REPO / "hub" / "networks" / "cifar10-cnn" / name).read_text()
        (narrow / name).write_text(text.replace("nn.Dense(1024, 512", "nn.Dense(1024, 256").replace(
            "nn.Dense(512, num_classes", "nn.Dense(256, num_classes"))
    (root / "cards" / "u").mkdir(parents=True)
    (root / "cards" / "u" / "c.md").write_text(ms_card("ckpt", network="hub/networks/narrow"))
    result = verdict(root)
    assert result.status == "failed" and not result.cases
    assert "3 have another shape (classifier.1.weight: network [256, 1024], checkpoint [512, 1024]" in result.message


@pytest.mark.parametrize("network, expect", [
    ("hub/networks/none-such", "no such folder in the hub"),
    ("../outside", "lies outside the hub"),
    ("hub/networks/cifar10-cnn:no_module:create", "has no module no_module"),
    ("mindcv:no-such-model", "mindcv 0.3.0 has no model 'no-such-model'"),
])
def test_an_unusable_network_source_fails_clearly(tmp_path: Path, network: str, expect: str) -> None:
    root = make_hub(tmp_path, {"u/c.md": ms_card("ckpt", network=network)})
    (tmp_path / "outside").mkdir()
    result = verdict(root)
    assert result.status == "failed" and expect in result.message, result.message


# --- repositories whose code attacks the machine ----------------------------------------------------------

@pytest.fixture()
def listener() -> tuple[int, list[object]]:
    """A loopback server the hostile code tries to reach; it records every connection it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(30)
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


def test_repository_code_has_no_network(tmp_path: Path, listener: tuple[int, list[object]]) -> None:
    port, accepted = listener
    root = evil_hub(tmp_path, f"socket.create_connection(('127.0.0.1', {port}), timeout=5)")
    result = verdict(root)
    assert result.status == "failed" and "Network is unreachable" in result.message, result.message
    assert accepted == []


def test_repository_code_cannot_write_outside_its_scratch(tmp_path: Path) -> None:
    escape, own = tmp_path / "escaped.txt", tmp_path / "hub" / "networks" / "evil" / "planted.py"
    root = evil_hub(tmp_path, f"for target in ({str(escape)!r}, {str(own)!r}):\n"
                            "    try:\n        open(target, 'w').write('x')\n    except OSError as exc:\n"
                            "        sys.errors = getattr(sys, 'errors', []) + [str(exc)]\n"
                            "raise OSError(' | '.join(sys.errors))")
    result = verdict(root)
    assert result.status == "failed" and result.message.count("Read-only file system") == 2, result.message
    assert not escape.exists() and not own.exists()


def test_repository_code_allocating_without_bound_fails_under_the_limit(tmp_path: Path) -> None:
    root = evil_hub(tmp_path, "hoard = []\nwhile True:\n    hoard.append(bytearray(1 << 28))",
                    "runtimes:\n  mindspore:\n    address-space: 4294967296\n")
    result = verdict(root)
    assert result.status == "failed" and "out of memory under the worker's address-space limit" in result.message


def test_repository_code_cannot_read_the_home_folder_s_credentials(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """What the code reads could leave in its error message, which is published: the stores are hidden."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("aws_secret_access_key = SECRET-AWS\n")
    (home / ".netrc").write_text("machine example.org password SECRET-NETRC\n")
    monkeypatch.setenv("HOME", str(home))
    root = evil_hub(tmp_path, "home = os.environ['HOME']\nfound = []\n"
                            "for name in ('.aws/credentials', '.netrc'):\n"
                            "    try:\n        found.append(open(os.path.join(home, name)).read())\n"
                            "    except OSError as exc:\n        found.append(type(exc).__name__)\n"
                            "raise RuntimeError('read: ' + ' | '.join(found))")
    result = verdict(root)
    assert result.status == "failed" and "read: FileNotFoundError | " in result.message, result.message
    assert "SECRET" not in result.message


@pytest.mark.parametrize("body, expect", [
    ("while True:\n    pass", "(hung): the worker did not answer the load request within 10 s; it was killed"),
    ("os.kill(os.getpid(), signal.SIGSEGV)", "(crashed): the worker died during the load request (killed by SIGSEGV)"),
    ("sys.exit(3)", "load failed: SystemExit: 3"),
])
def test_repository_code_that_hangs_crashes_or_exits_fails_and_the_parent_carries_on(
        tmp_path: Path, body: str, expect: str) -> None:
    root = evil_hub(tmp_path, body)
    result = verdict(root, timeout=10)
    assert result.status == "failed" and expect in result.message, result.message
    if "hung" in expect:  # the hardest end (a busy worker killed): the same process then verifies the next card
        (root / "cards" / "u" / "ok.md").write_text(ms_card("mindir"))
        assert verdict(root, "u/ok.md").status == "passed"


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_die_with_a_sigkilled_hubtool(tmp_path: Path) -> None:
    """hubtool golden SIGKILLed while its MindSpore worker spins in repository code (and a spare MindSpore
    Lite worker waits): nothing is left running. Without PR_SET_PDEATHSIG the busy worker spins on."""
    mindspore_env()
    root = evil_hub(tmp_path, "while True:\n    pass")
    proc = subprocess.Popen([HUBTOOL, "golden", "--store", str(root / "store")], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    busy: list[int] = []
    deadline = time.monotonic() + 60
    while not busy and time.monotonic() < deadline:  # past MindSpore's import (~2 s of CPU): in the loop
        time.sleep(0.5)
        busy = [p for p in _children(proc.pid) if _cpu_seconds(p) > 6.0]
    workers = _children(proc.pid)
    try:
        assert busy, "no worker reached the busy loop"
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)], "workers outlived hubtool"
    finally:
        proc.kill()
        for pid in workers:  # whatever the outcome, leave nothing spinning
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
