"""The seam between golden inference and any runtime: a `Runtime` opens a model as a `Session`."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..durable import JSON, JSONObject

if TYPE_CHECKING:
    import numpy as np  # annotations only: numpy (~100 ms) loads where arrays are made


@dataclass(frozen=True)
class PinnedRepository:
    """A network's code in a git repository, at the commit the hub pinned (cloned into the store before use)."""

    url: str
    commit: str
    subpath: str = ""  # the model's folder inside the repository (from the card's repo-link)


@dataclass(frozen=True)
class Network:
    """The network a checkpoint's parameters are loaded into, and where its code comes from."""

    kind: str  # "mindcv": mindcv's model registry; "module": a function in a repository folder
    name: str  # the mindcv model, or "module:function"
    folder: Path | None = None  # the repository folder (kind "module")
    args: tuple[JSON, ...] = ()
    kwargs: tuple[tuple[str, JSON], ...] = ()
    origin: str = ""  # where that was: "the card", "hub.yaml golden.networks", "the hub's convention"
    digest: str = ""  # the repository folder's content (files and bytes): keys a remembered verdict
    repository: PinnedRepository | None = None  # to be cloned: `folder` is set once it is
    location: str = ""  # where the code is, for messages: a hub folder, or repository@commit/folder

    @property
    def runs_repository_code(self) -> bool:
        return self.kind == "module"

    def describe(self) -> str:
        """What ran, for a verdict: `mindcv:resnet18`, `create_network('x') from hub/networks/x/...`."""
        if self.kind == "mindcv":
            return f"mindcv:{self.name}"
        module, function = self.name.split(":", 1)
        call = ", ".join([repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs])
        return f"{module}.{function}({call}) from {self.location or self.folder}"

    def request(self) -> JSONObject:
        """The worker's `network` field."""
        out: JSONObject = {"kind": self.kind, "args": list(self.args), "kwargs": dict(self.kwargs)}
        if self.kind == "mindcv":
            out["model"] = self.name
        else:
            module, function = self.name.split(":", 1)
            out.update(folder=str(self.folder), module=module, function=function)
        return out


@dataclass(frozen=True)
class OpenOptions:
    """How a model is opened: what a runtime needs beyond the file."""

    timeout: float = 120.0  # seconds any one request may take
    network: Network | None = None  # a checkpoint's network
    input_shape: tuple[int, ...] | None = None  # a checkpoint's input (a network declares none)
    allow_unsandboxed: bool = False  # run repository code where the machine cannot sandbox it
    mindspore_address_space: int | None = None  # the MindSpore worker's RLIMIT_AS (None: its default)


class Session(Protocol):
    """A loaded model: what golden inference needs from any runtime."""

    def input_shapes(self) -> list[tuple[int, ...]]:
        """The shape of each input, in order (dynamic dimensions reported as 1)."""

    def predict(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """The outputs for one set of inputs (owned arrays, not views into the runtime)."""

    def ran(self) -> str:
        """What ran the model, for the verdict: the runtime and version, the network and its sandbox."""


class Runtime(Protocol):
    name: str

    def open(self, path: Path, file_format: str, options: OpenOptions) -> AbstractContextManager[Session]:
        """The model at `path` loaded and ready; closed (worker stopped) when the context ends.

        Raises RuntimeUnavailable when the runtime is not installed (or may not run what the model
        needs), WorkerError when it fails on the model.
        """

    def identity(self) -> str | None:
        """The installed runtime's version, None when it is not installed."""
