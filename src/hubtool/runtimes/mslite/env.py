"""The managed CPython 3.7 environment that holds mindspore-lite 2.0.0.

mindspore-lite's only PyPI release ships a CPython 3.7 wheel alone, so hubtool
(current Python) never imports it: it finds a 3.7 interpreter, makes a venv
with that interpreter's own `-m venv`, installs the pinned, hash-checked
requirements (runtimes/managed.py), and talks to a worker process inside it.

subprocess and shutil are imported where an interpreter is looked for: a replay imports this
module for its SPEC only (`installed`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ...durable import JSONObject
from ...errors import RuntimeUnavailable
from ...progress import SILENT, Progress
from .. import managed
from ..managed import RuntimeEnv, RuntimeSpec
from .spawn import FOLDER, NAME, REQUIREMENTS, TAG, VERSION

if TYPE_CHECKING:
    from ...config import HubConfig

_NO_PY37_HINT = ("install CPython 3.7 (e.g. `pyenv install 3.7.16`), or point HUBTOOL_MSLITE_PYTHON "
                 "at a CPython 3.7 interpreter")
_PROBE = ("import json, sys, numpy, mindspore_lite; print(json.dumps({'python': sys.version.split()[0],"
          " 'numpy': numpy.__version__, 'mindspore_lite': mindspore_lite.__version__}))")


def _is_py37(exe: str | Path) -> bool:
    """A real CPython 3.7 (a pyenv shim that says 'command not found' is not one)."""
    import subprocess  # not at import: see the module's doc

    try:
        proc = subprocess.run([str(exe), "-c", "import sys, platform; print(platform.python_implementation(),"
                               " *sys.version_info[:2])"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.split() == ["CPython", "3", "7"]


def _pyenv_root() -> Path | None:
    import shutil
    import subprocess  # not at import: see the module's doc

    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run([exe, "root"], capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        if out:
            return Path(out)
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def find_python37(config: HubConfig | None = None) -> Path:
    """HUBTOOL_MSLITE_PYTHON, the hub config, python3.7 on PATH, then pyenv's 3.7 versions."""
    import shutil  # not at import: see the module's doc

    tried: list[str] = []
    candidates: list[str] = []
    if os.environ.get("HUBTOOL_MSLITE_PYTHON"):
        candidates.append(os.environ["HUBTOOL_MSLITE_PYTHON"])
    if config is not None and config.runtimes.mslite_python:
        candidates.append(config.runtimes.mslite_python)
    on_path = shutil.which("python3.7")
    if on_path:
        candidates.append(on_path)
    root = _pyenv_root()
    if root is not None:
        candidates += [str(p) for p in sorted((root / "versions").glob("3.7*/bin/python"), reverse=True)]
    for candidate in candidates:
        if _is_py37(candidate):
            return Path(candidate)
        tried.append(candidate)
    raise RuntimeUnavailable("runtime unavailable: MindSpore Lite 2.0.0 needs a CPython 3.7 interpreter, "
                             "and none was found" + (f" (tried: {', '.join(tried)})" if tried else ""),
                             hint=_NO_PY37_HINT)


SPEC = RuntimeSpec(NAME, VERSION, TAG, FOLDER, REQUIREMENTS, _PROBE,
                   find_python37, "the MindSpore Lite environment")
INSTALL_HINT = managed.install_hint(SPEC)


def requirements_text() -> str:
    return managed.requirements_text(SPEC)


def env_root() -> Path:
    return managed.env_root(SPEC)


def runtimes_dir() -> Path:
    return managed.runtimes_dir(SPEC)


def not_installed_message() -> str:
    return managed.not_installed_message(SPEC)


def installed_env() -> RuntimeEnv | None:
    """The installed environment, if its record says it is complete."""
    return managed.installed_env(SPEC)


def require_env() -> RuntimeEnv:
    return managed.require_env(SPEC)


def install(config: HubConfig | None = None, *, force: bool = False, progress: Progress = SILENT) -> RuntimeEnv:
    """Create the venv and install the pinned requirements; idempotent."""
    return managed.install(SPEC, config, force=force, progress=progress)


def status(config: HubConfig | None = None) -> JSONObject:
    """What `hubtool runtime status` reports, with a real import as the health check."""
    return managed.status(SPEC, config)


__all__ = ["RuntimeEnv", "SPEC", "find_python37", "install", "installed_env", "require_env", "status"]
