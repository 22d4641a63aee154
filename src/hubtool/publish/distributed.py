"""`publish --executor dask://`: the checked cards' steps as Dask tasks, their outcomes replayed here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..runtimes.installed import MANAGED
from ..runtimes.registry import runtime_for
from .cardtask import CardTask
from .executors import DaskExecutor
from .outcomes import replay
from .runs import STEPS, CardRun, Step, shared_step

if TYPE_CHECKING:
    from .pipeline import Publisher


def _task_failed(run: CardRun, why: str) -> None:
    run.steps["fetch"] = Step("failed", f"the card's task failed: {why}")
    for name in STEPS[2:]:
        run.steps[name] = shared_step("skipped", "an earlier step did not pass")


def _task(publisher: Publisher, run: CardRun) -> CardTask:
    """The card's task: paths and options, never bytes (the worker reads the same checkout)."""
    config, options, store = publisher.config, publisher.options, publisher.store
    return CardTask(str(config.path) if config.path else None, str(run.path.absolute()),
                    str(store.absolute()) if store else None, options.ledger, options.offline, options.timeout,
                    options.jobs)


def distribute(publisher: Publisher, runs: list[CardRun], executor: DaskExecutor) -> None:
    """--executor dask://: one task per card the check passed, each outcome replayed here as it comes."""
    passed = [r for r in runs if r.passed("check")]
    publisher.steps([r for r in runs if not r.passed("check")])  # all skips: nothing to send
    offered = executor.offered()
    sent: list[tuple[CardRun, CardTask, str | None]] = []  # with the runtime resource the task asks for
    for run in passed:
        plan = publisher.golden.runner.plan(run.metadata or {})
        needs = runtime_for(str(plan.asset.file_format)) if plan.asset is not None and plan.set_name else None
        if needs in MANAGED and needs not in offered:  # a task asking for it would wait forever
            _task_failed(run, f"no worker of the Dask cluster at {executor.where} offers the {needs} resource "
                              f"(start the workers that have it with --resources {needs}=1)")
            publisher.gate(run)
            continue
        sent.append((run, _task(publisher, run), needs if needs in offered else None))
    for done, (i, result) in enumerate(executor.run([(task, needs) for _, task, needs in sent]), 1):
        run, _, needs = sent[i]
        outcome = result.get("outcome") if isinstance(result, dict) else None
        if not (isinstance(outcome, dict) and replay(run, outcome)):
            _task_failed(run, result if isinstance(result, str) else "the task returned no outcome")
        elif needs and run.golden and run.golden.runtime not in (None, publisher.runtime_identity.get(needs)):
            _task_failed(run, f"its worker ran {needs} {run.golden.runtime}, this machine's index names "
                              f"{publisher.runtime_identity.get(needs)}: install the same version on the workers")
        publisher.gate(run)
        publisher.progress.status(f"{done}/{len(sent)} cards back from {executor.where}: {run.display}")
