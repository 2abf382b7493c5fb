"""The job store as a shell opens it: brought up to date first. Jobs whose worker was lost are marked
FAILED with their result written (`proxx.execute.recover`), and jobs dispatched elsewhere (to the
render farm plugin) are mirrored through the plugins' dispatchers (`proxx.dispatch`). The commands
that only read or mark jobs (`proxx jobs list|show|hide|clean`) open the store here and load no plugin
and no profile: recovery and the dispatchers are loaded only when a job needs them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from proxx.store import Store

if TYPE_CHECKING:
    from proxx.dispatch import Dispatcher


def open_store(home: Path) -> Store:
    """The job store of `home`, brought up to date."""
    store = Store.at(home)
    lost = store.reap_lost()
    if lost:
        from proxx.execute.recover import recover_lost

        recover_lost(store, home, lost)
    refresh(store, home)
    return store


def refresh(store: Store, home: Path, dispatchers: dict[str, Dispatcher] | None = None) -> list[str]:
    """Mirror into `store` the states, progress and results of jobs dispatched elsewhere, through the
    plugins' dispatchers (`dispatchers`, or the process's plugins, loaded only when the store holds
    such jobs). Returns (and keeps as `store.refresh_problems`) why some could not be refreshed, a
    dispatcher not installed here among them."""
    dispatched = store.dispatched()
    problems: list[str] = []
    if dispatched:
        from proxx.dispatch import not_installed

        if dispatchers is None:
            from proxx.pluginmanager import plugin_manager

            dispatchers = plugin_manager().dispatchers()
        by_dispatcher: dict[str, tuple[Dispatcher, dict[str, str]]] = {}
        unowned: set[str] = set()
        for job_id, executor in dispatched.items():
            dispatcher = next((d for d in dispatchers.values() if d.owns(executor)), None)
            if dispatcher is None:
                unowned.add(executor)
            else:
                by_dispatcher.setdefault(dispatcher.name, (dispatcher, {}))[1][job_id] = executor
        problems += [not_installed(executor).message for executor in sorted(unowned)]
        for dispatcher, jobs in by_dispatcher.values():
            problems += dispatcher.refresh(store, home, jobs)
    store.refresh_problems = problems
    return problems
