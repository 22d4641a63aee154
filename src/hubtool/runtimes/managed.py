"""Managed runtime environments: a venv per runtime, made with a chosen interpreter's own `-m venv`,
holding pinned, hash-checked requirements (`--require-hashes --no-deps`), recorded when complete.

Each runtime is a `RuntimeSpec` (mslite/env.py: MindSpore Lite 2.0.0 on CPython 3.7;
mindspore/env.py: MindSpore 2.x on this machine's CPython).  An env's folder name carries
the runtime, its version, the interpreter tag and a digest of the requirements, so a changed
pin is a new env; `hubtool-runtime.json` is written last and marks an install as complete.

subprocess and shutil are imported where an install or a probe runs: a replay reads the installed
versions through this module (`installed`), and their imports were ~4 ms of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..durable import JSONObject, parse_json
from ..errors import RuntimeUnavailable
from ..progress import SILENT, Progress
from .envplace import RECORD, complete, search_dirs
from .envplace import env_name as _env_name

if TYPE_CHECKING:
    from ..config import HubConfig


class RuntimeSpec(NamedTuple):
    name: str  # as the CLI names it: mindspore-lite, mindspore
    version: str
    tag: str  # the interpreter, in the env's folder name: py37, py311
    folder: Path  # the runtime's package folder: it holds the requirements file (and the worker script)
    requirements: str
    probe: str  # code run in the env that prints a JSON object of versions (a real import: the health check)
    find_python: Callable[[HubConfig | None], Path]  # the interpreter the venv is made with
    what: str  # for messages: "the MindSpore Lite environment"


class RuntimeEnv(NamedTuple):
    python: Path  # the env's interpreter
    root: Path
    base_python: Path
    record: JSONObject

    @property
    def packages(self) -> dict[str, str]:
        """The versions the install recorded (python and the runtime's packages)."""
        packages = self.record.get("packages")
        return {str(k): str(v) for k, v in packages.items()} if isinstance(packages, dict) else {}


def requirements_text(spec: RuntimeSpec) -> str:
    # by path, as the worker scripts are run by path: hubtool is never imported from a zip
    return (spec.folder / spec.requirements).read_text(encoding="utf-8")


def env_name(spec: RuntimeSpec) -> str:
    return _env_name(spec.name, spec.version, spec.tag, spec.folder / spec.requirements)


def runtimes_dir(spec: RuntimeSpec) -> Path:
    """The folder holding the installed env, else the one an install writes to (the first writable)."""
    dirs = search_dirs()
    for folder in dirs:
        if complete(folder / env_name(spec)):
            return folder
    for folder in dirs:
        if _writable(folder):
            return folder
    return dirs[-1]


def env_root(spec: RuntimeSpec) -> Path:
    return runtimes_dir(spec) / env_name(spec)


def _writable(folder: Path) -> bool:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return os.access(existing, os.W_OK)


def install_hint(spec: RuntimeSpec) -> str:
    return f"run `hubtool runtime install {spec.name}` (in a hubtool checkout, `make demo` or `make test` does it)"


def not_installed_message(spec: RuntimeSpec) -> str:
    return (f"{spec.what} is not installed (looked in: "
            + ", ".join(str(d / env_name(spec)) for d in search_dirs()) + ")")


def installed_env(spec: RuntimeSpec) -> RuntimeEnv | None:
    """The installed environment, if its record says it is complete."""
    root = env_root(spec)
    try:
        record = parse_json((root / RECORD).read_text())
    except (OSError, ValueError):
        return None
    python = root / "bin" / "python"
    if not python.exists() or not isinstance(record, dict):
        return None
    return RuntimeEnv(python, root, Path(str(record.get("base_python"))), record)


def require_env(spec: RuntimeSpec) -> RuntimeEnv:
    env = installed_env(spec)
    if env is None:
        raise RuntimeUnavailable(f"runtime unavailable: {not_installed_message(spec)}", hint=install_hint(spec))
    return env


def install(spec: RuntimeSpec, config: HubConfig | None = None, *, force: bool = False,
            progress: Progress = SILENT) -> RuntimeEnv:
    """Create the venv and install the pinned requirements; idempotent."""
    existing = installed_env(spec)
    if existing is not None and not force:
        return existing
    base = spec.find_python(config)
    import shutil  # not at import: see the module's doc

    root = env_root(spec)
    if root.exists():
        shutil.rmtree(root)  # an incomplete earlier attempt: no record was written
    root.parent.mkdir(parents=True, exist_ok=True)
    progress.notice(f"creating {root} with {base} -m venv")
    _run([str(base), "-m", "venv", str(root)])
    req = root / spec.requirements
    req.write_text(requirements_text(spec))
    progress.notice(f"installing {spec.name}=={spec.version} and its pinned requirements (hash-checked) into {root}")
    _run([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "--no-deps", "--require-hashes", "--only-binary", ":all:", "-r", str(req)])
    versions = probe_versions(spec, root / "bin" / "python")
    record: JSONObject = {"runtime": spec.name, "version": spec.version, "base_python": str(base),
                          "packages": dict(versions),
                          "requirements_sha256": hashlib.sha256(requirements_text(spec).encode()).hexdigest()}
    tmp = root / (RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    os.replace(tmp, root / RECORD)  # the record last: it marks a complete install
    return RuntimeEnv(root / "bin" / "python", root, base, record)


def _run(cmd: list[str]) -> None:
    import subprocess  # not at import: see the module's doc

    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeUnavailable(f"runtime unavailable: `{' '.join(cmd[:4])} …` failed:\n{proc.stderr[-2000:]}",
                                 hint="check the network access to the package index, then run the install again")


def probe_versions(spec: RuntimeSpec, python: Path) -> dict[str, str]:
    import subprocess  # not at import: see the module's doc

    proc = subprocess.run([str(python), "-c", spec.probe], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GLOG_v": "3"})
    if proc.returncode != 0:
        raise RuntimeUnavailable(f"runtime unavailable: {spec.name} does not import in {python}:\n"
                                 f"{proc.stderr[-2000:]}",
                                 hint=f"reinstall with `hubtool runtime install {spec.name} --force`")
    versions: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return versions


def status(spec: RuntimeSpec, config: HubConfig | None = None) -> JSONObject:
    """What `hubtool runtime status` reports, with a real import as the health check."""
    env = installed_env(spec)
    report: JSONObject = {"runtime": spec.name, "env": str(env_root(spec)), "installed": env is not None}
    try:
        report["interpreter"] = str(env.base_python if env else spec.find_python(config))
    except RuntimeUnavailable as exc:
        report["interpreter"] = None
        report["problem"] = exc.message
    if env is None:
        report["health"] = "not installed"
        report["searched"] = [str(d / env_name(spec)) for d in search_dirs()]
        report["problem"] = f"{not_installed_message(spec)}; {install_hint(spec)}"
        return report
    try:
        report["versions"] = dict(probe_versions(spec, env.python))
        report["health"] = "ok"
    except RuntimeUnavailable as exc:
        report["health"] = "broken"
        report["problem"] = exc.message
    return report
