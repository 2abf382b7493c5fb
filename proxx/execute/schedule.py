"""How a job's clips share the machine: how many render at once, and with how many threads each.

Clips render side by side, as many at once as the engine allows (`Engine.parallel_clips`) and the
process's render budget has room for: PROXX_PARALLEL_CLIPS, default the core count up to 4, one
budget shared by every job a `proxx worker` or `proxx serve` runs.

Encoders side by side each use every core by default and contend for them; given its share of the
cores instead (`RenderTask.threads`), each encodes more per core: measured on 2 cores, 20 one-second
clips two at a time took 7 % less wall time at 640x360 and 5 % less at 1080p with one thread each
than with ffmpeg's default (benchmarks/batch.py). A share is only given while there is other work to
keep the other cores busy for as long as the clip renders: a long clip started beside a few short
ones keeps every thread, else it would finish alone on one core.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence


@functools.cache
def render_slots(budget: int) -> threading.BoundedSemaphore:
    """The process's render budget: how many clips render at once, across all its jobs."""
    return threading.BoundedSemaphore(budget)


def parallel_budget() -> int:
    configured = os.environ.get("PROXX_PARALLEL_CLIPS")
    return max(1, int(configured) if configured else min(4, os.cpu_count() or 1))


class CoreShare:
    """The thread count for each clip of one job as it starts rendering."""

    def __init__(self, durations: Sequence[float], lanes: int, done: Sequence[float], cores: int | None = None) -> None:
        """`durations` of the clips in job order, `lanes` of them rendering at once, `done`: each
        clip's fraction rendered so far (read, never written: the progress meter's)."""
        self.durations, self.lanes, self.done = list(durations), lanes, done
        self.cores = cores or os.cpu_count() or 1
        self.waiting = set(range(len(self.durations)))
        self.rendering: set[int] = set()
        self._lock = threading.Lock()

    def start(self, position: int) -> int | None:
        """Clip `position` starts rendering: its thread count, or None for the engine's default."""
        with self._lock:
            self.waiting.discard(position)
            others = sum(self.durations[p] for p in self.waiting)
            others += sum(self.durations[p] * (1 - self.done[p]) for p in self.rendering)
            self.rendering.add(position)
        share = self.cores // self.lanes
        if self.lanes < 2 or share < 1 or others < self.durations[position] * (self.lanes - 1):
            return None
        return share

    def end(self, position: int) -> None:
        """Clip `position` rendered (or failed, or was never rendered)."""
        with self._lock:
            self.waiting.discard(position)
            self.rendering.discard(position)
