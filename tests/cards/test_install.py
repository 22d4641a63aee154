"""hubtool from another hub: the README's pre-commit snippet in a temporary repository, the core-only
install, and the message a command gives when its extra is missing (issue #14).

The hook environment is built by pre-commit itself from this repository's HEAD, offline: pip takes
hubtool's core and its build backend from the wheelhouse `make test` fills (HUBTOOL_WHEELHOUSE).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, card_text, write_hub
from hubtool.cli.failures import EXTRAS

HUBTOOL = [sys.executable, "-c", "from hubtool.cli import main; main()"]
HEAVY = sorted(EXTRAS)  # every import an extra brings


def blocked(*modules: str) -> list[str]:
    """hubtool as if `modules` were not installed (an import of one fails as it would in a core install)."""
    code = f"import sys\nfor m in {modules!r}: sys.modules[m] = None\nfrom hubtool.cli import main\nmain()"
    return [sys.executable, "-c", code]


def test_publish_without_numpy_holds_golden_cards_back_naming_the_extra(tmp_path: Path) -> None:
    # numpy loads only where golden makes arrays (a re-run that runs no model never imports it), so the
    # step that needs it says what to install instead of failing at start-up or as an internal error
    shutil.copytree(REPO / "hub", tmp_path / "hub", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "cards" / "hubtool").mkdir(parents=True)
    shutil.copy(REPO / "cards" / "hubtool" / "cifar10-cnn-canary.md", tmp_path / "cards" / "hubtool")
    done = subprocess.run(blocked("numpy") + ["publish", "--to", str(tmp_path / "dist")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "golden unavailable: golden inference needs hubtool's 'golden' extra (numpy is not installed)" \
        in done.stdout and "internal error" not in done.stdout + done.stderr


def wheelhouse() -> Path:
    configured = os.environ.get("HUBTOOL_WHEELHOUSE")
    if not configured or not Path(configured).is_dir():
        if os.environ.get("HUBTOOL_SKIP_HOOK") == "1":
            pytest.skip("HUBTOOL_SKIP_HOOK=1: the pre-commit lane is deliberately skipped")
        pytest.fail("no wheelhouse: run `make test` (it fills .wheelhouse) or set HUBTOOL_WHEELHOUSE; "
                    "set HUBTOOL_SKIP_HOOK=1 to skip on purpose")
    return Path(configured)


def snippet() -> str:
    readme = (REPO / "README.md").read_text()
    found = re.search(r"<!-- pre-commit snippet -->\n```yaml\n(.*?)```", readme, re.S)
    assert found, "the README lost its pre-commit snippet"
    return found.group(1)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}).stdout.strip()


def size_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def test_the_readme_pre_commit_snippet_runs_the_hook_in_another_hub(tmp_path: Path) -> None:
    wheels = wheelhouse()
    hub = tmp_path / "other-hub"
    write_hub(hub, {"u/good.md": card_text()})
    rev = git("rev-parse", "HEAD", cwd=REPO)
    config = snippet().replace("https://example.org/your-org/hubtool", str(REPO)).replace("v0.1.0", rev)
    (hub / ".pre-commit-config.yaml").write_text(config)
    git("init", "-q", cwd=hub)
    git("add", "-A", cwd=hub)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"), "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(wheels), "HOME": str(tmp_path)}
    env.pop("VIRTUAL_ENV", None)
    run = [str(Path(sys.executable).with_name("pre-commit")), "run", "--all-files"]
    passed = subprocess.run(run, cwd=hub, env=env, capture_output=True, text=True, timeout=600)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"hubtool check \(model cards\)\.+Passed", passed.stdout), passed.stdout
    (hub / "cards" / "u" / "bad.md").write_text(card_text(**{"model-name": "bad", "used-for": "nonsense"}))
    git("add", "-A", cwd=hub)
    failed = subprocess.run(run, cwd=hub, env=env, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1 and "cards/u/bad.md:" in failed.stdout and "error" in failed.stdout
    [py_env] = list((tmp_path / "pre-commit").glob("repo*/py_env-*"))
    size = size_mib(py_env)
    print(f"pre-commit hook environment: {size:.1f} MiB")  # the note quotes this figure
    assert size < 40, f"the hook environment is {size:.1f} MiB"
    installed = subprocess.run([str(py_env / "bin" / "python"), "-c", "import requests"], capture_output=True)
    assert installed.returncode != 0  # the core does not pull the download stack


def test_the_core_checks_a_hub_without_any_extra(tmp_path: Path) -> None:
    write_hub(tmp_path, {"u/good.md": card_text()})
    done = subprocess.run(blocked(*HEAVY) + ["check", "cards"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "1 card checked: 0 errors" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize(("command", "module", "extra"), [
    (["fetch"], "requests", "assets"),
    (["golden"], "numpy", "golden"),
    (["upgrade-ms", str(REPO.parent / "shared" / "legacy-ms" / "mobile_segment.ms"), "x.ms"], "flatbuffers",
     "legacy"),
])
def test_a_command_without_its_extra_says_which_to_install(tmp_path: Path, command: list[str], module: str,
                                                           extra: str) -> None:
    write_hub(tmp_path, {"u/good.md": card_text()})
    done = subprocess.run(blocked(module) + command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"this command needs hubtool's '{extra}' extra ({module} is not installed)" in done.stderr
    assert f"pip install 'hubtool[{extra}]'" in done.stderr and "internal error" not in done.stderr
