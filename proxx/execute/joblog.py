"""The job log (`PROXX_HOME/jobs/<id>/job.log`): proxx's own lines beside the engine's full output."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from proxx.folders import FolderRefused, open_append
from proxx.jobspec.model import utc_now
from proxx.names import safe


def append(path: Path, text: str) -> None:
    """Add a time-stamped line; a log that cannot be written (a full PROXX_HOME) never fails the job.
    The entry is made safe (`proxx.names.safe`: a file name's escape sequences are written escaped),
    and the lines of a longer entry (a list of problems, a traceback) are indented under it, so no
    name can write a line that looks like one of proxx's own. The log is never written through a link
    or into a file or folder someone else made (`proxx.folders.open_append`): a group-writable
    PROXX_HOME must not let a member point a job's log at a file of theirs to fill."""
    first, *rest = text.split("\n")
    entry = "".join([safe(first), *(f"\n    {safe(line)}" for line in rest)])
    with contextlib.suppress(OSError, FolderRefused):
        fd = open_append(path)
        try:
            os.write(fd, f"{utc_now()} {entry}\n".encode())
        finally:
            os.close(fd)
