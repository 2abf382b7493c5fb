"""A job's progress: clips weighted by duration (a long clip counts for what it costs), written to
the store at most four times a second, never backwards, with an estimate of the time left taken
from the encoding rate itself (progress made since the first frames were encoded, over the time
that took), so that probing and engine start-up do not inflate it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import attrs

from proxx.store import Store

log = logging.getLogger("proxx.execute")


@attrs.frozen
class Progress:
    """How far a running job is, as `Proxx.run_job(on_progress=...)` reports it.

    Fields:
      job_id: the job.
      fraction: of the whole job done, 0..1, clips weighted by their duration; never goes back.
      eta_seconds: the time left, from the encoding rate so far; None until it can be told.
      clip_index: the clip that reported last (`ClipSpec.index`); clips: how many the job has.
      clip_name: that clip's source file name ("A001C004.mov"), for the operator.
    """

    job_id: str
    fraction: float
    eta_seconds: float | None
    clip_index: int
    clips: int
    clip_name: str = ""  # the source file's name, for the operator ("3/10 A001C004.mov")


class ProgressMeter:
    """Clips may render side by side: the job's fraction is the weighted sum of each clip's own."""

    def __init__(
        self,
        store: Store,
        job_id: str,
        weights: Sequence[float],
        on_progress: Callable[[Progress], None] | None,
        names: Sequence[str] = (),
    ) -> None:
        self.store, self.job_id, self.on_progress = store, job_id, on_progress
        self.weights = list(weights)
        self.names = list(names)
        self.total = sum(self.weights)
        self.done = [0.0] * len(self.weights)
        self.reported = [False] * len(self.weights)  # whether the engine said how far each clip got
        self.last_time, self.last_fraction = 0.0, 0.0
        self.first: tuple[float, float] | None = None  # (time, fraction) of the first encoded frames
        self.lock = threading.Lock()

    def for_clip(self, position: int, clip_index: int) -> Callable[[float], None]:
        """The callback an engine reports the fraction of clip `position` (in job order) done to."""
        name = self.names[position] if position < len(self.names) else ""

        def report(fraction: float) -> None:
            with self.lock:
                self.done[position] = max(self.done[position], fraction)
                self.reported[position] = True
                overall = sum(w * f for w, f in zip(self.weights, self.done, strict=True)) / self.total
                now = time.monotonic()
                if (now - self.last_time < 0.25 and fraction < 1.0) or overall < self.last_fraction:
                    return  # at most 4 writes a second, never backwards
                self.last_time, self.last_fraction = now, overall
                eta = self._eta(now, overall)
                self.store.progress(self.job_id, overall, eta, clip_index)
            if self.on_progress:
                self._tell(Progress(self.job_id, overall, eta, clip_index, len(self.weights), name))

        return report

    def _tell(self, progress: Progress) -> None:
        """Hand `progress` to the caller's callback, from the engine's thread. A callback that raises
        (a display's bug) is told once and not called again: it never fails the render it reports on,
        nor reads as the renderer's failure."""
        callback = self.on_progress
        if callback is None:
            return
        try:
            callback(progress)
        except Exception as error:
            with self.lock:
                if self.on_progress is None:
                    return
                self.on_progress = None
            log.warning(
                "job %s: its on_progress callback raised %s: %s; the job goes on without reporting to it",
                self.job_id, type(error).__name__, error,
            )  # fmt: skip

    def reached(self, position: int) -> float | None:
        """How far clip `position` got (0..1), or None when its engine never said."""
        return self.done[position] if self.reported[position] else None

    def _eta(self, now: float, overall: float) -> float | None:
        if self.first is None:
            self.first = (now, overall)
            return None
        started, at = self.first
        rate = (overall - at) / (now - started) if now > started else 0.0
        if rate <= 0 or overall - at < 0.01:  # too little encoded yet to say
            return None
        return (1 - overall) / rate
