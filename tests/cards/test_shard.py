"""`--shard I/N`: every card in exactly one shard, the same split from any working directory, and a job
with a missing or wrong index refused before it does anything."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import card_text
from hubtool.cards.shard import Shard, parse_shard
from hubtool.errors import UsageError

HUBTOOL = str(Path(sys.executable).with_name("hubtool"))
PATHS = [f"cards/user{i % 7}/model-{i}.md" for i in range(300)]


@pytest.mark.parametrize("total", [1, 2, 3, 16])
def test_every_card_is_in_exactly_one_shard_and_the_split_is_even_enough(total: int) -> None:
    shards = [Shard(i, total) for i in range(1, total + 1)]
    owners = [[s for s in shards if s.takes(p)] for p in PATHS]
    assert all(len(found) == 1 for found in owners)
    sizes = [sum(s.takes(p) for p in PATHS) for s in shards]
    assert min(sizes) >= len(PATHS) / total / 2  # a hash split: no shard left idle or doubled


def test_adding_a_card_moves_no_other_card() -> None:
    before = {p: next(i for i in range(1, 5) if Shard(i, 4).takes(p)) for p in PATHS}
    after = {p: next(i for i in range(1, 5) if Shard(i, 4).takes(p)) for p in [*PATHS, "cards/new/x.md"]}
    assert all(after[p] == before[p] for p in PATHS)


@pytest.mark.parametrize("spec, environ, expected", [
    ("3/16", {}, Shard(3, 16)),
    (" 1/1 ", {}, Shard(1, 1)),
    ("ci", {"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "5"}, Shard(2, 5)),
    ("ci", {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, Shard(1, 4)),
    ("ci", {"SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_COUNT": "3"}, Shard(3, 3)),
])
def test_specs_and_ci_variables(spec: str, environ: dict[str, str], expected: Shard) -> None:
    assert parse_shard(spec, environ) == expected


@pytest.mark.parametrize("spec, environ, said", [
    ("/16", {}, "(an unset variable?)"),
    ("3/", {}, "(an unset variable?)"),
    ("", {}, "is not I/N"),
    ("three/16", {}, "is not I/N"),
    ("-1/4", {}, "is not I/N"),
    ("0/4", {}, "shard 0 is out of range 1..4 (shards count from 1)"),
    ("5/4", {}, "shard 5 is out of range 1..4"),
    ("1/0", {}, "the number of shards must be at least 1"),
    ("ci", {}, "no CI shard variables are set"),
    ("ci", {"CI_NODE_TOTAL": "4"}, "CI_NODE_INDEX is not set"),
    ("ci", {"CI_NODE_INDEX": "", "CI_NODE_TOTAL": "4"}, "CI_NODE_INDEX is not set"),
    ("ci", {"CI_NODE_INDEX": "5", "CI_NODE_TOTAL": "4"}, "shard 5 is out of range 1..4"),
    ("ci", {"SLURM_ARRAY_TASK_ID": "3"}, "SLURM_ARRAY_TASK_MIN is not set"),
])
def test_a_job_that_would_do_the_wrong_part_is_refused(spec: str, environ: dict[str, str], said: str) -> None:
    with pytest.raises(UsageError, match=re.escape(said)):
        parse_shard(spec, environ)


def _hub(root: Path) -> Path:
    (root / "hub").mkdir(parents=True)
    (root / "hub" / "hub.yaml").write_text("name: t\n")
    for i in range(12):
        (root / "cards" / f"u{i % 3}").mkdir(parents=True, exist_ok=True)
        (root / "cards" / f"u{i % 3}" / f"m{i}.md").write_text(card_text(**{"model-name": f"m{i}"}))
    return root


def _golden(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HUBTOOL, "golden", "--offline", "--format", "json", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_golden_shards_cover_the_hub_once_from_any_working_directory(tmp_path: Path) -> None:
    root = _hub(tmp_path / "hub")
    whole = {c["card"] for c in json.loads(_golden(root).stdout)["cards"]}
    assert len(whole) == 12
    seen: list[str] = []
    for i in (1, 2, 3):
        done = _golden(root, "--shard", f"{i}/3")
        assert done.returncode == 0, done.stderr
        names = [c["card"] for c in json.loads(done.stdout)["cards"]]
        assert f"hubtool: shard {i}/3: {len(names)} of 12 cards" in done.stderr
        # the same split when run from elsewhere, naming the hub's cards folder
        again = _golden(tmp_path, "--shard", f"{i}/3", "--config", str(root / "hub" / "hub.yaml"),
                        str(root / "cards"))
        assert sorted((tmp_path / c["card"]).resolve() for c in json.loads(again.stdout)["cards"]) == \
            sorted((root / n).resolve() for n in names)
        seen += names
    assert sorted(seen) == sorted(whole)


def test_golden_refuses_an_unset_index_before_doing_anything(tmp_path: Path) -> None:
    root = _hub(tmp_path / "hub")
    done = _golden(root, "--shard", "/3")
    assert done.returncode == 2 and "(an unset variable?)" in done.stderr and done.stdout == ""
