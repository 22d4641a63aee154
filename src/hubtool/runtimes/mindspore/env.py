"""The managed environment that holds MindSpore 2.x (mindspore 2.10.0 on this machine's CPython 3.11).

Like MindSpore Lite's, it is a venv of its own (runtimes/managed.py): hubtool never imports the
framework (1.3 s and 2.8 GB), and the code a model needs runs in a worker process there.  The
requirements pin the cp311 wheels, so the venv is made with a CPython 3.11: $HUBTOOL_MINDSPORE_PYTHON,
else the interpreter hubtool itself runs on (its base, when hubtool is in a venv).  Installing,
finding and checking it is `runtimes.managed` with this module's SPEC.  subprocess is imported where
an interpreter is checked: a replay imports this module for its SPEC only (`installed`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import RuntimeUnavailable
from ..managed import RuntimeSpec

if TYPE_CHECKING:
    from ...config import HubConfig

NAME = "mindspore"
VERSION = "2.10.0"
PYTHON = (3, 11)  # the wheels' tag
_PROBE = ("import json, sys, importlib.metadata as m, numpy, mindspore; print(json.dumps({'python': "
          "sys.version.split()[0], 'numpy': numpy.__version__, 'mindspore': mindspore.__version__, "
          "'mindcv': m.version('mindcv')}))")


def find_python311(config: HubConfig | None = None) -> Path:
    """$HUBTOOL_MINDSPORE_PYTHON, else the interpreter hubtool runs on; a CPython 3.11 either way."""
    configured = os.environ.get("HUBTOOL_MINDSPORE_PYTHON")
    candidates = [configured] if configured else [getattr(sys, "_base_executable", "") or sys.executable,
                                                  sys.executable]
    for candidate in candidates:
        if candidate and _is_cpython(candidate, PYTHON):
            return Path(candidate)
    raise RuntimeUnavailable(f"runtime unavailable: MindSpore {VERSION}'s pinned wheels need CPython "
                             f"{PYTHON[0]}.{PYTHON[1]}, and {', '.join(c for c in candidates if c)} is not one",
                             hint="point HUBTOOL_MINDSPORE_PYTHON at a CPython 3.11 interpreter")


def _is_cpython(exe: str, version: tuple[int, int]) -> bool:
    import subprocess  # not at import: see the module's doc

    try:
        proc = subprocess.run([exe, "-c", "import sys, platform; print(platform.python_implementation(),"
                               " *sys.version_info[:2])"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.split() == ["CPython", *map(str, version)]


SPEC = RuntimeSpec(NAME, VERSION, "py311", Path(__file__).parent, "requirements-mindspore.txt",
                   _PROBE, find_python311, "the MindSpore environment")

