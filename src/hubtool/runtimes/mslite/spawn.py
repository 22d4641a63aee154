"""How a MindSpore Lite worker is started (runtimes/spawn.py starts it), and its spare for `hubtool golden`.

Light on purpose (no numpy): `cli.main` imports it before hubtool's heavy modules.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import spawn
from .env import RuntimeEnv, installed_env

WORKER = Path(__file__).with_name("worker.py")
DEFAULT_RLIMIT_AS = 2 * 1024**3


def recipe(env: RuntimeEnv, rlimit_as: int = DEFAULT_RLIMIT_AS, log_dir: Path | None = None) -> spawn.Recipe:
    return spawn.Recipe("mslite", str(env.python), str(WORKER), rlimit_as, str(log_dir or tempfile.gettempdir()))


def start_ahead(wanted: bool) -> None:
    """While more .ms models follow, each worker that starts starts the next one; for the last one, none.
    (A spare importing mindspore_lite beside the one model of a one-card run took a core from it.)"""
    env = installed_env()
    if env is not None:
        spawn.keep_ready(recipe(env), wanted)


def prespawn(*, replenish: bool = False, rlimit_as: int = DEFAULT_RLIMIT_AS) -> bool:
    """Start a spare MindSpore Lite worker now if the runtime is installed (False when it is not)."""
    env = installed_env()
    return env is not None and spawn.prespawn(recipe(env, rlimit_as), replenish=replenish)
