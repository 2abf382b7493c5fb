"""An operator's cancel: the job ends FAILED with reason "cancelled by the operator" (FAILED carries
the reason; there is no new state), the encoder is stopped, clips not started are recorded not_run,
and the cancelled clip's partial output is removed.

A cancel reaches a running job two ways: from its own process (SIGINT or SIGTERM to `proxx run`), as
an event; and from any other process (`proxx jobs cancel`, the web page, the API), as a request
recorded in the store (`Store.request_cancel`), which the worker polls at most every `poll_seconds`
through its own connection (the engine asks from its render loop)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from proxx.errors import CANCELLED, ExecutionError, FailureClass
from proxx.result import Failure
from proxx.store import Store

POLL_SECONDS = 0.5
# A queued job the operator cancelled: it ends at once, nothing run.
# Nothing ran: class B, as a job refused before it started (class C is a failure of what ran).
BEFORE_START = Failure(FailureClass.VALIDATION.value, CANCELLED, "Cancelled by the operator before it started.")


def cancelled_error(source: str) -> ExecutionError:
    """The failure of the clip that was rendering when the operator cancelled the job."""
    return ExecutionError(CANCELLED, "Cancelled by the operator; its partial output was removed.", {"source": source})


class CancelSignal:
    """Whether the operator has cancelled `job_id`: cheap enough to call from an engine's read loop."""

    def __init__(self, store_path: Path | None, job_id: str, event: threading.Event | None = None) -> None:
        self.store_path, self.job_id = store_path, job_id
        self.event = event or threading.Event()
        self._own: Store | None = None
        # First asked a poll period in: a job done sooner (a short clip) never opens a store of its
        # own (benchmarks/README.md, "Fixed costs a job"); a cancel waits a period at most, as ever.
        self._asked = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        if self.event.is_set():
            return True
        now = time.monotonic()
        if self.store_path is None or now - self._asked < POLL_SECONDS:
            return False
        with self._lock:
            self._asked = now
            if self._own is None:
                self._own = Store(self.store_path)
            if self._own.cancel_requested(self.job_id):
                self.event.set()
        return self.event.is_set()

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None
