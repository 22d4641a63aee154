"""The MindSpore worker's client: runtimes/process.py's WorkerProcess with MindSpore's recipe and `load`."""

from __future__ import annotations

from pathlib import Path

from ...durable import JSON, JSONObject
from ...errors import RuntimeUnavailable
from .. import managed, spawn
from ..managed import RuntimeEnv
from ..process import WorkerProcess
from ..protocol import Network
from .env import SPEC

WORKER = Path(__file__).with_name("worker.py")
#: importing MindSpore and compiling a small network reserves ~2.4 GB of address space (threads, arenas)
DEFAULT_RLIMIT_AS = 8 * 1024**3


def recipe(python: Path, rlimit_as: int = DEFAULT_RLIMIT_AS, log_dir: Path | None = None) -> spawn.Recipe:
    return spawn.Recipe("mindspore", str(python), str(WORKER), rlimit_as, str(log_dir or spawn.temp_dir()))


def installed_env() -> RuntimeEnv | None:
    return managed.installed_env(SPEC)


def start_ahead(wanted: bool, rlimit_as: int | None = None) -> None:
    """While more models follow, each MindSpore worker that starts starts the next one (its ~2 s of imports
    overlap this model's run); a spare nobody adopts is killed at exit."""
    env = installed_env()
    if env is not None:
        spawn.keep_ready(recipe(env.python, rlimit_as or DEFAULT_RLIMIT_AS), wanted)


class MindsporeWorker(WorkerProcess):
    """A worker process in the MindSpore env, sandboxed where the machine allows. Use as a context manager."""

    def __init__(self, env: RuntimeEnv | None = None, *, rlimit_as: int = DEFAULT_RLIMIT_AS,
                 timeout: float = 120.0, log_dir: Path | None = None) -> None:
        self.env = env or managed.require_env(SPEC)
        super().__init__(recipe(self.env.python, rlimit_as, log_dir), timeout=timeout)

    @property
    def sandbox(self) -> JSONObject:
        """What the worker said of its sandbox: {"active": True, ...} or {"active": False, "why": ...}."""
        found = self.hello.get("sandbox")
        return found if isinstance(found, dict) else {"active": False, "why": "the worker did not say"}

    def load(self, path: Path, file_format: str, inputs: list[JSONObject], network: Network | None = None,
             *, allow_unsandboxed: bool = False) -> JSONObject:
        """Load a MindIR, or a checkpoint into its network; `inputs` are the model's ({name, shape, dtype})."""
        declared: list[JSON] = [dict(i) for i in inputs]
        fields: JSONObject = {"path": str(Path(path).resolve()), "format": file_format, "inputs": declared}
        if network is not None:
            if network.runs_repository_code and not self.sandbox.get("active") and not allow_unsandboxed:
                raise RuntimeUnavailable("not run: the network's code comes from a repository and this machine "
                                         f"cannot sandbox it ({self.sandbox.get('why')})",
                                         hint="set runtimes.mindspore.allow-unsandboxed-code: true in hub.yaml "
                                              "to run it anyway")
            fields["network"] = network.request()
        header, _ = self.request("load", fields)
        return header
