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
        return FarmState.connect(url, timeout=5.0).cancel(job_id)
