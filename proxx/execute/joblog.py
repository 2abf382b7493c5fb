"""The job log (`PROXX_HOME/jobs/<id>/job.log`): proxx's own lines beside the engine's full output."""

from __future__ import annotations

import contextlib
from pathlib import Path

from proxx.jobspec.model import utc_now


def append(path: Path, text: str) -> None:
    """Add a time-stamped line; a log that cannot be written (a full PROXX_HOME) never fails the job."""
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{utc_now()} {text}\n")
