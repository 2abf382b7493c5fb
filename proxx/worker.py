"""`proxx worker`: drain the job queue, N jobs at a time (one thread and one database connection
each; the encoding itself runs in engine processes)."""

from __future__ import annotations

import contextlib
import datetime
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from proxx.app import Proxx, default_worker_id
from proxx.errors import ProxxError
from proxx.execute.claim import claim_and_run
from proxx.execute.recover import recover_lost
from proxx.execute.runner import Runner
from proxx.execute.schedule import core_share, nothing_queued
from proxx.result import JobResult
from proxx.store import Store, queue_watch


def work(
    proxx: Proxx,
    concurrency: int = 1,
    once: bool = False,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
    on_done: Callable[[JobResult], None] | None = None,
    on_error: Callable[[str], None] | None = None,
) -> int:
    """Run queued jobs until the queue is empty (`once`) or `stop` is set. Returns jobs run.

    A job that raises ends FAILED (`proxx.execute.claim.claim_and_run`) and the thread goes on to
    the next. Should the loop itself fail (the store unreachable), `on_error` receives one line
    saying so (the traceback is written under PROXX_HOME/logs) and the thread carries on after a
    pause (with `once`, it stops): a worker thread never dies silently, leaving jobs QUEUED."""
    stop = stop or threading.Event()
    count = [0]
    lock = threading.Lock()

    def step(store: Store, runner: Runner) -> bool:
        """Take and run one job; False when there was none to take."""
        recover_lost(store, proxx.home, store.reap_lost())
        taken = claim_and_run(runner)
        if taken is None:
            return False
        result = taken[1]
        if result is None:  # cancelled while it was checked: nothing ran here
            return True
        with lock:
            count[0] += 1
        if on_done:
            on_done(result)
        return True

    def loop() -> None:
        store: Store | None = None  # opened in the loop: a store locked at the start is said and waited for
        told: str | None = None  # what stops this thread now, said once (a full PROXX_HOME lasts hours)
        try:
            while not stop.is_set():
                try:
                    if store is None:
                        store = Store(proxx.store.path)
                        runner = proxx.runner(worker_id=default_worker_id(), store=store)
                    taken = step(store, runner)
                    told = None
                    if taken:
                        continue
                except ProxxError as error:  # the store locked, PROXX_HOME full: said as that; tried again
                    if error.message != told:
                        told = error.message
                        _say(f"worker: {error.message}", on_error)
                except Exception as error:
                    _say(_internal_error(proxx.home, error), on_error)
                if once:
                    return
                stop.wait(poll_seconds)
        finally:
            if store is not None:
                store.close()

    threads = [threading.Thread(target=loop, name=f"proxx-worker-{n}", daemon=True) for n in range(max(1, concurrency))]
    cores = core_share()
    if concurrency > 1:  # queued jobs will render beside the running ones: encoders may share the cores
        cores.queued = queue_watch(proxx.store.path)
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        cores.queued = nothing_queued
    return count[0]


def _say(line: str, on_error: Callable[[str], None] | None) -> None:
    if on_error is not None:
        on_error(line)
    else:
        print(f"proxx: {line}", file=sys.stderr, flush=True)


def _internal_error(home: Path, error: Exception) -> str:
    """One line about a worker's own failure (never a traceback on a terminal); the traceback goes
    to PROXX_HOME/logs. Called from the `except` block that caught `error`."""
    where = ""
    with contextlib.suppress(OSError):
        logs = home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = logs / f"worker-error-{stamp}.log"
        path.write_text(traceback.format_exc(), encoding="utf-8")
        where = f"; details in {path}"
    return f"worker: internal error ({type(error).__name__}: {error}){where}"
