"""Which cards one job of a CI matrix (or a Slurm array, or `xargs -P`) takes: `--shard I/N`.

Hubs already own the engines that fan work out; hubtool only has to split the
card set the same way in every job, and to refuse a job that would silently do
the wrong part.  A card belongs to shard `1 + H mod N`, where H is the SHA-256 of
its path in the hub (POSIX, relative to the hub root): every job computes the
same split from the same checkout, whatever its working directory, and a card
added or removed moves no other card to another shard (a job's caches stay warm).

`I/N` counts from 1, as GitLab's `parallel:` does (CI_NODE_INDEX, CI_NODE_TOTAL);
`--shard ci` reads those, or Slurm's array variables.  A spec that is empty on
either side (an unset variable: `--shard /16`), out of range, or not numbers is
refused: a job with a missing index must not do the whole hub, or nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import UsageError

SPEC = re.compile(r"(\d+)/(\d+)")
HINT = "write --shard I/N with 1 <= I <= N (GitLab: --shard ci, or $CI_NODE_INDEX/$CI_NODE_TOTAL)"


@dataclass(frozen=True)
class Shard:
    index: int  # 1..total
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def takes(self, hub_path: str) -> bool:
        """Is the card at this path in the hub this shard's?"""
        h = int.from_bytes(hashlib.sha256(hub_path.encode()).digest()[:8], "big")
        return h % self.total == self.index - 1


def parse_shard(text: str, environ: Mapping[str, str]) -> Shard:
    """`I/N`, or `ci` for the CI's own variables; UsageError for anything a job should not run with."""
    spec = text.strip()
    if spec == "ci":
        return _from_ci(environ)
    match = SPEC.fullmatch(spec)
    if match is None:
        raise UsageError(f"--shard {text!r} is not I/N" + (" (an unset variable?)" if _half_empty(spec) else ""),
                         hint=HINT)
    return _checked(int(match[1]), int(match[2]), f"--shard {spec}")


def _half_empty(spec: str) -> bool:
    before, slash, after = spec.partition("/")
    return bool(slash) and (not before.strip() or not after.strip())


def _checked(index: int, total: int, said: str) -> Shard:
    if total < 1:
        raise UsageError(f"{said}: the number of shards must be at least 1", hint=HINT)
    if not 1 <= index <= total:
        raise UsageError(f"{said}: shard {index} is out of range 1..{total} (shards count from 1)", hint=HINT)
    return Shard(index, total)


def _from_ci(environ: Mapping[str, str]) -> Shard:
    """GitLab `parallel:` (CI_NODE_INDEX/CI_NODE_TOTAL, from 1), or a Slurm array (SLURM_ARRAY_TASK_ID
    from SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT tasks, step 1)."""
    if "CI_NODE_INDEX" in environ or "CI_NODE_TOTAL" in environ:
        return _numbers(environ, "CI_NODE_INDEX", "CI_NODE_TOTAL", offset=0)
    if "SLURM_ARRAY_TASK_ID" in environ:
        base = _number(environ, "SLURM_ARRAY_TASK_MIN")
        return _numbers(environ, "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", offset=1 - base)
    raise UsageError("--shard ci: no CI shard variables are set (GitLab: CI_NODE_INDEX and CI_NODE_TOTAL, "
                     "from `parallel: N`; Slurm: SLURM_ARRAY_TASK_ID, _MIN and _COUNT)",
                     hint="in other CI systems pass --shard I/N, e.g. GitHub: --shard ${{ matrix.shard }}/16")


def _numbers(environ: Mapping[str, str], index: str, total: str, *, offset: int) -> Shard:
    return _checked(_number(environ, index) + offset, _number(environ, total), f"--shard ci ({index}, {total})")


def _number(environ: Mapping[str, str], name: str) -> int:
    value = environ.get(name, "").strip()
    if not value.isdigit():
        raise UsageError(f"--shard ci: {name} is {value!r}, not a number" if value else
                         f"--shard ci: {name} is not set", hint=HINT)
    return int(value)
