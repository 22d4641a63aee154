"""Where a published hub lives: the `PublishTarget` protocol, owned by the pipeline that writes through it.

Two backends keep it: `directory.DirectoryTarget` (generations behind an atomically
swapped symlink) and `s3.S3Target` (immutable objects and create-only generation refs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

from ..durable import JSONObject

if TYPE_CHECKING:  # a replay asks a target its state only: the index's code is not imported
    from .index import Snapshot


class Committed(NamedTuple):
    where: str  # the generation now published: a folder, or an s3:// generation ref
    unchanged: bool  # the hub already said exactly this: no new generation was made


class Published:
    """The published generation and its index (a plain class: a named tuple's `index` is tuple.index)."""

    __slots__ = ("generation", "index")

    def __init__(self, generation: str, index: JSONObject) -> None:
        self.generation = generation
        self.index = index


class PublishedState(NamedTuple):
    """What a target publishes now, as a re-run compares it with what its last run found."""

    where: str  # the generation, as `Committed.where` says it
    digest: str  # over its index (and whether it has a catalog): any other publish changes it
    # False for a digest that is a file status too recent to stand for the bytes (`filestatus.settled`): a run is
    # not remembered on it (the next one is)
    settled: bool = True


class Collected(NamedTuple):
    """What a GC removed (or, in a dry run, would remove)."""

    removed: list[str]
    aborted: list[str]  # S3: multipart uploads older than the grace period


class PublishTarget(Protocol):
    def publish(self, snapshot: Snapshot) -> Committed:
        """Write the snapshot as a new generation, all or nothing; readers see the old hub or the new one."""

    def latest(self) -> Published | None:
        """The newest published index (verified where the target can), or None before the first publish."""

    def state(self) -> PublishedState | None:
        """What is published now, read exactly but without decoding it; None before the first publish and
        where the target cannot say so cheaply (then a re-run never replays its last run whole)."""

    def gc(self, *, keep: int, grace_seconds: float, dry_run: bool = False) -> Collected:
        """Remove what no kept generation needs and is older than the grace period (a dry run: nothing)."""
