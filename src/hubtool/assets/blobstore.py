"""The blob-store contract both backends keep: a directory (`store.DirectoryStore`) and S3 (`s3.blobs`).

Owned here, by its consumers in this package (mirror, maintenance) and above
(publish --with-assets): they take any `BlobStore`, and the contract tests run
every backend through the same cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol


class BlobInfo(NamedTuple):
    """A blob in a store: its name (digest), size, and where it is (a path or an s3:// URL)."""

    digest: str
    size: int
    location: str


class Stored(NamedTuple):
    """The outcome of a put: the blob, and whether this call created it."""

    info: BlobInfo
    created: bool
    proof: str = ""  # how the stored copy is known to be right (S3: what the server confirmed)


class BlobStore(Protocol):
    def stat(self, digest: str) -> BlobInfo | None:
        """The blob named `digest`, or None. Presence, not proof: `verify` re-hashes."""

    def put_file(self, digest: str, src: Path, *, source: str) -> Stored:
        """Put the local file `src` as blob `digest` unless present; the bytes must hash to the name.

        A file that does not hash to `digest` raises IntegrityError and leaves nothing visible.
        `source` names where the bytes came from, for messages.
        """

    def open_range(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end) of a blob; a negative start reads the last -start bytes."""

    def verify(self, digest: str, on_bytes: Callable[[int], None] | None = None) -> str | None:
        """Re-hash the blob: None when its content hashes to its name, else the actual digest.

        `on_bytes` hears how many bytes have been hashed, as they are (progress)."""

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every blob (and anything else) under the store's blobs/ prefix, in name order."""

    def remove(self, digest: str) -> None:
        """Delete the blob (maintenance only: `store verify --repair`, `store gc`)."""
