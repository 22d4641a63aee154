"""The installed versions of the runtimes hubtool manages, read without importing their sessions or workers.

They key the ledger's golden verdicts and a remembered run (`publish/unchanged.py`), which a replay
computes before anything else is imported.
"""

from __future__ import annotations

from .managed import RuntimeSpec, installed_env
from .mindspore.env import SPEC as MINDSPORE
from .mslite.env import SPEC as MSLITE

#: runtime name -> its environment and the package whose version is the runtime's
_MANAGED: dict[str, tuple[RuntimeSpec, str]] = {"mindspore-lite": (MSLITE, "mindspore_lite"),
                                                "mindspore": (MINDSPORE, "mindspore")}
#: the runtimes hubtool installs itself (`hubtool runtime install`): their versions key the ledger
MANAGED = tuple(_MANAGED)


def identity(name: str) -> str | None:
    """The installed version of the managed runtime `name`; None when it is not installed (or not complete)."""
    spec, package = _MANAGED[name]
    env = installed_env(spec)
    return env.packages.get(package) if env else None


def managed_identities() -> dict[str, str]:
    """The versions of the installed managed runtimes, e.g. {"mindspore-lite": "2.0.0", "mindspore": "2.10.0"}."""
    found = {name: identity(name) for name in MANAGED}
    return {name: version for name, version in found.items() if version is not None}
