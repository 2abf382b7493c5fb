"""`proxx worker`: drain the job queue, N jobs at a time (one thread and one database connection
each; the encoding itself runs in engine processes)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from proxx.app import Proxx, default_worker_id
from proxx.execute.claim import claim_and_run
from proxx.execute.recover import recover_lost
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
) -> int:
    """Run queued jobs until the queue is empty (`once`) or `stop` is set. Returns jobs run."""
    stop = stop or threading.Event()
    count = [0]
    lock = threading.Lock()

    def loop() -> None:
        store = Store(proxx.store.path)
        runner = proxx.runner(worker_id=default_worker_id(), store=store)
        try:
            while not stop.is_set():
                recover_lost(store, proxx.home, store.reap_lost())
                taken = claim_and_run(runner)
                if taken is None:
                    if once:
                        return
                    stop.wait(poll_seconds)
                    continue
                result = taken[1]
                if result is None:  # cancelled while it was checked: nothing ran here
                    continue
                with lock:
                    count[0] += 1
                if on_done:
                    on_done(result)
        finally:
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
