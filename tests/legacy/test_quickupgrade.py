"""`hubtool upgrade-ms` without typer (cli/quickupgrade.py) reads and answers as the typer command does.

Each command line runs twice on fresh copies of the same files: through the typer application
in this process, and in a process where typer and click cannot be imported. Same exit code,
stdout, stderr, and the same bytes written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from legacy_graphs import resnet50_plain
from legacy_writer import write_v0

from helpers import plain_options, plain_positionals, positionals, run_cli, typer_command, typer_options
from hubtool.cli.quickupgrade import COMMAND

NO_TYPER = ("import sys\nfor m in ('typer', 'click'): sys.modules[m] = None\n"
            "from hubtool.cli import main\nmain()")


def test_the_fast_parser_has_the_typer_commands_options() -> None:
    command = typer_command("upgrade-ms")
    assert plain_options(COMMAND) == typer_options(command)
    assert plain_positionals(COMMAND) == positionals(command)


def _files(folder: Path) -> Path:
    """A small 1.0 model, a file that is no model, and a folder: what the command lines below name."""
    folder.mkdir()
    (folder / "m.ms").write_bytes(write_v0(resnet50_plain(widths=(8, 16, 32, 64))))
    (folder / "junk.ms").write_bytes(b"MSL2 is not what this is" * 10)
    (folder / "out").mkdir()
    return folder


ARGVS = [
    ["upgrade-ms", "m.ms", "new.ms"],
    ["upgrade-ms", "m.ms", "--in-place"],
    ["upgrade-ms", "--in-place", "m.ms", "m.ms"],
    ["--color", "never", "upgrade-ms", "m.ms", "new.ms"],
    ["upgrade-ms", "junk.ms", "new.ms"],  # not a model: said, exit 1
    ["upgrade-ms", "m.ms"],  # no destination and no --in-place
    ["upgrade-ms", "m.ms", "out"],  # a folder
    ["upgrade-ms", "m.ms", "nowhere/new.ms"],
    ["upgrade-ms", "m.ms", "m.ms"],  # the input itself
    ["upgrade-ms", "missing.ms", "new.ms"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=[" ".join(a) for a in ARGVS])
def test_the_fast_path_says_and_writes_what_typer_does(argv: list[str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    typer_dir, fast_dir = _files(tmp_path / "typer"), _files(tmp_path / "fast")
    monkeypatch.chdir(typer_dir)
    expected = run_cli(*argv)
    fast = subprocess.run([sys.executable, "-c", NO_TYPER, *argv], cwd=fast_dir, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    assert fast.returncode == expected.exit_code, fast.stderr
    assert (fast.stdout, fast.stderr) == (expected.stdout, expected.stderr)
    assert "Traceback" not in fast.stderr
    for name in ("m.ms", "new.ms"):
        assert (fast_dir / name).exists() == (typer_dir / name).exists()
        if (fast_dir / name).exists():
            assert (fast_dir / name).read_bytes() == (typer_dir / name).read_bytes()
    written = sorted(p.name for p in fast_dir.iterdir())
    assert written == sorted(p.name for p in typer_dir.iterdir())  # no temp file left by either


@pytest.mark.parametrize("argv", [
    ["upgrade-ms", "--help"], ["upgrade-ms"], ["upgrade-ms", "m.ms", "a.ms", "b.ms"], ["upgrade-ms", "--bogus", "m.ms"],
    ["upgrade-ms", "m.ms", "a.ms", "--in-pl"],  # an abbreviation: click refuses it, so argparse must not take it
])
def test_anything_else_goes_to_typer(argv: list[str], tmp_path: Path) -> None:
    folder = _files(tmp_path / "files")
    original = (folder / "m.ms").read_bytes()
    blocked = subprocess.run([sys.executable, "-c", NO_TYPER, *argv], cwd=folder, capture_output=True, text=True,
                             timeout=60)
    assert "ModuleNotFoundError" in blocked.stderr or "typer" in blocked.stderr  # it did reach for typer
    assert (folder / "m.ms").read_bytes() == original and not (folder / "a.ms").exists()


def test_the_fast_path_imports_neither_typer_nor_numpy(tmp_path: Path) -> None:
    folder = _files(tmp_path / "files")
    shutil.copyfile(folder / "m.ms", folder / "copy.ms")
    code = ("import sys\nfrom hubtool.cli import main\ntry:\n    main()\nexcept SystemExit:\n"
            "    print(sorted(m for m in ('typer', 'click', 'rich', 'hubtool.cli.commands', 'numpy', 'dataclasses',"
            " 'argparse')"
            " if m in sys.modules),"
            " file=sys.stderr)\n    raise\n")
    proc = subprocess.run([sys.executable, "-c", code, "upgrade-ms", "copy.ms", "--in-place"], cwd=folder,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"  # nor numpy (flatbuffers does not need it), nor dataclasses


def test_numpy_is_hidden_from_flatbuffers_only_while_it_is_imported() -> None:
    code = ("from hubtool.cli.quickupgrade import _flatbuffers_without_numpy\n"
            "_flatbuffers_without_numpy()\n"
            "import flatbuffers.builder, flatbuffers.number_types\n"
            "assert flatbuffers.builder.np is None and flatbuffers.number_types.np is None\n"
            "import numpy\nprint(numpy.float32(1.5) * 2)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "3.0"), proc.stderr
