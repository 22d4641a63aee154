"""A checkpoint's network from the card's repo-link: the repository pinned in hub.yaml, cloned over real git
smart HTTP (git http-backend on loopback) into the store at that commit, then run in the sandboxed worker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from gitserver import GitServer
from test_mindspore_golden import ms_card, verdict

from helpers import REPO
from hubtool.assets.gitcode import checkout_dir
from hubtool.assets.store import DirectoryStore

NETWORK = REPO / "hub" / "networks" / "cifar10-cnn"


def git(cwd: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@pytest.fixture()
def served(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[GitServer, str, str]:
    """models.git: commit 1 has the canary's network under research/cv/canary; commit 2 (the branch's tip) breaks it."""
    work = tmp_path / "work"
    (work / "research" / "cv").mkdir(parents=True)
    shutil.copytree(NETWORK, work / "research" / "cv" / "canary")
    git(work, "init", "-q", "-b", "master")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "canary network")
    first = git(work, "rev-parse", "HEAD")
    (work / "research" / "cv" / "canary" / "mindspore_hub_conf.py").write_text("raise ImportError('broken')\n")
    git(work, "commit", "-qam", "break it")
    second = git(work, "rev-parse", "HEAD")
    (tmp_path / "served").mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(tmp_path / "served" / "models.git"))
    # v0: the pinned commit is not a branch tip, so the fetch by SHA is refused and the fallback fetches the branches
    with GitServer(tmp_path / "served", v2=getattr(request, "param", "v2") == "v2") as server:
        yield server, first, second


def hub_with(root: Path, server: GitServer, pin: str, *, link: str | None = None) -> Path:
    from test_golden import make_hub

    url = server.url("models")
    card = ms_card("ckpt").replace("---\nbody", f"repo-link: <{link or url + '/tree/master/research/cv/canary'}>\n"
                                               "---\nbody")
    make_hub(root, {"u/c.md": card})
    (root / "hub" / "hub.yaml").write_text(
        "name: t\npolicy:\n  allowed-schemes: [https, http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n"
        f"golden:\n  repositories:\n    {url}.git:\n      {pin}\n")
    return root


@pytest.mark.parametrize("served", ["v2", "v0"], indirect=True)
def test_the_pinned_commit_is_cloned_once_and_run_not_the_branch_tip(tmp_path: Path,
                                                                     served: tuple[GitServer, str, str]) -> None:
    server, first, _ = served
    root = hub_with(tmp_path, server, f"commit: {first}")
    result = verdict(root)
    assert (result.status, result.correct) == ("passed", 20), result.message
    assert result.details is not None and result.details.network == (
        f"mindspore_hub_conf.create_network('cifar10-cnn-canary-ckpt') from {server.url('models')}@{first[:12]}"
        "/research/cv/canary")
    clone = checkout_dir(DirectoryStore(root / "store"), server.url("models"), first)
    assert (clone / "research" / "cv" / "canary" / "cifar10_cnn.py").is_file() and not (clone / ".git").exists()
    asked = len(server.requests)
    assert verdict(root).status == "passed" and len(server.requests) == asked  # the store's checkout, no git


def test_a_commit_the_repository_lacks_is_not_verified_and_leaves_nothing(tmp_path: Path,
                                                                          served: tuple[GitServer, str, str]) -> None:
    server, *_ = served
    root = hub_with(tmp_path, server, "commit: '" + "0" * 40 + "'")
    result = verdict(root)
    assert result.status == "unavailable" and "could not be cloned (integrity)" in result.message, result.message
    assert [p.name for p in (root / "store" / "repositories").iterdir()] == []  # no partial checkout


def test_offline_without_the_checkout_says_so(tmp_path: Path, served: tuple[GitServer, str, str]) -> None:
    server, first, _ = served
    root = hub_with(tmp_path, server, f"commit: {first}")
    from hubtool.assets.sources import build_fetcher
    from hubtool.cards.validate import CardChecker
    from hubtool.config import load_config
    from hubtool.golden.card import GoldenRunner

    config = load_config(root / "hub" / "hub.yaml")
    card = CardChecker(config).load(root / "cards" / "u" / "c.md").card
    assert card is not None
    fetcher = build_fetcher(DirectoryStore(root / "store"), config.policy, hub_root=config.root, offline=True)
    result = GoldenRunner(config, fetcher).run(card.metadata)
    assert result.status == "offline" and "the network's repository is not in the store" in result.message
    assert server.requests == []


def test_a_model_folder_missing_at_the_pinned_commit_fails(tmp_path: Path, served: tuple[GitServer, str, str]) -> None:
    server, first, _ = served
    root = hub_with(tmp_path, server, f"commit: {first}",
                    link=server.url("models") + "/tree/master/research/cv/elsewhere")
    result = verdict(root)
    assert result.status == "failed" and "has no research/cv/elsewhere/mindspore_hub_conf.py" in result.message


def test_an_unpinned_repository_is_not_run(tmp_path: Path, served: tuple[GitServer, str, str]) -> None:
    server, *_ = served
    root = hub_with(tmp_path, server, "commit: '" + "1" * 40 + "'", link="https://gitee.com/other/models/tree/master/x")
    result = verdict(root)
    assert result.status == "skipped" and "verified by hash and inspection only" in result.message
    assert server.requests == []


def test_a_checkout_the_hub_holds_is_used_offline(tmp_path: Path, served: tuple[GitServer, str, str]) -> None:
    server, *_ = served
    root = hub_with(tmp_path, server, "folder: vendor/models")
    shutil.copytree(NETWORK, root / "vendor" / "models" / "research" / "cv" / "canary")
    result = verdict(root)
    assert result.status == "passed", result.message
    assert result.details is not None
    assert (result.details.network or "").endswith(" from vendor/models/research/cv/canary")
    assert server.requests == []
