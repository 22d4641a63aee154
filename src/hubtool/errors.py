"""The exceptions hubtool raises when it must abort.

Problems found *in the hub* (a bad card, a wrong hash in a card) are not
exceptions: they are `Diagnostic` values collected and reported together.
Exceptions are for failures that stop an operation::

    HubtoolError                 root: every abort the CLI maps to an exit code
    ├── UsageError               bad arguments or paths given on the command line (exit 2)
    ├── ConfigError              hub/hub.yaml unreadable or invalid (exit 2)
    ├── SchemaError              a bundled JSON Schema is missing or broken (exit 2)
    ├── YamlRefused              internal to yamlsource: the walk stops at a refused construct (never escapes)
    ├── ExplainerNotLoaded       internal to a whole-hub check: a worker leaves a failing card to its parent
    ├── StoreError               the blob store cannot be used (permissions, corruption, an S3 error)
    │   └── OutcomeUnknown       a conditional S3 write failed with 5xx or a timeout and left nothing to see
    ├── AssetError               one asset could not be brought into the store
    │   ├── AssetEntryError      the card's asset entry has no valid link or SHA-256 (nothing was tried)
    │   ├── PolicyError          the URL, a redirect or the size breaks the hub's policy
    │   ├── TransferError        the network failed (after retries)
    │   ├── IntegrityError       the bytes are not the ones the card promised
    │   └── OfflineError         --offline and the asset is not in the store
    ├── LockTimeout              another process held a store lock for too long
    ├── GoldenSetError           a golden set (hub/golden/<set>/golden.yaml) is missing or invalid
    ├── NetworkSourceError       a checkpoint's `network:` names no usable network (folder, module, mindcv model)
    ├── ImageError               a golden image cannot be decoded
    ├── LegacyFormatError        a MindSpore Lite 1.0/1.1 file is not a well-formed FlatBuffer
    ├── ProtobufFormatError      a protobuf model file is malformed (a field runs past its message...)
    │   └── CheckpointFormatError  a file is not a well-formed MindSpore checkpoint
    ├── TranslationRefused       the legacy translator cannot carry a model over faithfully (every reason)
    ├── RuntimeUnavailable       no usable runtime (e.g. no CPython 3.7 for MindSpore Lite): never "model failed"
    ├── WorkerLost               a forked worker process (a whole-hub check's) ended without its result
    └── WorkerError              the runtime worker failed
        ├── ModelError           the runtime refused the model or an input (load/predict error, as data)
        ├── WorkerCrashed        the worker died (signal, EOF), with its log tail
        └── WorkerHung           the worker missed its deadline and was killed

`kind` is a label for people (reports print it); code that must tell failures
apart tests the class, never the label.
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


class SpecialFile(HubtoolError):
    """A path that is a FIFO, a device, a socket or a folder (or a link to one), refused before any read."""

    kind = "file"

    def __init__(self, message: str, *, what: str) -> None:
        super().__init__(message)
        self.what = what  # "a FIFO", "a character device"...


class YamlRefused(HubtoolError):
    """Stops the YAML walk at an anchor, a tag, a nesting bomb...; its diagnostic is already recorded."""

    kind = "yaml"


class ExplainerNotLoaded(HubtoolError):
    """A card needs its schema failure explained in a process that holds off importing the explainer
    (`schema.Validator.import_held`): a whole-hub check's forked workers leave such cards to the parent
    (`cards.checkrun`), which catches this for each one."""

    kind = "internal"

    def __init__(self) -> None:
        super().__init__("a card's schema failure was not explained in this process")


class StoreError(HubtoolError):
    kind = "store"


class OutcomeUnknown(StoreError):
    """A conditional write failed with 5xx or a timeout: it may or may not have happened."""

    kind = "outcome-unknown"


class AssetError(HubtoolError):
    kind = "asset"

    def __init__(self, message: str, *, hint: str | None = None, url: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


class AssetEntryError(AssetError):
    kind = "card"


class PolicyError(AssetError):
    kind = "policy"


class TransferError(AssetError):
    kind = "network"


class IntegrityError(AssetError):
    kind = "integrity"


class OfflineError(AssetError):
    kind = "offline"


class InternalError(AssetError):
    """A bug hit while handling one asset in a publish: that card fails, the run goes on."""

    kind = "internal"


class StrayEntry(AssetError):
    """Something that is not a blob (a folder, a link) holds the name of a blob this asset needs."""

    kind = "store"


class LockTimeout(HubtoolError):
    kind = "lock"


class GoldenSetError(HubtoolError):
    kind = "golden-set"


class NetworkSourceError(HubtoolError):
    kind = "network-source"


class ImageError(HubtoolError):
    kind = "image"


class LegacyFormatError(HubtoolError):
    """The file is not a well-formed FlatBuffer of the expected schema."""

    kind = "legacy-format"


class ProtobufFormatError(HubtoolError):
    """The bytes are not a well-formed protobuf message of the expected schema: the reason and where."""

    kind = "protobuf-format"


class CheckpointFormatError(ProtobufFormatError):
    """The bytes are not a MindSpore checkpoint, or a damaged one: the reason."""

    kind = "checkpoint-format"


class TranslationRefused(HubtoolError):
    """The model uses something the translator cannot carry over faithfully; every reason is listed."""

    kind = "refused"

    def __init__(self, reasons: list[str]) -> None:
        shown = "; ".join(reasons[:10]) + (f"; and {len(reasons) - 10} more" if len(reasons) > 10 else "")
        super().__init__(f"cannot translate this model to MSL2: {shown}",
                         hint="reconvert the original model with converter >= 1.2, if you have it")
        self.reasons = reasons


class RuntimeUnavailable(HubtoolError):
    kind = "runtime-unavailable"


class WorkerLost(HubtoolError):
    """A forked worker process ended without handing its result back (killed, out of memory): `forkmap`."""

    kind = "worker-lost"


class WorkerError(HubtoolError):
    kind = "worker"

    def __init__(self, message: str, *, hint: str | None = None, native: list[str] | None = None,
                 log_tail: str = "", error_type: str = "", details: object = None) -> None:
        super().__init__(message, hint=hint)
        self.native = native or []
        self.log_tail = log_tail
        self.error_type = error_type  # the worker's exception class, for failures it reports as data
        self.details = details if isinstance(details, dict) else {}  # structured facts the worker attached


class ModelError(WorkerError):
    kind = "model"


class WorkerCrashed(WorkerError):
    kind = "crashed"


class WorkerHung(WorkerError):
    kind = "hung"
