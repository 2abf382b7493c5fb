"""The Celery application: one task, `proxx.run_jobspec`, on one queue per engine.

Workers can also be started with Celery's own command, `celery -A proxx_farm.app worker -Q proxx.<engine>`,
configured by the environment (PROXX_FARM_BROKER, PROXX_FARM_MAP_PATHS with one FROM=TO rule a line,
PROXX_FARM_WORKER_NAME); `proxx farm worker` checks its engines, sets those and starts the same worker.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from celery import Celery, signals

from proxx_farm.state import broker_url

TASK_NAME = "proxx.run_jobspec"


def queue_for(engine: str) -> str:
    return f"proxx.{engine}"


@functools.cache
def app_for(broker: str) -> Celery:
    """One app (and so one connection pool) per broker in a submitting process."""
    return make_app(broker)


def make_app(broker: str) -> Celery:
    visibility = float(os.environ.get("PROXX_FARM_VISIBILITY_TIMEOUT", "3600"))
    app = Celery("proxx", broker=broker, set_as_current=False)
    app.conf.update(
        # At-least-once delivery: a task is acknowledged after it ran, and given back to the queue when
        # its worker process dies. The claim in Redis makes execution at-most-once (proxx_farm.state).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,  # a worker holds only the jobs it runs
        task_ignore_result=True,  # states and results live in proxx's own Redis hashes
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        # A worker waits for its broker however long it is away: Celery's default gave up after 100
        # tries (some 47 minutes), and every worker of the farm then stopped for good.
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        broker_transport_options={
            # An unacknowledged task (its worker died) is delivered again after this long; the claim
            # refuses it, and the refusing worker fails the lost job at once if its lease has expired.
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, min(10, int(visibility / 3))),
            "unacked_restore_throttle": 1,
        },
    )
    app.task(name=TASK_NAME, max_retries=0, acks_late=True, reject_on_worker_lost=True)(_run_jobspec)
    return app


def _run_jobspec(spec_json: str, digest: str, signature: str | None = None) -> str:
    from proxx_farm.worker import run_jobspec

    return run_jobspec(spec_json, digest, signature)


def _start_reaper(sender: Any = None, **_: Any) -> None:
    """Every farm worker fails lost jobs, so a dead worker's job fails within a lease and a half, and
    advertises the engines whose queues it consumes."""
    from proxx_farm.worker import reap_forever

    queues = sender.app.amqp.queues.consume_from if sender is not None else None
    served = [name.removeprefix("proxx.") for name in queues or () if name.startswith("proxx.")]
    threading.Thread(target=reap_forever, args=(served,), name="proxx-farm-reaper", daemon=True).start()


signals.worker_ready.connect(_start_reaper, weak=False)


app = make_app(broker_url())
