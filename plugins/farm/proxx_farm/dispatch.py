"""The render farm as a `proxx.plugin.Dispatcher` (yielded by this plugin's `proxx_dispatchers`
hook): it owns executors that are Redis broker URLs. Celery and Redis load only when a job goes to
the farm or a farm job is followed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from proxx.plugin import ConfigurationError, Dispatcher

if TYPE_CHECKING:
    from proxx.app import Proxx
    from proxx.jobspec.model import JobSpec, SourceFile
    from proxx.roots import Roots
    from proxx.store import Store
    from proxx_farm.state import FarmState

BROKER_SCHEMES = ("redis://", "rediss://", "unix://")


class FarmDispatcher(Dispatcher):
    name = "farm"

    def owns(self, executor: str) -> bool:
        return executor.startswith(BROKER_SCHEMES)

    def configured(self) -> str | None:
        return os.environ.get("PROXX_FARM_BROKER") or None

    def submit(
        self,
        proxx: Proxx,
        intent: str,
        sources: Sequence[str | Path | SourceFile],
        output_directory: str | Path,
        executor: str,
        retry_of: str | None,
        reuse: bool,
        roots: Roots | None,
    ) -> JobSpec:
        from proxx_farm.submit import submit

        return submit(proxx, intent, sources, output_directory, executor, retry_of, reuse, roots)

    def engines(self, executor: str) -> set[str]:
        from proxx_farm.state import FarmState

        return FarmState.connect(executor).engines()

    def queue(self, proxx: Proxx, spec: JobSpec, executor: str, roots: Roots | None) -> None:
        from proxx_farm.signing import farm_key
        from proxx_farm.state import FarmState, redacted
        from proxx_farm.submit import dispatch

        farm_key(executor)  # a broker elsewhere needs the farm's key: refused before the job is stored
        state = FarmState.connect(executor)
        proxx.store.add(spec, redacted(executor), roots=roots)
        if proxx.refuse_before_dispatch(spec):  # FAILED in class B, with its result: never sent
            return
        dispatch(proxx, spec, executor, state)

    def refresh(self, store: Store, home: Path, jobs: dict[str, str]) -> list[str]:
        from proxx_farm.mirror import mirror

        return mirror(store, home, jobs)

    def cancel(self, job_id: str, executor: str) -> str | None:
        from proxx_farm.state import FarmState, connectable

        url = connectable(executor)
        if url is None:
            raise ConfigurationError(
                "farm_password_unknown",
                f"The render farm's broker {executor} needs its password: set PROXX_FARM_BROKER to its full URL.",
                {"broker": executor},
            )
        state = FarmState.connect(url, timeout=5.0)
        answer = state.cancel(job_id)
        if answer == "cancelled":
            sign_cancel(state, job_id)
        return answer


def sign_cancel(state: FarmState, job_id: str) -> None:
    """Under the farm's key, sign the end the operator's cancel gave a job still queued on the farm,
    as a worker signs its own: this machine mirrors only signed ends, and no worker will ever write
    one for a job it never started (it stayed QUEUED here, said to be ended elsewhere, for ever).
    What is signed is what this cancel wrote (`proxx.execute.cancel.BEFORE_START`), never what the
    broker holds now: anyone who reaches Redis could have changed that since."""
    from proxx.execute.cancel import BEFORE_START
    from proxx.jobspec.model import canonical_json, utc_now
    from proxx.jobspec.signing import FARM_STATE, key_from_env, seal
    from proxx.store import FAILED
    from proxx_farm.signing import KEY_VARIABLE, farm_name
    from proxx_farm.state import KEEP_SECONDS, PREFIX, SEALED

    key = key_from_env(KEY_VARIABLE)
    if key is None:  # a farm without a key: its records are mirrored as they are
        return
    ended = {"state": FAILED, "failure_class": BEFORE_START.failure_class, "reason": BEFORE_START.reason,
             "message": BEFORE_START.message, "finished_at": utc_now()}  # fmt: skip
    payload = canonical_json(ended).encode("utf-8")
    sealed = seal(FARM_STATE, job_id, farm_name(), payload, key, KEEP_SECONDS).decode("utf-8")
    state.client.hset(f"{PREFIX}job:{job_id}", SEALED, sealed)
