"""Submitting to the farm: the job is created as usual, then its whole JobSpec goes on its engine's queue."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from proxx.errors import ConfigurationError, FailureClass
from proxx.execute.joblog import append
from proxx.execute.recover import recovered_result, write_recovered
from proxx.jobspec.model import JobSpec, SourceFile
from proxx.jobspec.signing import FARM_TASK, seal
from proxx.result import Failure
from proxx.roots import Roots
from proxx.store import FAILED
from proxx_farm.signing import farm_key, farm_name, task_seconds
from proxx_farm.state import FarmState, connectable, redacted

if TYPE_CHECKING:
    from proxx.app import Proxx


def submit(
    proxx: Proxx,
    intent: str,
    sources: Sequence[str | Path | SourceFile],
    output_directory: str | Path,
    broker: str,
    retry_of: str | None = None,
    reuse: bool = False,
    roots: Roots | None = None,
) -> JobSpec:
    """Create a job for the farm at `broker` and queue it there. An unreachable broker is a
    configuration error before anything is created; class A errors create nothing, as always. A job
    the checks that do not depend on the worker refuse (`Proxx.refuse_before_dispatch`) ends FAILED
    in class B at once and is never sent, as a local job would."""
    url = connectable(broker)  # a retry passes the broker as stored, password redacted
    if url is None:
        raise ConfigurationError(
            "farm_password_unknown",
            f"The render farm's broker {broker} needs its password: set PROXX_FARM_BROKER to its full URL.",
            {"broker": broker},
        )
    farm_key(url)  # a broker elsewhere without the farm's key: refused before anything is created
    state = FarmState.connect(url)
    # The store keeps the broker without its password: a job store is no place for credentials.
    # An engine some farm worker takes is as good as one installed here (e.g. Resolve, on a
    # workstation without it).
    spec = proxx.create_job(
        intent, sources, output_directory, retry_of, reuse, executor=redacted(url),
        engines={*proxx.engines, *state.engines()}, roots=roots,
    )  # fmt: skip
    if proxx.store.job(spec.job_id).state == FAILED:  # refused in class B before it was sent, as locally
        return spec
    dispatch(proxx, spec, url, state)
    return spec


def dispatch(proxx: Proxx, spec: JobSpec, broker: str, state: FarmState, spec_json: str | None = None) -> None:
    """Put a stored JobSpec on its engine's queue. `spec_json` is what travels (default: the stored
    JSON); the digest is always the stored one, which the worker checks it against. A broker that
    refuses it (gone, read-only, full) ends the job FAILED in class B with its result, nothing run,
    and is a ConfigurationError saying so."""
    from proxx_farm.app import TASK_NAME, app_for, queue_for

    store = proxx.store
    digest = store.stored_digest(spec.job_id)
    farm = redacted(broker)
    sent = spec_json or spec.to_json()
    key = farm_key(broker)
    if key is not None:  # signed for this job, this farm and a limited time (`proxx.jobspec.signing`)
        sent = seal(FARM_TASK, spec.job_id, farm_name(), sent.encode("utf-8"), key, task_seconds()).decode("utf-8")
    try:
        state.queued(spec.job_id, spec.engine)
        app_for(broker).send_task(TASK_NAME, args=[sent, digest, None], queue=queue_for(spec.engine))
    except Exception as error:
        why = str(error).rstrip(". ")
        message = f"The job could not be queued on the render farm {farm}: {why}. Nothing was executed."
        failure = Failure(FailureClass.VALIDATION.value, "farm_unreachable", message)
        log_path = proxx.home / "jobs" / spec.job_id / "job.log"
        append(log_path, message)
        result = recovered_result(spec, digest, failure, {}, None, None, str(log_path))
        written = write_recovered(log_path.parent, result)
        store.set_paths(spec.job_id, log_path=str(log_path), result_path=str(written) if written else None)
        store.finish(spec.job_id, FAILED, failure_class=FailureClass.VALIDATION, reason=failure.reason, message=message)
        raise ConfigurationError(failure.reason, message, {"broker": farm, "job_id": spec.job_id}) from error
