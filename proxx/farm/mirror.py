"""The submitting machine's view of its farm jobs: Redis states copied into its own SQLite store."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

from proxx.errors import ConfigurationError, FailureClass
from proxx.farm.state import FarmState, connectable
from proxx.result import write_json_atomically
from proxx.store import COMPLETED, FAILED, QUEUED, RUNNING, Store

log = logging.getLogger("proxx.farm")


def mirror(store: Store, home: Path, dispatched: dict[str, str]) -> None:
    """Bring every unfinished dispatched job up to its farm state. An unreachable broker leaves the
    jobs as they were (their state is unknown, not failed) and logs why."""
    by_broker: dict[str, list[str]] = defaultdict(list)
    for job_id, broker in dispatched.items():  # the farm's dispatcher hands over only its own jobs
        by_broker[broker].append(job_id)
    for broker, job_ids in by_broker.items():
        url = connectable(broker)
        if url is None:
            log.warning("The render farm's broker %s needs its password: set PROXX_FARM_BROKER to its URL.", broker)
            continue
        try:
            state = FarmState.connect(url, timeout=2.0)
        except ConfigurationError as error:
            log.warning("%s", error.message)
            continue
        for job_id in job_ids:
            state.reap(job_id)
            _apply(store, home, job_id, state.job(job_id))


def _apply(store: Store, home: Path, job_id: str, farm: dict[str, str]) -> None:
    farm_state = farm.get("state", QUEUED)
    if farm_state == QUEUED:
        return
    worker = farm.get("worker_id") or "farm"
    store.start_remote(job_id, worker, farm.get("started_at") or "")
    if farm_state == RUNNING:
        eta = farm.get("eta_seconds")
        clip = farm.get("clip_index")
        store.progress(
            job_id, float(farm.get("progress") or 0), float(eta) if eta else None, int(clip) if clip else None
        )
        return
    if farm_state not in (COMPLETED, FAILED):
        return
    job_dir = home / "jobs" / job_id
    result_path = log_path = None
    if farm.get("result"):
        result_path = job_dir / "result.json"
        write_json_atomically(result_path, json.loads(farm["result"]))
    if farm.get("log") is not None:
        log_path = job_dir / "job.log"
        log_path.write_text(farm["log"], encoding="utf-8")
    store.set_paths(
        job_id, result_path=str(result_path) if result_path else None, log_path=str(log_path) if log_path else None
    )
    cls = farm.get("failure_class")
    states = [c.get("state") for c in json.loads(farm["result"]).get("clips", [])] if farm.get("result") else []
    store.finish(
        job_id,
        farm_state,
        worker_id=worker,
        failure_class=FailureClass(cls) if cls else None,
        reason=farm.get("reason"),
        message=farm.get("message"),
        at=farm.get("finished_at") or None,  # when the farm finished it, not when it was mirrored here
        published=states.count("completed") if states else None,
        failed_clips=states.count("failed") if states else None,
    )
    if farm.get("result"):  # a re-run here of the farm's sources leaves out what it published
        result = json.loads(farm["result"])
        completed = [(c["source"], c["output"]) for c in result.get("clips", []) if c.get("state") == "completed"]
        store.remember_published(job_id, result.get("proxy_profile", ""), completed)
