"""A job's progress: clips weighted by duration (a long clip counts for what it costs), written to
the store at most four times a second, never backwards, with an estimate of the time left."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import attrs

from proxx.store import Store


@attrs.frozen
class Progress:
    job_id: str
    fraction: float
    eta_seconds: float | None
    clip_index: int
    clips: int


class ProgressMeter:
    """Clips may render side by side: the job's fraction is the weighted sum of each clip's own."""

    def __init__(
        self, store: Store, job_id: str, weights: Sequence[float], on_progress: Callable[[Progress], None] | None
    ) -> None:
        self.store, self.job_id, self.on_progress = store, job_id, on_progress
        self.weights = list(weights)
        self.total = sum(self.weights)
        self.done = [0.0] * len(self.weights)
        self.started = time.monotonic()
        self.last_time, self.last_fraction = 0.0, 0.0
        self.lock = threading.Lock()

    def for_clip(self, position: int, clip_index: int) -> Callable[[float], None]:
        """The callback an engine reports the fraction of clip `position` (in job order) done to."""

        def report(fraction: float) -> None:
            with self.lock:
                self.done[position] = max(self.done[position], fraction)
                overall = sum(w * f for w, f in zip(self.weights, self.done, strict=True)) / self.total
                now = time.monotonic()
                if (now - self.last_time < 0.25 and fraction < 1.0) or overall < self.last_fraction:
                    return  # at most 4 writes a second, never backwards
                self.last_time, self.last_fraction = now, overall
                elapsed = now - self.started
                eta = elapsed / overall * (1 - overall) if overall > 0.01 else None
                self.store.progress(self.job_id, overall, eta, clip_index)
            if self.on_progress:
                self.on_progress(Progress(self.job_id, overall, eta, clip_index, len(self.weights)))

        return report
