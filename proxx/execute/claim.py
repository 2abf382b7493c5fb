"""The one way a job is taken and run, by `proxx worker`, `Proxx.run_job` and a farm worker alike:
reserved through the runner's lease (QUEUED, being checked), the lease kept while the runner checks
and runs it (`Runner.run`: RUNNING only once its checks passed). A job just created is checked the
same way, reserved from its creation (`check_created`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from proxx.errors import JobValidationError
from proxx.execute.crash import crashed
from proxx.execute.runner import Runner
from proxx.jobspec.model import JobSpec
from proxx.result import JobResult


def claim_and_run(runner: Runner, job_id: str | None = None) -> tuple[str, JobResult | None] | None:
    """Reserve `job_id` (or the oldest job free to take) through `runner.lease`, keep the lease while
    the job is checked and run, and return its id with its result (None: it was cancelled while it
    was checked). None when there was nothing to take (taken before, cancelled, none queued). Whatever the
    job raises ends it FAILED (`proxx.execute.crash`), so that no job an operator was told failed is left
    QUEUED for a later worker to run."""
    reserved = runner.lease.reserve(job_id)
    if reserved is None:
        return None
    with runner.lease.keep(reserved):
        try:
            return reserved, runner.run(reserved)
        except Exception as error:  # a fault of proxx or a plugin: the job ends FAILED, never stays QUEUED
            return reserved, crashed(runner, reserved, error)


def check_created(runner: Runner, spec: JobSpec, check: Callable[[], Sequence[JobValidationError]]) -> None:
    """Check a job just stored reserved for `runner` (`Store.add(reserved_by=...)`), its lease kept:
    FAILED in class B on any problem `check` finds (or FAILED if it raises), else freed for any
    worker to take. No worker of the store sees it QUEUED and free before its checks passed."""
    with runner.lease.keep(spec.job_id):
        try:
            problems = check()
        except Exception as error:  # a fault of proxx or a plugin: the job ends FAILED, never left QUEUED to run
            crashed(runner, spec.job_id, error)
            return
        if problems:
            runner.refuse(spec, problems)
            return
    runner.store.release(runner.worker_id, spec.job_id)
