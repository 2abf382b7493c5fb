"""A job's lease: the claim a worker renews while it runs a job, and asks about just before each
output is published. Without renewal for a lease's length the job is declared lost (FAILED "worker
lost"); a worker declared lost meanwhile (stalled, cut off) never puts a file under a final name.

The local store (`StoreLease`) and the render farm (`proxx_farm.worker.FarmLease`, in Redis) keep
their leases the same way: a `KeepAlive` thread renews it a third of a lease at a time."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from proxx.store import RUNNING, Store

log = logging.getLogger("proxx.execute")


class Lease(Protocol):
    worker_id: str

    def reserve(self, job_id: str | None = None) -> str | None:
        """Take `job_id` (or the oldest job free to take) for this worker to check: it stays QUEUED,
        under this lease. Its id, or None when it is not free (taken before, cancelled, none queued)."""
        ...

    def keep(self, job_id: str) -> AbstractContextManager[None]:
        """Renew the lease on `job_id` for as long as the block runs."""
        ...

    def start(self, job_id: str) -> bool:
        """The reserved job's checks passed: QUEUED -> RUNNING wherever its state is kept. False if it
        is no longer this worker's reservation (an operator's cancel meanwhile): it must not run."""
        ...

    def holds(self, job_id: str) -> bool:
        """Whether this worker still holds `job_id` (it is RUNNING, and ours)."""
        ...


@contextmanager
def keep_alive(renew: Callable[[], bool], period: float, name: str) -> Iterator[None]:
    """Call `renew` every `period` seconds from a thread while the block runs; `renew` returns
    False once there is nothing left to renew (the lease was lost), which ends the thread. A renewal
    that raises is logged and tried again next period: the lease may well still hold."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(period):
            try:
                if not renew():
                    log.error("%s: the lease was lost while the job ran here", name)
                    return
            except Exception:
                log.exception("%s: renewing the lease failed", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


class StoreLease:
    """The lease in the local SQLite store; renewed through its own connection (one per thread)."""

    def __init__(self, store: Store, worker_id: str, seconds: float) -> None:
        self.store, self.worker_id, self.seconds = store, worker_id, seconds

    @contextmanager
    def keep(self, job_id: str) -> Iterator[None]:
        # Opened at the first renewal: a job shorter than a third of a lease (most of a day's clips)
        # never needs it, and opening and closing a store is a measurable part of a short job's CPU
        # (benchmarks/README.md, "Fixed costs a job").
        own: Store | None = None

        def renew() -> bool:
            nonlocal own
            try:
                if own is None:
                    own = Store(self.store.path)
                own.heartbeat(job_id, self.worker_id, self.seconds)
            except sqlite3.OperationalError:  # a full disk or a busy store: renew again next time
                log.exception("heartbeat of job %s failed", job_id)
            return True

        try:
            with keep_alive(renew, self.seconds / 3, f"heartbeat-{job_id}"):
                yield
        finally:
            if own is not None:
                own.close()

    def reserve(self, job_id: str | None = None) -> str | None:
        return self.store.reserve(self.worker_id, job_id, lease=self.seconds)

    def start(self, job_id: str) -> bool:
        return self.store.start(self.worker_id, job_id, lease=self.seconds)

    def holds(self, job_id: str) -> bool:
        row = self.store.job(job_id)
        return row.state == RUNNING and row.worker_id == self.worker_id
