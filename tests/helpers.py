"""Shared test helpers: where things are, the CLI in-process, cards and hubs, tiny .ms files."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import click
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from hubtool.assets.hashing import hash_regular
from hubtool.assets.store import DirectoryStore
from hubtool.cli.commands import app
from hubtool.cli.plainargs import Command
from hubtool.runtimes import managed
from hubtool.runtimes.managed import RuntimeEnv, RuntimeSpec
from hubtool.runtimes.mindspore.env import SPEC as mindspore_spec
from hubtool.runtimes.mslite.env import SPEC as mslite_spec

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "cards"
SHARED = REPO.parent / "shared"
SHA = "449498ecf5201d46d4eaee2754d69db89b656573f4e74ab42a9f8597299bb63b"
CANARY_SHA = "29dcd6ba894fb42dfceda14e875c7740aceab8c7d3f59f59055ed5721780510b"


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def typer_command(name: str) -> click.Command:
    """The typer application's command `name`, as click runs it."""
    group = get_command(app)
    assert isinstance(group, click.Group)
    return group.commands[name]


OptionShape = dict[tuple[str, ...], tuple[bool, bool, tuple[str, ...] | None]]


def typer_options(command: click.Command) -> OptionShape:
    """Each option of a typer command (but --help): its names, whether it is a flag, repeatable, its choices."""
    found: OptionShape = {}
    for param in command.params:
        if isinstance(param, click.Option) and "--help" not in param.opts:
            choices = tuple(param.type.choices) if isinstance(param.type, click.Choice) else None
            found[tuple(sorted(param.opts))] = (param.is_flag, param.multiple, choices)
    return found


def plain_options(command: Command) -> OptionShape:
    """The same for a fast path's command (cli/plainargs.py: quickcheck, quickpublish, quickupgrade)."""
    return {tuple(sorted(o.names)): (o.takes == "flag", o.takes == "values", o.choices or None)
            for o in command.options}


def positionals(command: click.Command) -> list[tuple[str, bool, bool]]:
    """A typer command's arguments: name, whether it takes any number, whether it is required."""
    return [(p.name or "", p.nargs == -1, p.required) for p in command.params if isinstance(p, click.Argument)]


def plain_positionals(command: Command) -> list[tuple[str, bool, bool]]:
    return [(p.dest, p.many, p.required and not p.many) for p in command.positionals]


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("check", "--format", "json", *args)
    return result.exit_code, json.loads(result.output)


def card_text(*, title: str = "# Test\n\n", extra: str = "", fmt: str = "ckpt", link: str | None = None,
              sha: str | None = None, **fields: str) -> str:
    """A valid card; each model-name gets its own asset link and SHA-256 (the default model "m": SHA)."""
    name = fields.get("model-name", "m").split("#")[0].strip()  # a value may carry a comment
    link = link or ("https://download.mindspore.cn/a.ckpt" if name == "m"
                    else f"https://download.mindspore.cn/models/{name}.ckpt")
    sha = sha or (SHA if name == "m" else hashlib.sha256(name.encode()).hexdigest())
    base = {
        "model-name": "m", "backbone-name": "resnet50", "module-type": "cv-classification",
        "fine-tunable": "False", "input-shape": "[32, 32, 3]", "model-version": "'1.0'",
        "train-dataset": "cifar10", "author": "A", "update-time": "2020-11-17", "user-id": "u",
        "used-for": "inference", "train-backend": "gpu", "mindspore-version": "'1.0'",
        "license": "Apache2.0", "summary": "s",
    }
    base.update(fields)
    lines = [f"{k}: {v}" for k, v in base.items()]
    lines.append(f"asset:\n- file-format: {fmt}\n  asset-link: {link}\n  asset-sha256: {sha}")
    return f"{title}---\n" + "\n".join(lines) + "\n" + extra + "---\nbody\n"


def write_hub(root: Path, cards: dict[str, str], *, config: str = "") -> Path:
    (root / "hub").mkdir(parents=True, exist_ok=True)
    (root / "hub" / "hub.yaml").write_text(
        config or "name: t\npolicy:\n  allowed-hosts: [download.mindspore.cn]\n")
    for rel, text in cards.items():
        path = root / "cards" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "cards"


def canary_card(*, golden: str = "golden:\n  set: cifar10-canary\n", **fields: str) -> str:
    """A card for this repository's canary model (hub/assets), checked against the cifar10-canary set."""
    return card_text(extra=golden, fmt="mslite", link="hub/assets/cifar10-cnn-canary.ms", sha=CANARY_SHA, **fields)


def fake_ms(identifier: bytes, version: str) -> bytes:
    """A minimal MindSpore Lite FlatBuffer: root offset, identifier, vtable (2 string slots), table, strings."""
    name, ver = b"net", version.encode()
    vtable = struct.pack("<HHHH", 8, 12, 4, 8)
    table_pos = 8 + len(vtable)
    strings_pos = table_pos + 12
    name_pos = strings_pos
    ver_pos = name_pos + 4 + len(name) + 1
    table = struct.pack("<iII", table_pos - 8, name_pos - (table_pos + 4), ver_pos - (table_pos + 8))
    blob = struct.pack("<I", table_pos) + identifier + vtable + table
    blob += struct.pack("<I", len(name)) + name + b"\0" + struct.pack("<I", len(ver)) + ver + b"\0"
    return blob + b"\0" * 16


def runtime_env() -> RuntimeEnv:
    """The real MindSpore Lite runtime: required, unless HUBTOOL_SKIP_RUNTIME=1 is set on purpose."""
    return _required(mslite_spec)


def mindspore_env() -> RuntimeEnv:
    """The real MindSpore 2.x runtime: required, unless HUBTOOL_SKIP_RUNTIME=1 is set on purpose."""
    return _required(mindspore_spec)


def _required(spec: RuntimeSpec) -> RuntimeEnv:
    env = managed.installed_env(spec)
    if env is None:
        if os.environ.get("HUBTOOL_SKIP_RUNTIME") == "1":
            pytest.skip(f"HUBTOOL_SKIP_RUNTIME=1: {spec.name} runtime tests deliberately skipped")
        pytest.fail(f"{spec.what} is not installed: run `make test` (which installs it), or "
                    f"`hubtool runtime install {spec.name}`; set HUBTOOL_SKIP_RUNTIME=1 to skip on purpose")
    return env


def assert_store_invariant(store: DirectoryStore, *, temps: bool = False) -> None:
    """Every blob's name is its hash; no temp files unless a resumable partial is expected."""
    for info in store.iter_blobs():
        assert hash_regular(Path(info.location))[0] == info.digest
    leftovers = list(store.tmp_dir.glob("*")) if store.tmp_dir.exists() else []
    assert bool(leftovers) == temps, leftovers
