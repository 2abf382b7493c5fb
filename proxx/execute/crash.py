"""A job that raised instead of finishing (a fault of proxx or of a plugin, while it was checked or
run): it ends FAILED in class C, "internal_error", its message naming the exception and the
traceback in its job log, so that no job an operator was told failed stays QUEUED for a later
worker to run. The proxies it published before stay published (the job's journal says which)."""

from __future__ import annotations

import contextlib
import traceback

from proxx.errors import ExecutionError
from proxx.execute.joblog import append
from proxx.execute.recover import published_by_journal
from proxx.execute.runner import Runner
from proxx.result import CLIP_COMPLETED, CLIP_FAILED, CLIP_NOT_RUN, ClipResult, Failure, JobResult
from proxx.store import QUEUED, RUNNING

INTERNAL_ERROR = "internal_error"


def crashed(runner: Runner, job_id: str, error: Exception) -> JobResult | None:
    """End the job `job_id` that raised `error` FAILED, from QUEUED (it raised while checked) or
    RUNNING; call it from the `except` block that caught `error`. Its result, or None when another
    process ended the job meanwhile."""
    log_path = runner.job_dir(job_id) / "job.log"
    with contextlib.suppress(Exception):  # the ending matters more than its log line
        append(log_path, f"job {job_id} stopped by an unexpected error:\n{traceback.format_exc()}")
    row = runner.store.job(job_id)
    if row.state not in (QUEUED, RUNNING):
        return None
    runner.store.set_paths(job_id, log_path=str(log_path))
    spec = runner.store.spec_unchecked(job_id)
    failure = Failure.of(
        ExecutionError(
            INTERNAL_ERROR,
            f"The job stopped on an unexpected error in proxx or one of its plugins ({type(error).__name__}: "
            f"{error}). The proxies it published are kept; retry the job for the others. An administrator "
            "finds the details in the job's log.",
            {"error": type(error).__name__},
        )
    )
    done = {i: c for i, c in published_by_journal(spec, log_path.parent).items() if c.state == CLIP_COMPLETED}
    clips = tuple(
        done.get(c.index)
        or (
            ClipResult(c.index, c.source, c.output, CLIP_FAILED, failure=failure)
            if row.started_at is not None
            else ClipResult(c.index, c.source, c.output, CLIP_NOT_RUN)
        )
        for c in spec.clips
    )
    return runner.fail(spec, row.started_at, clips, failure)  # None: it never started
