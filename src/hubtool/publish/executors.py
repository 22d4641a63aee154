"""Where a publish runs its cards' steps: in this process (the default), or as tasks on a Dask cluster.

`--executor dask://HOST:PORT` sends one task per card (cardtask.py) to the cluster's
scheduler: the task names the card, and its outcome (a small JSON document) comes back;
blobs stay in the stores of the machines that fetched them.  A card whose golden step needs
a runtime asks for that runtime as a Dask resource (`resources={"mindspore-lite": 1}`), so it
runs only on workers started with `--resources mindspore-lite=1`, the ones that have the
runtime installed; if no worker offers it, the card fails at once instead of waiting forever.
A task whose worker dies is run again elsewhere by Dask itself; the runtime worker the dead
one had started dies with it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ..durable import JSONObject
from ..errors import StoreError, UsageError
from .cardtask import CardTask, run_card
from .isolation import isolated_task

if TYPE_CHECKING:
    from distributed import Client

#: seconds to wait for the scheduler to answer before the publish gives up
CONNECT_TIMEOUT = 5


def parse_executor(text: str) -> str | None:
    """The Dask scheduler address of `--executor`, or None for the local executor."""
    if text == "local":
        return None
    if text.startswith("dask://") and len(text) > len("dask://"):
        return "tcp://" + text.removeprefix("dask://")
    raise UsageError(f"--executor {text!r}: expected local or dask://HOST:PORT")


class DaskExecutor:
    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise UsageError("--executor dask:// needs Dask's distributed package",
                             hint="pip install 'hubtool[dask]' on this machine and on every worker") from exc
        self.where = address
        try:
            self.client: Client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise StoreError(f"cannot reach the Dask scheduler at {address}: {exc}",
                             hint="start it (dask scheduler) and its workers, or publish with --executor local")\
                from exc

    def offered(self) -> set[str]:
        """The resources some worker of the cluster offers now."""
        workers = self.client.scheduler_info().get("workers", {})
        return {name for w in workers.values() for name, n in (w.get("resources") or {}).items() if n > 0}

    def run(self, tasks: Sequence[tuple[CardTask, str | None]]) -> Iterator[tuple[int, JSONObject | str]]:
        """Each task's result as it completes: (its index, the result, or why the task failed)."""
        from distributed import as_completed

        futures = {}
        for i, (task, resource) in enumerate(tasks):
            future = self.client.submit(run_card, task.to_json(), pure=False,
                                        resources={resource: 1} if resource else None)
            futures[future] = i
        try:
            for future in as_completed(list(futures), loop=self.client.loop):
                yield futures[future], isolated_task(f"publish: the Dask task of {tasks[futures[future]][0].card}",
                                                     future.result)
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        self.client.close()
