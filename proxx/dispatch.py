"""Jobs that run elsewhere. A `Dispatcher` sends a stored JobSpec to an executor (proxx's render
farm: a broker URL) and mirrors what happens there into the local store, so such jobs list like local
ones. The facade (`proxx.Proxx`) knows only this interface: dispatchers are found through the
entry-point group `proxx.dispatchers` (proxx declares its farm's there), so the core never imports
the farm, and a facility may declare its own scheduler the same way."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from proxx.plugins import entry_points

if TYPE_CHECKING:
    from proxx.app import Proxx
    from proxx.jobspec.model import JobSpec, SourceFile
    from proxx.roots import Roots
    from proxx.store import Store

DISPATCHER_GROUP = "proxx.dispatchers"


class Dispatcher(Protocol):
    """Where jobs go when they do not run on this machine."""

    def owns(self, executor: str) -> bool:
        """Whether `executor` (as the store records it: a broker URL without its password) is this
        dispatcher's."""
        ...

    def configured(self) -> str | None:
        """The executor submissions go to when none is named (e.g. PROXX_FARM_BROKER), or None."""
        ...

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
        """Create the job (class A errors create nothing) and queue it on `executor`."""
        ...

    def refresh(self, store: Store, home: Path, jobs: dict[str, str]) -> list[str]:
        """Mirror the states, progress and results of `jobs` ({job id: executor}) into `store`; no job
        is left QUEUED or RUNNING for ever. Returns why some could not be refreshed (an executor that
        cannot be reached): their states are the last known."""
        ...

    def cancel(self, job_id: str, executor: str) -> str | None:
        """The operator's cancel of a job on `executor`: "cancelled" (it had not started, and never
        will), "requested" (it runs; its worker stops it and ends it FAILED), or None (it is neither)."""
        ...


@functools.cache
def dispatchers() -> tuple[Dispatcher, ...]:
    """Every declared dispatcher, loaded on first use (importing one costs only when jobs go out)."""
    found: list[Dispatcher] = []
    for entry_point in entry_points(DISPATCHER_GROUP):
        factory = entry_point.load()
        assert callable(factory)
        found.append(factory())
    return tuple(found)


def dispatcher_for(executor: str) -> Dispatcher | None:
    return next((d for d in dispatchers() if d.owns(executor)), None)


def configured() -> tuple[Dispatcher, str] | None:
    """The dispatcher and executor submissions go to by default, if any is configured."""
    for dispatcher in dispatchers():
        executor = dispatcher.configured()
        if executor:
            return dispatcher, executor
    return None
