"""Publishers that open a new ledger at the same moment all get it (real SQLite, real processes).

Switching a new file to WAL while another connection holds it is refused by SQLite at once
("database is locked"), without waiting on its busy timeout; about one race in sixty lost so, and
`test_two_concurrent_publishers_end_consistent` failed now and then with a store error.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

from hubtool.errors import StoreError
from hubtool.publish.ledger import Ledger

PROCESSES, ROUNDS = 3, 60  # without the retry, ~95% of runs of this test lose at least one race


def _open_and_record(path: str, start: Event, out: Connection) -> None:
    start.wait()
    try:
        ledger = Ledger(Path(path))
        ledger.record(f"key-{multiprocessing.current_process().pid}", "check", "passed", {"n": 1})
        ledger.close()
        out.send("ok")
    except StoreError as exc:
        out.send(exc.message)


def test_publishers_opening_a_new_ledger_together_all_get_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(ROUNDS):
        path = tmp_path / str(round_) / "ledger.sqlite"
        path.parent.mkdir()
        start = context.Event()
        pipes = [context.Pipe(duplex=False) for _ in range(PROCESSES)]
        procs = [context.Process(target=_open_and_record, args=(str(path), start, sender))
                 for _, sender in pipes]
        for proc in procs:
            proc.start()
        start.set()  # all at once, on a file none has created yet
        lost = [said for receiver, _ in pipes if (said := receiver.recv()) != "ok"]
        for proc in procs:
            proc.join(timeout=60)
        ledger = Ledger(path)
        assert len(ledger.get_many([f"key-{p.pid}" for p in procs])) == PROCESSES - len(lost)  # none lost
        ledger.close()
        failures += lost
    assert failures == []
