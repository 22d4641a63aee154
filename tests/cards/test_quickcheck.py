"""The pre-commit fast path (cli/quickcheck.py) reads `hubtool check` as the typer command does.

It must take the same options, give the same output and exit codes, run without importing
typer or click, and hand every command line it does not fully understand to typer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from helpers import (
    card_text,
    plain_options,
    plain_positionals,
    positionals,
    run_cli,
    typer_command,
    typer_options,
    write_hub,
)
from hubtool.cli.quickcheck import COMMAND, FORMATS, parse

# the fast path's process: typer and click cannot be imported, so a fall-through fails loudly
NO_TYPER = ("import sys\nfor m in ('typer', 'click'): sys.modules[m] = None\n"
            "from hubtool.cli import main\nmain()")
FULL = "from hubtool.cli import main\nmain()"


def typer_check() -> click.Command:
    return typer_command("check")


def test_the_fast_parser_has_the_typer_commands_options() -> None:
    assert plain_options(COMMAND) == typer_options(typer_check())
    assert plain_positionals(COMMAND) == positionals(typer_check())
    assert FORMATS == tuple(typer_check().params[1].type.choices)  # type: ignore[attr-defined]


@pytest.fixture()
def hub(tmp_path: Path) -> Path:
    write_hub(tmp_path, {"u/good.md": card_text(), "u/bad.md": card_text(**{"model-name": "b", "accuracy": "high"}),
                         "u/warn.md": card_text(**{"model-name": "w", "model-version": "1.10"})})
    return tmp_path


ARGVS = [
    ["check"],
    ["check", "cards/u/good.md"],
    ["check", "cards/u/bad.md", "cards/u/good.md"],
    ["check", "--format", "json", "cards"],
    ["check", "-f", "github", "cards/u/bad.md"],
    ["check", "--format=junit", "cards/u/warn.md"],
    ["check", "cards/u/warn.md", "--strict"],
    ["check", "--exit-zero", "cards/u/bad.md"],
    ["check", "--select", "HUB2", "--select", "HUB110", "cards"],
    ["check", "--ignore", "HUB1", "cards/u/warn.md", "--strict"],
    ["--color", "never", "check", "cards/u/warn.md"],
    ["-q", "check", "cards"],
    ["check", "cards/u/missing.md"],
    ["check", "--config", "nowhere.yaml", "cards"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=[" ".join(a) for a in ARGVS])
def test_the_fast_path_says_what_typer_says(hub: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse(argv) is not None  # it is the fast path's to read
    monkeypatch.chdir(hub)
    typer_result = run_cli(*argv)
    env = {**os.environ, "NO_COLOR": "1", "HUBTOOL_HOME": str(hub / "home")}
    fast = subprocess.run([sys.executable, "-c", NO_TYPER, *argv], cwd=hub, env=env, capture_output=True,
                          text=True, timeout=60)
    assert fast.returncode == typer_result.exit_code, fast.stderr
    assert fast.stdout == typer_result.stdout
    assert fast.stderr == typer_result.stderr


@pytest.mark.parametrize("argv", [
    ["check", "--help"], ["check", "-h", "cards"], ["check", "--bogus"], ["check", "--format", "xml"],
    ["check", "--strict=yes"], ["--color", "sometimes", "check"], ["--version"], ["rules"], [],
    ["check", "--sel", "HUB2"],  # an abbreviation: click refuses it, so argparse must not take it
])
def test_anything_else_goes_to_typer(hub: Path, argv: list[str]) -> None:
    assert parse(argv) is None
    blocked = subprocess.run([sys.executable, "-c", NO_TYPER, *argv], cwd=hub, capture_output=True, text=True,
                             timeout=60)
    assert "ModuleNotFoundError" in blocked.stderr or "typer" in blocked.stderr  # it did reach for typer
    full = subprocess.run([sys.executable, "-c", FULL, *argv], cwd=hub, capture_output=True, text=True, timeout=60)
    expected = run_cli(*argv)
    assert full.returncode == expected.exit_code


def test_a_card_path_that_is_not_utf8_is_printed_as_its_bytes(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {})
    cards.mkdir()
    name = b"caf\xe9.md"
    (cards / os.fsdecode(name)).write_text(card_text(**{"accuracy": "high"}))
    fast = subprocess.run([sys.executable, "-c", NO_TYPER, "check"], cwd=tmp_path, capture_output=True,
                          timeout=60, env={**os.environ, "HUBTOOL_HOME": str(tmp_path / "home")})
    assert fast.returncode == 1, fast.stderr
    assert b"cards/" + name + b": HUB004 error: the card's path is not UTF-8: cards/caf\\xe9.md" in fast.stdout
    assert b"Traceback" not in fast.stderr
    # read by typer (a cluster), with stdout strict as under a UTF-8 locale other than C.UTF-8: the same bytes out
    for argv in (["check", "-fjson"], ["check", "-ftext"]):
        env = {**os.environ, "HUBTOOL_HOME": str(tmp_path / "home"), "PYTHONIOENCODING": "utf-8:strict"}
        typer = subprocess.run([sys.executable, "-c", FULL, *argv], cwd=tmp_path, capture_output=True, timeout=60,
                               env=env)
        assert typer.returncode == 1 and typer.stderr == b"", typer.stderr
        assert b"cards/" + name in typer.stdout
