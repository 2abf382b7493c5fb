"""How a process's renders share the machine: how many run at once, and with how many threads each.

Clips render side by side, as many at once as the engine allows (`Engine.parallel_clips`) and the
process's render budget has room for: PROXX_PARALLEL_CLIPS, default the core count up to 4, one
budget shared by every job a `proxx worker` or `proxx serve` runs.

Encoders side by side each use every core by default and contend for them; given its share of the
cores instead (`RenderTask.threads`), each encodes more per core: measured on 2 cores with bare
ffmpeg and proxx's argument lists, 20 one-second clips two at a time took 7 % less wall time at
640x360 and 5 % less at 1080p with `-threads 1` than with ffmpeg's default. A render gets a share
only while there is other work to keep the other cores busy for as long as it renders: the other
clips of its job, those of the other jobs this process runs, or jobs still queued for a worker
running several at once. A long clip started beside a few short ones keeps every thread, else it
would finish alone on one core.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence

import attrs


@functools.cache
def render_slots(budget: int) -> threading.BoundedSemaphore:
    """The process's render budget: how many clips render at once, across all its jobs."""
    return threading.BoundedSemaphore(budget)


def parallel_budget() -> int:
    configured = os.environ.get("PROXX_PARALLEL_CLIPS")
    return max(1, int(configured) if configured else min(4, os.cpu_count() or 1))


@attrs.define
class _JobWork:
    durations: list[float]
    done: Sequence[float]  # each clip's fraction rendered (the progress meter's, read only)
    lanes: int  # how many of its clips may render at once
    waiting: set[int]
    rendering: set[int] = attrs.field(factory=set)

    def beside(self, clip: int | None = None) -> tuple[int, float]:
        """(clips that can render beside clip `clip` of this job, seconds of source they hold):
        none when its clips render one at a time. With no `clip`: beside a clip of another job."""
        if clip is not None and self.lanes < 2:
            return 0, 0.0
        seconds = sum(self.durations[p] for p in self.waiting if p != clip)
        seconds += sum(self.durations[p] * (1 - self.done[p]) for p in self.rendering if p != clip)
        clips = len((self.waiting | self.rendering) - {clip})
        return min(self.lanes if clip is None else self.lanes - 1, clips), seconds


def nothing_queued() -> bool:
    return False


class CoreShare:
    """The thread count of each render as it starts, for every job of this process."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or os.cpu_count() or 1
        self._jobs: dict[str, _JobWork] = {}
        self._lock = threading.Lock()
        # Whether more jobs wait to run beside the running ones: set by a worker running several.
        self.queued: Callable[[], bool] = nothing_queued

    def add_job(self, job_id: str, durations: Sequence[float], done: Sequence[float], lanes: int) -> None:
        """A job starts rendering: `durations` of its clips in job order, `done` each clip's fraction
        rendered so far, `lanes` of them at most rendering at once."""
        with self._lock:
            self._jobs[job_id] = _JobWork(list(durations), done, lanes, set(range(len(durations))))

    def remove_job(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def start(self, job_id: str, position: int, budget: int) -> int | None:
        """Clip `position` of `job_id` starts rendering in a process rendering at most `budget`
        clips at once: its thread count, or None for the engine's default."""
        with self._lock:
            work = self._jobs[job_id]
            work.waiting.discard(position)
            clips, seconds = work.beside(position)
            for other_id, other in self._jobs.items():
                if other_id != job_id:
                    more, longer = other.beside()
                    clips, seconds = clips + more, seconds + longer
            work.rendering.add(position)
            duration = work.durations[position]
        queued = budget >= 2 and self.queued()
        lanes = budget if queued else min(budget, 1 + clips)
        share = self.cores // lanes
        if lanes < 2 or share < 1 or not (queued or seconds >= duration * (lanes - 1)):
            return None
        return share

    def end(self, job_id: str, position: int) -> None:
        """Clip `position` of `job_id` rendered (or failed, or was never rendered)."""
        with self._lock:
            work = self._jobs.get(job_id)
            if work is not None:
                work.waiting.discard(position)
                work.rendering.discard(position)


@functools.cache
def core_share() -> CoreShare:
    """The process's core share, across all its jobs."""
    return CoreShare()
