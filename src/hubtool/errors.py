"""The exceptions hubtool raises when it must abort.

Problems found *in the hub* (a bad card, a wrong hash in a card) are not
exceptions: they are `Diagnostic` values collected and reported together.
Exceptions are for failures that stop an operation::

    HubtoolError                 root: every abort the CLI maps to an exit code
    ├── UsageError               bad arguments or paths given on the command line (exit 2)
    ├── ConfigError              hub/hub.yaml unreadable or invalid (exit 2)
    ├── SchemaError              a bundled JSON Schema is missing or broken (exit 2)
    ├── StoreError               the blob store cannot be used (permissions, corruption)
    ├── AssetError               one asset could not be brought into the store
    │   ├── PolicyError          the URL, a redirect or the size breaks the hub's policy
    │   ├── TransferError        the network failed (after retries)
    │   ├── IntegrityError       the bytes are not the ones the card promised
    │   └── OfflineError         --offline and the asset is not in the store
    ├── LockTimeout              another process held a store lock for too long
    ├── RuntimeUnavailable       no usable runtime (e.g. no CPython 3.7 for MindSpore Lite): never "model failed"
    └── WorkerError              the runtime worker failed
        ├── ModelError           the runtime refused the model or an input (load/predict error, as data)
        ├── WorkerCrashed        the worker died (signal, EOF), with its log tail
        └── WorkerHung           the worker missed its deadline and was killed
"""

from __future__ import annotations


class HubtoolError(Exception):
    """Root of every error hubtool raises on purpose."""

    #: one-word category shown in reports and used to choose the exit code
    kind: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(HubtoolError):
    kind = "usage"


class ConfigError(HubtoolError):
    kind = "config"


class SchemaError(HubtoolError):
    kind = "schema"


class StoreError(HubtoolError):
    kind = "store"


class AssetError(HubtoolError):
    kind = "asset"

    def __init__(self, message: str, *, hint: str | None = None, url: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


class PolicyError(AssetError):
    kind = "policy"


class TransferError(AssetError):
    kind = "network"


class IntegrityError(AssetError):
    kind = "integrity"


class OfflineError(AssetError):
    kind = "offline"


class LockTimeout(HubtoolError):
    kind = "lock"


class RuntimeUnavailable(HubtoolError):
    kind = "runtime-unavailable"


class WorkerError(HubtoolError):
    kind = "worker"

    def __init__(self, message: str, *, hint: str | None = None, native: list[str] | None = None,
                 log_tail: str = "") -> None:
        super().__init__(message, hint=hint)
        self.native = native or []
        self.log_tail = log_tail


class ModelError(WorkerError):
    kind = "model"


class WorkerCrashed(WorkerError):
    kind = "crashed"


class WorkerHung(WorkerError):
    kind = "hung"
