"""The job store as a shell opens it: brought up to date first. Jobs whose worker was lost are marked
FAILED with their result written (`proxx.execute.recover`), and jobs dispatched elsewhere (the render
farm) are mirrored (`proxx.dispatch`). The commands that only read or mark jobs (`proxx jobs
list|show|hide|clean`) open the store here and load no plugin and no profile: recovery and the
dispatchers are imported only when a job needs them."""

from __future__ import annotations

from pathlib import Path

from proxx.store import Store


def open_store(home: Path) -> Store:
    """The job store of `home`, brought up to date."""
    store = Store.at(home)
    lost = store.reap_lost()
    if lost:
        from proxx.execute.recover import recover_lost

        recover_lost(store, home, lost)
    refresh(store, home)
    return store


def refresh(store: Store, home: Path) -> list[str]:
    """Mirror into `store` the states, progress and results of jobs dispatched elsewhere. Returns
    (and keeps as `store.refresh_problems`) why some could not be refreshed."""
    dispatched = store.dispatched()
    problems: list[str] = []
    if dispatched:
        from proxx.dispatch import Dispatcher, dispatcher_for

        by_dispatcher: dict[int, tuple[Dispatcher, dict[str, str]]] = {}
        for job_id, executor in dispatched.items():
            dispatcher = dispatcher_for(executor)
            if dispatcher is not None:
                by_dispatcher.setdefault(id(dispatcher), (dispatcher, {}))[1][job_id] = executor
        for dispatcher, jobs in by_dispatcher.values():
            problems += dispatcher.refresh(store, home, jobs)
    store.refresh_problems = problems
    return problems
