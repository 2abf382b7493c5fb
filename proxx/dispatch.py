"""Jobs that run elsewhere. A `Dispatcher` sends a stored JobSpec to an executor (the render farm
plugin's: a broker URL) and mirrors what happens there into the local store, so such jobs list like
local ones. Dispatchers are plugins' records, yielded by the `proxx_dispatchers` hook and collected
like engines and exporters (API version, trace, one name each): the core knows only this interface
and never imports a dispatcher's package."""

from __future__ import annotations

import abc
import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from proxx.errors import ConfigurationError

if TYPE_CHECKING:
    from proxx.app import Proxx
    from proxx.jobspec.model import JobSpec, SourceFile
    from proxx.roots import Roots
    from proxx.store import Store

# What an operator installs to send jobs to a render farm, and the setting that names one: a job
# meant for the farm never quietly runs here because the plugin is missing.
FARM_DISTRIBUTION = "proxx-farm"
FARM_SETTING = "PROXX_FARM_BROKER"


class Dispatcher(abc.ABC):
    """Where jobs go when they do not run on this machine, yielded by the `proxx_dispatchers` hook.

    `name` identifies it (in messages and traces; two plugins with one name is a start-up error).
    `executor` strings are what the job store records for a dispatched job (a broker URL without its
    password, say); each dispatcher says which are its own (`owns`).
    """

    name: str

    @abc.abstractmethod
    def owns(self, executor: str) -> bool:
        """Whether `executor` (as the store records it) is this dispatcher's."""

    @abc.abstractmethod
    def configured(self) -> str | None:
        """The executor submissions go to when none is named (e.g. from a setting), or None."""

    @abc.abstractmethod
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
        """Create the job (`Proxx.create_job` with `executor`: class A errors create nothing) and
        queue it on `executor`."""

    def engines(self, executor: str) -> Collection[str]:
        """The engines the workers behind `executor` take jobs for now. A JobSpec from the inbox for
        `executor` is refused (class A) unless its engine is one of these or installed here, as a job
        no worker takes would wait for ever. By default none is known."""
        return ()

    @abc.abstractmethod
    def queue(self, proxx: Proxx, spec: JobSpec, executor: str, roots: Roots | None) -> None:
        """Store a JobSpec made elsewhere (the JobSpec inbox's) as a job of `executor` and queue it there."""

    @abc.abstractmethod
    def refresh(self, store: Store, home: Path, jobs: dict[str, str]) -> list[str]:
        """Mirror the states, progress and results of `jobs` ({job id: executor}) into `store`; no job
        is left QUEUED or RUNNING for ever. Returns why some could not be refreshed (an executor that
        cannot be reached): their states are the last known."""

    @abc.abstractmethod
    def cancel(self, job_id: str, executor: str) -> str | None:
        """The operator's cancel of a job on `executor`: "cancelled" (it had not started, and never
        will), "requested" (it runs; its worker stops it and ends it FAILED), or None (it is neither)."""


def not_installed(executor: str) -> ConfigurationError:
    """No installed plugin sends jobs to `executor` (or to the farm a setting names)."""
    return ConfigurationError(
        "dispatcher_not_installed",
        f"No installed plugin sends jobs to '{executor}'. The render farm is a plugin of its own: "
        f"pip install {FARM_DISTRIBUTION}.",
        {"executor": executor, "distribution": FARM_DISTRIBUTION},
    )


def dispatcher_for(dispatchers: Iterable[Dispatcher], executor: str) -> Dispatcher:
    """The dispatcher that owns `executor`; ConfigurationError saying what to install when none does."""
    found = next((d for d in dispatchers if d.owns(executor)), None)
    if found is None:
        raise not_installed(executor)
    return found


def configured(dispatchers: Iterable[Dispatcher]) -> tuple[Dispatcher, str] | None:
    """The dispatcher and executor submissions go to by default, if any is configured. A farm named
    by its setting with no plugin to reach it is an error, not a job run here instead."""
    for dispatcher in dispatchers:
        executor = dispatcher.configured()
        if executor:
            return dispatcher, executor
    if os.environ.get(FARM_SETTING):
        raise ConfigurationError(
            "dispatcher_not_installed",
            f"{FARM_SETTING} names a render farm, but the render farm plugin is not installed: pip install "
            f"{FARM_DISTRIBUTION} (or unset {FARM_SETTING} to queue jobs for local workers).",
            {"setting": FARM_SETTING, "distribution": FARM_DISTRIBUTION},
        )
    return None
