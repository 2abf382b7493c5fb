"""A clip's outcome in a job's result (`proxx.result.ClipResult.state`), importable without the
result's records: `proxx jobs show` prints result documents."""

from __future__ import annotations

import enum


class ClipState(enum.StrEnum):
    """A clip's outcome in its `ClipResult.state`, a str enum like the job's `JobState`: "completed"
    (verified and published), "failed", or "not_run" (the job stopped before it)."""

    COMPLETED = "completed"
    FAILED = "failed"
    NOT_RUN = "not_run"


CLIP_COMPLETED, CLIP_FAILED, CLIP_NOT_RUN = ClipState.COMPLETED, ClipState.FAILED, ClipState.NOT_RUN
