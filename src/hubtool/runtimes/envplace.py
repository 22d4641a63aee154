"""Where a runtime's managed env is on this machine: the folders searched, the env's folder name, and
whether an install there is complete (runtimes/managed.py installs and checks envs with these).

Only os, sys, hashlib and pathlib: `hubtool golden` finds the MindSpore Lite interpreter with this
first thing (cli.main), so that the spare worker's start (~0.3 s of imports in its own interpreter)
is under way while hubtool imports the rest.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from ..places import cache_dir

RECORD = "hubtool-runtime.json"  # written last by an install: it marks the env as complete


def search_dirs() -> list[Path]:
    """Where runtime envs are looked for, in order: $HUBTOOL_RUNTIME_DIR alone when set; else beside
    hubtool's own interpreter (`<venv>/hubtool-runtimes`: what `make` and a pipx install use, found
    from anywhere with no variable set), then the cache dir's runtimes/."""
    configured = os.environ.get("HUBTOOL_RUNTIME_DIR")
    if configured:
        return [Path(configured)]
    return [Path(sys.prefix) / "hubtool-runtimes", cache_dir() / "runtimes"]


def env_name(name: str, version: str, tag: str, requirements: Path) -> str:
    """The env's folder name: the runtime, its version, the interpreter tag and a digest of the pinned
    requirements, so that a changed pin is another env."""
    digest = hashlib.sha256(requirements.read_text(encoding="utf-8").encode()).hexdigest()[:12]
    return f"{name}-{version}-{tag}-{digest}"


def complete(root: Path) -> bool:
    return (root / RECORD).is_file() and (root / "bin" / "python").exists()


def installed_root(name: str, version: str, tag: str, requirements: Path) -> Path | None:
    """The first searched folder's complete env of this name, or None."""
    folder_name = env_name(name, version, tag, requirements)
    return next((folder / folder_name for folder in search_dirs() if complete(folder / folder_name)), None)
