"""A network's code from a git repository at a pinned commit, checked out once into the store.

MindSpore Hub cards name their code by a repo-link (`https://gitee.com/mindspore/models/tree/
master/research/cv/x`); a branch moves, so hubtool runs only what the hub pinned: a full commit
SHA-1 in hub.yaml `golden.repositories`.  The repository URL passes the hub's URL policy (scheme,
host, private addresses) like any asset; git then fetches that one commit (`--depth 1`, falling
back to a full fetch where a server refuses a want by SHA), with no prompts, no redirects, no
system or user git config, and a deadline.  The checkout is verified (HEAD is the commit), its
`.git` dropped, and renamed into `<store>/repositories/<url-hash>-<commit>/` whole: a reader
never sees a partial checkout.  The code is not run here: the sandboxed MindSpore worker runs it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..config import Policy
from ..errors import IntegrityError, OfflineError, TransferError
from .store import DirectoryStore
from .urlpolicy import check_url

COMMIT = re.compile(r"[0-9a-f]{40}")
FOLDER = "repositories"


def checkout_dir(store: DirectoryStore, url: str, commit: str) -> Path:
    return store.root / FOLDER / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{commit}"


def checkout(store: DirectoryStore, url: str, commit: str, policy: Policy, *, offline: bool = False,
             timeout: float = 600.0) -> Path:
    """The repository's tree at `commit`, from the store or cloned into it (PolicyError, TransferError,
    IntegrityError, OfflineError)."""
    if not COMMIT.fullmatch(commit):
        raise IntegrityError(f"{url}: {commit!r} is not a full commit SHA-1", url=url)
    done = checkout_dir(store, url, commit)
    if done.is_dir():
        return done
    if offline:
        raise OfflineError(f"{url}@{commit[:12]}: not in the store, and --offline forbids cloning it", url=url)
    check_url(url, policy)
    (store.root / FOLDER).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".clone-", dir=store.root / FOLDER))
    try:
        _fetch(work, url, commit, policy, timeout)
        shutil.rmtree(work / ".git")
        try:
            work.rename(done)
        except OSError:
            if not done.is_dir():  # another process finished the same checkout first: theirs is as good
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done


def _git(work: Path, policy: Policy, timeout: float, *args: str) -> subprocess.CompletedProcess[str]:
    schemes = ["-c", "protocol.allow=never"] + [a for s in policy.allowed_schemes
                                               for a in ("-c", f"protocol.{s}.allow=always")]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "GIT_TERMINAL_PROMPT": "0",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LANG": "C"}
    try:
        return subprocess.run(["git", *schemes, "-c", "http.followRedirects=false", "-c", "advice.detachedHead=false",
                               "-C", str(work), *args], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise TransferError(f"git {args[0]} did not finish within {timeout:.0f} s") from exc
    except OSError as exc:
        raise TransferError(f"git cannot be run: {exc}", hint="install git") from exc


def _fetch(work: Path, url: str, commit: str, policy: Policy, timeout: float) -> None:
    _git(work, policy, timeout, "init", "-q")
    one = _git(work, policy, timeout, "fetch", "-q", "--depth", "1", "--no-tags", url, commit)
    if one.returncode != 0:  # a server that refuses a want by SHA: fetch its branches, then find the commit
        every = _git(work, policy, timeout, "fetch", "-q", "--no-tags", url, "+refs/heads/*:refs/remotes/r/*")
        if every.returncode != 0:
            raise TransferError(f"{url}: git fetch failed: {_last_line(every.stderr or one.stderr)}", url=url)
    out = _git(work, policy, timeout, "checkout", "-q", "--detach", commit)
    if out.returncode != 0:
        raise IntegrityError(f"{url} has no commit {commit}: {_last_line(out.stderr)}", url=url)
    head = _git(work, policy, timeout, "rev-parse", "HEAD").stdout.strip()
    if head != commit:
        raise IntegrityError(f"{url}: checked out {head}, not the pinned {commit}", url=url)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
