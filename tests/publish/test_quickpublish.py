"""The replay's fast path (cli/quickpublish.py) reads `hubtool publish` as the typer command does.

It must take the same options and print what the typer command prints for a replayed run, run
without importing typer, click or the pipeline, and hand every other command line and every run
it cannot replay to typer.  The hubs are settled in this process (filestatus.SETTLE_NS is 0 here);
the fast path runs in a process of its own, in the same working directory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from faultserver import FaultServer
from test_unchanged import make_hub, settle_at_once  # noqa: F401 - the fixture, used here too

from helpers import plain_options, plain_positionals, positionals, run_cli, typer_command, typer_options
from hubtool.cli import quickpublish
from hubtool.cli.quickpublish import COMMAND, FORMATS, parse, replays
from hubtool.errors import StoreError
from hubtool.publish import pipeline, replay
from hubtool.publish.ledger import Ledger

# the fast path's process: what a replay does not need cannot be imported, so a fall-through fails loudly
NO_TYPER = ("import sys\nfor m in ('typer', 'click', 'hubtool.publish.pipeline'): sys.modules[m] = None\n"
            "from hubtool.cli import main\nmain()")
FULL = "from hubtool.cli import main\nmain()"


def test_the_fast_parser_has_the_typer_commands_options() -> None:
    publish = typer_command("publish")
    assert plain_options(COMMAND) == typer_options(publish)
    assert plain_positionals(COMMAND) == positionals(publish)
    assert FORMATS == next(tuple(p.type.choices) for p in publish.params if p.name == "fmt")  # type: ignore


def _args(root: Path, *extra: str) -> list[str]:
    return ["publish", "--to", "dist/hub", "--store", "store", "--config", "hub/hub.yaml", "cards", *extra]


@pytest.fixture()
def settled(tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub published twice here (the second run is remembered), from its own folder."""
    root = make_hub(tmp_path, server, copy=True)
    monkeypatch.chdir(root)
    for _ in range(2):
        assert run_cli(*_args(root)).exit_code == 0
    return root


def _fast(root: Path, argv: list[str], code: str = NO_TYPER) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("extra", [[], ["--format", "json"], ["-f", "github"], ["--jobs", "2", "--offline"],
                                   ["--report", "json:r.json", "--report", "junit:r.xml"]],
                         ids=["text", "json", "github", "options", "reports"])
def test_the_fast_path_replays_what_typer_replays(settled: Path, extra: list[str]) -> None:
    argv = _args(settled, *extra)
    assert parse(argv) is not None
    run_cli(*argv)  # other options (--offline) are another run key: remembered now
    typer_result = run_cli(*argv)
    assert "replayed)" in typer_result.stdout or '"replayed": 1' in typer_result.stdout or "github" in extra
    reports = {name: (settled / name).read_text() for name in ("r.json", "r.xml") if (settled / name).exists()}
    fast = _fast(settled, argv)
    assert fast.returncode == typer_result.exit_code == 0, fast.stderr
    assert fast.stdout == typer_result.stdout and fast.stderr == ""
    assert {name: (settled / name).read_text() for name in reports} == reports
    if "json" in extra:
        assert json.loads(fast.stdout)["counters"]["replayed"] == 1


def test_the_status_line_is_said_as_typer_says_it(settled: Path) -> None:
    fast = _fast(settled, ["-v", *_args(settled)])
    assert fast.returncode == 0, fast.stderr
    assert fast.stderr == "hubtool: 4 cards: nothing changed since the last run, which is replayed\n"
    assert _fast(settled, ["-q", *_args(settled)]).stderr == ""


@pytest.mark.parametrize("argv", [
    ["publish", "--help"], ["publish", "--bogus"], ["publish", "--format", "junit"], ["publish", "--jobs", "0"],
    ["publish", "--jobs", "many"], ["publish", "--form", "json"], ["--color", "sometimes", "publish"],
])
def test_command_lines_it_cannot_read_go_to_typer(settled: Path, argv: list[str]) -> None:
    assert parse(argv) is None
    blocked = _fast(settled, argv)
    assert "ModuleNotFoundError" in blocked.stderr or "typer" in blocked.stderr  # it did reach for typer
    assert _fast(settled, argv, FULL).returncode == run_cli(*argv).exit_code


@pytest.mark.parametrize("extra", [["--no-cache"], ["--ledger", "shared"], ["--shard", "1/2", "--ledger", "shared"],
                                   ["--merge", "--ledger", "shared"], ["--executor", "dask://127.0.0.1:1"]])
def test_jobs_that_never_replay_go_to_typer(extra: list[str]) -> None:
    args = parse(["publish", *extra])
    assert args is not None and not replays(args)


def test_a_hub_that_changed_goes_to_typer(settled: Path) -> None:
    card = settled / "cards" / "u" / "m1.md"
    card.write_text(card.read_text().replace("summary: s", "summary: another"))
    assert "ModuleNotFoundError" in _fast(settled, _args(settled)).stderr
    full = _fast(settled, [*_args(settled), "--format", "json"], FULL)
    doc = json.loads(full.stdout)
    assert full.returncode == 0 and doc["counters"]["replayed"] == 0 and doc["counters"]["parsed"] == 1


def test_an_unreadable_ledger_is_left_for_typer_to_repair_and_say(settled: Path) -> None:
    ledger = settled / "store" / "ledger.sqlite"
    for extra in ("-wal", "-shm"):
        Path(f"{ledger}{extra}").unlink(missing_ok=True)
    ledger.write_bytes(ledger.read_bytes()[:5000])  # truncated
    with pytest.raises(StoreError):
        Ledger(ledger, repair=False)
    assert ledger.stat().st_size == 5000  # as it was: the fast path repairs nothing
    assert "ModuleNotFoundError" in _fast(settled, _args(settled)).stderr
    full = _fast(settled, _args(settled), FULL)
    assert full.returncode == 0 and "was unreadable" in full.stderr
    assert [p.name for p in ledger.parent.glob("ledger.sqlite.corrupt-*")]


def test_a_replay_reads_the_ledger_without_checking_the_whole_file(settled: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`repair=False` skips the quick_check that a repairing open needs (~35 ms for 10k cards)."""
    statements: list[str] = []
    real = sqlite3.connect

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = real(*args, **kwargs)  # type: ignore[arg-type]
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", connect)
    Ledger(settled / "store" / "ledger.sqlite", repair=False).close()
    assert not any("quick_check" in s for s in statements)
    Ledger(settled / "store" / "ledger.sqlite").close()
    assert any("quick_check" in s for s in statements)


def test_a_command_line_the_fast_path_could_not_replay_is_not_tried_again(settled: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quickpublish, "_MISSED", [False])
    calls: dict[str, int] = {"fast path": 0, "pipeline": 0}

    def counted(name: str, real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(replay, "replay_unchanged", counted("fast path", replay.replay_unchanged))
    monkeypatch.setattr(pipeline, "replay_unchanged", counted("pipeline", pipeline.replay_unchanged))
    argv = _args(settled, "--format", "json")
    assert run_cli(*argv).exit_code == 0 and calls == {"fast path": 0, "pipeline": 1}  # no fast path before it
    card = settled / "cards" / "u" / "m1.md"
    card.write_text(card.read_text().replace("summary: s", "summary: another"))
    assert quickpublish.fast_publish(argv) is None and calls["fast path"] == 1
    result = run_cli(*argv)
    assert result.exit_code == 0 and json.loads(result.output)["counters"]["parsed"] == 1
    assert calls == {"fast path": 1, "pipeline": 1}  # the typer command went straight to the pipeline
