"""The command line a person meets: help for every option, exit codes in --help, --color, -q/-v, and
progress that is readable on a terminal (a real pseudo-terminal) and in a CI log (a pipe) (issue #14)."""

from __future__ import annotations

import hashlib
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import click
import typer
from faultserver import FaultServer, random_bytes

from helpers import card_text, run_cli, write_hub
from hubtool.cli.commands import app

HUBTOOL = str(Path(sys.executable).with_name("hubtool"))
BODY = random_bytes(4_200_000, seed=21)


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found += commands(command, prefix + name + " ")
    return found


def test_every_option_has_help_and_help_lists_the_exit_codes() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    missing = [f"{name} {param.opts[0]}" for name, command in commands(root) for param in command.params
               if isinstance(param, click.Option) and not param.help]
    assert not missing, missing
    shown = run_cli("--help").output
    assert "Exit codes: 0" in shown and "130 interrupted" in shown.replace("\n", " ")


def test_color_always_never_and_no_color(tmp_path: Path) -> None:
    write_hub(tmp_path, {"u/bad.md": card_text(**{"used-for": "nonsense"})})

    def check(*options: str, **env: str) -> str:
        return subprocess.run([HUBTOOL, *options, "check", "cards"], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, **env}, timeout=60).stdout

    assert "\x1b[" in check("--color", "always")  # piped, yet coloured on request
    assert "\x1b[" not in check("--color", "never") and "\x1b[" not in check()  # a pipe is not a terminal
    assert "\x1b[" not in check("--color", "auto", NO_COLOR="1")


def slow_hub(tmp_path: Path, server: FaultServer) -> Path:
    server.add("/m.ckpt", BODY, delay=0.05)  # 64 KiB every 50 ms: ~3 s, Content-Length sent
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "hub.yaml").write_text(
        "name: t\npolicy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n")
    (tmp_path / "cards" / "u").mkdir(parents=True)
    (tmp_path / "cards" / "u" / "m.md").write_text(card_text(link=server.url("/m.ckpt"),
                                                             sha=hashlib.sha256(BODY).hexdigest()))
    return tmp_path


def test_progress_on_a_terminal_shows_the_size_percent_and_rate(tmp_path: Path, server: FaultServer) -> None:
    root = slow_hub(tmp_path, server)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([HUBTOOL, "fetch", "--store", str(root / "s")], cwd=root, stdout=subprocess.PIPE,
                            stderr=follower, env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            screen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode("utf-8", "replace"))  # the bars, without styling
    assert proc.returncode == 0, text
    assert "4.2/4.2 MB" in text and "100%" in text, text[-2000:]  # the size the server sent, as a percentage
    assert "%" in text and "MB/s" in text


def test_progress_in_a_log_is_a_line_every_few_seconds(tmp_path: Path, server: FaultServer) -> None:
    root = slow_hub(tmp_path, server)
    done = subprocess.run([HUBTOOL, "fetch", "--store", str(root / "s")], cwd=root, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "HUBTOOL_PROGRESS_SECONDS": "0.5"})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " done, " in line]
    assert len(lines) >= 2, done.stderr  # ~3 s of download: a line each 0.5 s, not one per chunk
    assert len(lines) < 20 and all(" of 4.2 MB done, " in line and "MB/s" in line for line in lines)
    quiet = subprocess.run([HUBTOOL, "-q", "fetch", "--store", str(root / "q")], cwd=root, capture_output=True,
                           text=True, timeout=60, env={**os.environ, "HUBTOOL_PROGRESS_SECONDS": "0.5"})
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr


def test_summaries_count_in_the_singular_too(tmp_path: Path) -> None:
    from hubtool.assets.report import render_assets
    from hubtool.cards.report import counted
    from hubtool.golden.inference import GoldenResult
    from hubtool.golden.report import render

    assert [counted(n, "card") for n in (0, 1, 2)] == ["0 cards", "1 card", "2 cards"]
    assert render([("c.md", GoldenResult("passed", ""))], "text").splitlines()[-1] == "1 card: 1 passed"
    assert render_assets([], "text") == "0 assets: 0 ok, 0 failed, 0 bytes transferred"


DATA_MAPS = {"operators", "training", "versions", "metadata", "summary-by-status"}  # keys there are data


def keys_of(doc: object, where: str = "") -> list[str]:
    found = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.append(f"{where}/{key}")
            if key not in DATA_MAPS:
                found += keys_of(value, f"{where}/{key}")
    elif isinstance(doc, list):
        for item in doc:
            found += keys_of(item, where)
    return found


def test_json_keys_are_kebab_case_in_every_command(tmp_path: Path, server: FaultServer) -> None:
    import json

    from helpers import SHARED

    root = slow_hub(tmp_path, server)
    server.routes["/m.ckpt"].delay = 0
    outputs = {
        "check": run_cli("check", "--format", "json", str(root / "cards")).output,
        "fetch": subprocess.run([HUBTOOL, "fetch", "--format", "json", "--store", str(root / "s")], cwd=root,
                                capture_output=True, text=True, timeout=60).stdout,
        "golden": subprocess.run([HUBTOOL, "golden", "--format", "json", "--store", str(root / "s")], cwd=root,
                                 capture_output=True, text=True, timeout=60).stdout,
        "inspect": run_cli("inspect", "--format", "json", *map(str, sorted((SHARED / "ms-samples").glob("*.ms")))
                           ).output,
        "runtime status": run_cli("runtime", "status", "--format", "json").output,
    }
    report = tmp_path / "report.json"
    subprocess.run([HUBTOOL, "publish", "--to", str(tmp_path / "dist"), "--store", str(root / "s"), "--report",
                    f"json:{report}"], cwd=root, capture_output=True, text=True, timeout=120)
    outputs["publish"] = report.read_text()
    bad = [f"{command}: {key}" for command, text in outputs.items() for key in keys_of(json.loads(text))
           if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key.rsplit("/", 1)[-1])]
    assert not bad, bad


def test_messages_say_what_is_missing_without_pointing_at_a_checkout(tmp_path: Path) -> None:
    lost = subprocess.run([HUBTOOL, "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert lost.returncode == 2 and "no hub here: no hub/hub.yaml in" in lost.stderr, lost.stderr
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "hub.yaml").write_text("name: t\npolicy:\n  retries: many\n")
    (tmp_path / "cards").mkdir()
    bad = subprocess.run([HUBTOOL, "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "`hubtool schema --name hub --print` shows what is allowed" in bad.stderr
    assert "schemas/" not in bad.stderr  # a pip install has no such folder
