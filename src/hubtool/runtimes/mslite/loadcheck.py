"""`hubtool inspect --load`: build a model in the real runtime, in a sandboxed worker, and say what happened.

"Loadable" is said only after this: the bytes tell whether 2.0.0 can parse a
file, not whether every operator builds.  The worker is the golden worker
(own process group, memory limit, deadline); its native error lines are the
runtime's own words for why a model does not build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ModelError, RuntimeUnavailable, WorkerError
from .client import MsliteWorker

_LOG_PREFIX = re.compile(r"^\[(ERROR|WARNING)\] [A-Z]+\([^)]*\):\S+ \[(?P<where>[^\]]+)\] ")


@dataclass(frozen=True)
class LoadOutcome:
    status: str  # loaded | does-not-build | runtime-unavailable | crashed
    message: str
    inputs: list[str] = field(default_factory=list)  # "name float32 [1, 2, 4, 4]" when loaded
    native: list[str] = field(default_factory=list)  # the runtime's own error lines, log prefix dropped


def load_check(path: Path, *, timeout: float = 60.0) -> LoadOutcome:
    try:
        with MsliteWorker(timeout=timeout) as worker:
            worker.load(path)
            inputs = [f"{t.name} {t.dtype} {list(t.shape)}" for t in worker.inputs()]
    except RuntimeUnavailable as exc:
        return LoadOutcome("runtime-unavailable", exc.message)
    except ModelError as exc:
        lines = [_LOG_PREFIX.sub(lambda m: f"[{m['where']}] ", line) for line in exc.native if "ERROR" in line]
        return LoadOutcome("does-not-build", "runtime 2.0.0 does not build it", native=lines[:12])
    except WorkerError as exc:
        return LoadOutcome("crashed", f"the runtime failed on it: {exc.message}",
                           native=exc.native[:12])
    return LoadOutcome("loaded", "loadable by runtime 2.0.0 (built in a sandboxed worker)", inputs)
