"""The managed CPython 3.7 environment that holds mindspore-lite 2.0.0.

mindspore-lite's only PyPI release ships a CPython 3.7 wheel alone, so hubtool
(current Python) never imports it: it finds a 3.7 interpreter, makes a venv
with that interpreter's own `-m venv`, installs the pinned, hash-checked
requirements, and talks to a worker process inside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ...durable import JSONObject
from ...errors import RuntimeUnavailable
from ...places import cache_dir
from ...progress import SILENT, Progress

if TYPE_CHECKING:
    from ...config import HubConfig

NAME = "mindspore-lite"
VERSION = "2.0.0"
REQUIREMENTS = "requirements-mslite.txt"
_NO_PY37_HINT = ("install CPython 3.7 (e.g. `pyenv install 3.7.16`), or point HUBTOOL_MSLITE_PYTHON "
                 "at a CPython 3.7 interpreter")


@dataclass(frozen=True)
class RuntimeEnv:
    python: Path  # the env's interpreter
    root: Path
    base_python: Path
    record: JSONObject

    @property
    def packages(self) -> dict[str, str]:
        """The versions the install recorded: python, numpy, mindspore_lite."""
        packages = self.record.get("packages")
        return {str(k): str(v) for k, v in packages.items()} if isinstance(packages, dict) else {}


def requirements_text() -> str:
    return resources.files(__package__ or "hubtool.runtimes.mslite").joinpath(REQUIREMENTS).read_text(
        encoding="utf-8")


def search_dirs() -> list[Path]:
    """Where runtime envs are looked for, in order: $HUBTOOL_RUNTIME_DIR alone when set; else beside
    hubtool's own interpreter (`<venv>/hubtool-runtimes`: what `make` and a pipx install use, found
    from anywhere with no variable set), then the cache dir's runtimes/."""
    configured = os.environ.get("HUBTOOL_RUNTIME_DIR")
    if configured:
        return [Path(configured)]
    return [Path(sys.prefix) / "hubtool-runtimes", cache_dir() / "runtimes"]


def runtimes_dir() -> Path:
    """The folder holding the installed env, else the one an install writes to (the first writable)."""
    dirs = search_dirs()
    for folder in dirs:
        if _complete(folder / _env_name()):
            return folder
    for folder in dirs:
        if _writable(folder):
            return folder
    return dirs[-1]


def env_root() -> Path:
    return runtimes_dir() / _env_name()


def _env_name() -> str:
    digest = hashlib.sha256(requirements_text().encode()).hexdigest()[:12]
    return f"{NAME}-{VERSION}-py37-{digest}"


def _complete(root: Path) -> bool:
    return (root / "hubtool-runtime.json").is_file() and (root / "bin" / "python").exists()


def _writable(folder: Path) -> bool:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return os.access(existing, os.W_OK)


def not_installed_message() -> str:
    return ("the MindSpore Lite environment is not installed (looked in: "
            + ", ".join(str(d / _env_name()) for d in search_dirs()) + ")")


INSTALL_HINT = ("run `hubtool runtime install mindspore-lite` (in a hubtool checkout, `make demo` or "
                "`make test` does it)")


def _is_py37(exe: str | Path) -> bool:
    """A real CPython 3.7 (a pyenv shim that says 'command not found' is not one)."""
    try:
        proc = subprocess.run([str(exe), "-c", "import sys, platform; print(platform.python_implementation(),"
                               " *sys.version_info[:2])"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.split() == ["CPython", "3", "7"]


def _pyenv_root() -> Path | None:
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


def installed_env() -> RuntimeEnv | None:
    """The installed environment, if its record says it is complete."""
    root = env_root()
    record_path = root / "hubtool-runtime.json"
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        return None
    python = root / "bin" / "python"
    if not python.exists():
        return None
    return RuntimeEnv(python, root, Path(str(record["base_python"])), record)


def require_env() -> RuntimeEnv:
    env = installed_env()
    if env is None:
        raise RuntimeUnavailable(f"runtime unavailable: {not_installed_message()}", hint=INSTALL_HINT)
    return env


def install(config: HubConfig | None = None, *, force: bool = False, progress: Progress = SILENT) -> RuntimeEnv:
    """Create the venv and install the pinned requirements; idempotent."""
    existing = installed_env()
    if existing is not None and not force:
        return existing
    base = find_python37(config)
    root = env_root()
    if root.exists():
        shutil.rmtree(root)  # an incomplete earlier attempt: no record was written
    root.parent.mkdir(parents=True, exist_ok=True)
    progress.notice(f"creating {root} with {base} -m venv")
    _run([str(base), "-m", "venv", str(root)])
    req = root / REQUIREMENTS
    req.write_text(requirements_text())
    progress.notice(f"installing mindspore-lite=={VERSION} and numpy (hash-checked) into {root}")
    _run([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "--no-deps", "--require-hashes", "--only-binary", ":all:", "-r", str(req)])
    versions = _probe_versions(root / "bin" / "python")
    record: JSONObject = {"runtime": NAME, "version": VERSION, "base_python": str(base), "packages": dict(versions),
              "requirements_sha256": hashlib.sha256(requirements_text().encode()).hexdigest()}
    tmp = root / "hubtool-runtime.json.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    os.replace(tmp, root / "hubtool-runtime.json")  # the record last: it marks a complete install
    return RuntimeEnv(root / "bin" / "python", root, base, record)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeUnavailable(f"runtime unavailable: `{' '.join(cmd[:4])} …` failed:\n{proc.stderr[-2000:]}",
                                 hint="check the network access to the package index, then run the install again")


def _probe_versions(python: Path) -> dict[str, str]:
    code = ("import json, sys, numpy, mindspore_lite; print(json.dumps({'python': sys.version.split()[0],"
            " 'numpy': numpy.__version__, 'mindspore_lite': mindspore_lite.__version__}))")
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GLOG_v": "3"})
    if proc.returncode != 0:
        raise RuntimeUnavailable(f"runtime unavailable: mindspore_lite does not import in {python}:\n"
                                 f"{proc.stderr[-2000:]}", hint="reinstall with `hubtool runtime install --force`")
    versions: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return versions


def status(config: HubConfig | None = None) -> JSONObject:
    """What `hubtool runtime status` reports, with a real import as the health check."""
    env = installed_env()
    report: JSONObject = {"runtime": NAME, "env": str(env_root()), "installed": env is not None}
    try:
        report["interpreter"] = str(env.base_python if env else find_python37(config))
    except RuntimeUnavailable as exc:
        report["interpreter"] = None
        report["problem"] = exc.message
    if env is None:
        report["health"] = "not installed"
        report["searched"] = [str(d / _env_name()) for d in search_dirs()]
        report["problem"] = f"{not_installed_message()}; {INSTALL_HINT}"
        return report
    try:
        report["versions"] = dict(_probe_versions(env.python))
        report["health"] = "ok"
    except RuntimeUnavailable as exc:
        report["health"] = "broken"
        report["problem"] = exc.message
    return report
