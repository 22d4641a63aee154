"""How a MindSpore Lite worker is started (runtimes/spawn.py starts it), and its spare for `hubtool golden`.

Light on purpose: `cli.main` calls `prespawn` before anything else is imported, so this finds the
env with runtimes/envplace.py alone (env.py's managed install needs much more).
"""

from __future__ import annotations

from pathlib import Path

from .. import envplace, spawn

NAME = "mindspore-lite"
VERSION = "2.0.0"
TAG = "py37"  # the env's interpreter: mindspore-lite 2.0.0's only wheel is for CPython 3.7
REQUIREMENTS = "requirements-mslite.txt"
FOLDER = Path(__file__).parent
WORKER = FOLDER / "worker.py"
DEFAULT_RLIMIT_AS = 2 * 1024**3


def installed_python() -> Path | None:
    """The installed env's interpreter (what env.installed_env() says, without reading its record)."""
    root = envplace.installed_root(NAME, VERSION, TAG, FOLDER / REQUIREMENTS)
    return None if root is None else root / "bin" / "python"


def recipe(python: Path, rlimit_as: int = DEFAULT_RLIMIT_AS, log_dir: Path | None = None) -> spawn.Recipe:
    return spawn.Recipe("mslite", str(python), str(WORKER), rlimit_as, str(log_dir or spawn.temp_dir()))


def start_ahead(wanted: bool) -> None:
    """While more .ms models follow, each worker that starts starts the next one; for the last one, none.
    (A spare importing mindspore_lite beside the one model of a one-card run took a core from it.)"""
    python = installed_python()
    if python is not None:
        spawn.keep_ready(recipe(python), wanted)


def prespawn(*, replenish: bool = False, rlimit_as: int = DEFAULT_RLIMIT_AS) -> bool:
    """Start a spare MindSpore Lite worker now if the runtime is installed (False when it is not)."""
    python = installed_python()
    return python is not None and spawn.prespawn(recipe(python, rlimit_as), replenish=replenish)
