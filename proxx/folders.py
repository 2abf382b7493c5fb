"""Writing inside a folder that other people can write to (a JobSpec inbox, an OpenJD export
folder), without following anything they planted there: proxx's own sub-folder in it (the inbox's
`queued/` and `failed/`, an export's `jobspecs/`) is created or opened from the folder's descriptor
without following a link, and must be this user's and writable by no one else, so nobody can plant
a name inside it; a new file in it is created exclusively, never through a link. (Publishing
proxies has its own steps, `proxx.execute.publish`; Fabric, which uses the public API only, its own.)
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class FolderRefused(Exception):
    """A name in a shared folder is not what proxx may write through (a link, someone else's folder)."""


@contextlib.contextmanager
def own_folder(parent: int, name: str, shown: Path) -> Iterator[int]:
    """`name` inside the folder `parent`, created (mode 0755) when missing, opened without following
    a link; refused unless it is this user's, and then made writable by no one else (a folder of an
    earlier version, made under a umask of 002, is closed to its group)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as error:
        raise FolderRefused(
            f"'{shown / name}' is not a folder proxx can use ({error.strerror}; a link is never followed)"
        ) from None
    try:
        info = os.fstat(fd)
        others_write = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if info.st_uid == os.geteuid() and others_write:  # this user's, made under a umask of 002: closed now
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~(stat.S_IWGRP | stat.S_IWOTH))
        elif info.st_uid != os.geteuid():
            raise FolderRefused(
                f"'{shown / name}' was not made by proxx (it belongs to another user); nothing was written "
                "through it. Remove it, or move it away, and try again"
            )
        yield fd
    finally:
        os.close(fd)


def write_new(folder: int, name: str, data: bytes) -> None:
    """Create `name` in `folder` holding `data`: never over an existing name, never through a link."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
