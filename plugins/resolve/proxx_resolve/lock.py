"""One render at a time per Resolve: Resolve has a single current project, so a second worker's
CreateProject would switch the project under a render in progress. Workers that share PROXX_HOME
(one queue, usually one machine and one Resolve) take turns through an advisory file lock, which
the operating system releases if a worker dies. Without fcntl (Windows) there is no lock: run one
Resolve worker per machine there."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO

from proxx.plugin import proxx_home

LOCK_NAME = "resolve.lock"


@contextlib.contextmanager
def resolve_turn(log: IO[str]) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(proxx_home() / LOCK_NAME, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.write("waiting for Resolve: another proxx render is using it\n")
            log.flush()
            fcntl.flock(handle, fcntl.LOCK_EX)  # not counted in the render's deadline
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
