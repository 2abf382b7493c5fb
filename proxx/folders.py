"""Writing inside a folder that other people can write to (a JobSpec inbox, an OpenJD export
folder), without following anything they planted there: proxx's own sub-folder in it (the inbox's
`queued/` and `failed/`, an export's `jobspecs/`) is created or opened from the folder's descriptor
without following a link, and must be this user's and writable by no one else, so nobody can plant
a name inside it; a new file in it is created exclusively, never through a link, and a file that
must appear whole (an export's template) is hard-linked into place, never renamed over a name.

PROXX_HOME may be group-writable (a studio's umask 002): a job's folder is this user's own
(`job_folder`), its log and journal are appended to only as this user's plain files (`open_append`),
its records are read only from them (`read_own`), and SQLite's files are checked before SQLite opens
them by name (`own_database`). (Publishing proxies has its own steps, `proxx.execute.publish`;
Fabric, which uses the public API only, its own.)
"""

from __future__ import annotations

import contextlib
import errno
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


def _refuse_unless_own_file(fd: int, shown: Path) -> None:
    """A file opened without following a link must be a regular file of this user's with no other
    name (a hard link to someone else's file would be written through)."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_nlink != 1:
        os.close(fd)
        raise FolderRefused(
            f"'{shown}' is not a file proxx made (a device, another user's file or a hard link); "
            "nothing was written through it. Remove it, or move it away"
        )


def _own_parent(path: Path) -> int:
    """The folder holding `path`, opened without following a link, refused unless it is this user's."""
    try:
        fd = os.open(path.parent, _DIR_FLAGS)
    except OSError as error:
        raise FolderRefused(
            f"'{path.parent}' is not a folder proxx can use ({error.strerror}; a link is never followed)"
        ) from None
    if os.fstat(fd).st_uid != os.geteuid():
        os.close(fd)
        raise FolderRefused(
            f"'{path.parent}' was not made by proxx (it belongs to another user); nothing was written through it"
        )
    return fd


def open_append(path: Path) -> int:
    """`path` (in a folder of PROXX_HOME: a job's log or journal) opened for appending: created
    exclusively when missing, else opened without following a link; refused (FolderRefused) unless
    its folder and itself are this user's, it is a regular file and has no other name."""
    folder = _own_parent(path)
    try:
        try:
            fd = os.open(
                path.name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder
            )
        except FileExistsError:
            fd = os.open(path.name, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        raise FolderRefused(f"'{path}' is a symbolic link; proxx never writes through one") from None
    finally:
        os.close(folder)
    _refuse_unless_own_file(fd, path)
    return fd


def read_own(path: Path) -> bytes | None:
    """The bytes of `path` (in a folder of PROXX_HOME), or None when there is none or it is not this
    user's own regular file in a folder of this user's (a link is never followed): what someone
    else put there is never taken for proxx's record."""
    fd = open_own(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def open_own(path: Path) -> int | None:
    """`path` opened for reading as `read_own` reads it (its descriptor), or None."""
    try:
        folder = _own_parent(path)
    except FolderRefused:
        return None
    try:
        fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        _refuse_unless_own_file(fd, path)  # closes `fd` when it refuses
    except FolderRefused:
        return None
    return fd


def job_folder(home: Path, job_id: str) -> Path:
    """PROXX_HOME/jobs/<job_id>, made when missing: `jobs/` and the job's folder are never links, and
    the job's folder must be this user's (and is made writable by no one else), so nobody sharing a
    group-writable PROXX_HOME can prepare a job's folder, or a link in it, before the job writes there.
    Raises FolderRefused, OSError (PROXX_HOME full)."""
    home.mkdir(parents=True, exist_ok=True)
    top = os.open(home, os.O_RDONLY | os.O_DIRECTORY)  # the administrator's own path
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir("jobs", 0o755, dir_fd=top)
        try:
            jobs = os.open("jobs", _DIR_FLAGS, dir_fd=top)
        except OSError as error:
            raise FolderRefused(
                f"'{home / 'jobs'}' is not a folder proxx can use ({error.strerror}; a link is never followed)"
            ) from None
        try:
            with own_folder(jobs, job_id, home / "jobs"):
                pass
        finally:
            os.close(jobs)
    finally:
        os.close(top)
    return home / "jobs" / job_id


def own_database(path: Path) -> None:
    """Before SQLite opens `path` (which it does by name, following links): the database is created
    here, exclusively, when missing; it, and any of SQLite's files beside it (-wal, -shm, -journal),
    must be this user's regular files with no other name, never links (the folder, PROXX_HOME, is the
    administrator's path). Raises FolderRefused: a group-writable PROXX_HOME must not let a member
    point proxx's store at a file of someone else's, or give it a store of theirs."""
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder))
        for name in (path.name, *(path.name + suffix for suffix in ("-wal", "-shm", "-journal"))):
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
            except FileNotFoundError:
                continue
            except OSError as error:
                if error.errno != errno.ELOOP:
                    raise
                raise FolderRefused(f"'{path.parent / name}' is a symbolic link; proxx never opens one") from None
            _refuse_unless_own_file(fd, path.parent / name)
            os.close(fd)
    finally:
        os.close(folder)


def link_new(folder: int, name: str, data: bytes) -> None:
    """`name` in `folder`, holding the whole of `data` as soon as it appears: written under a fresh
    temporary name (created exclusively, never through a link), then hard-linked to `name`, which never
    replaces an existing name nor follows a link (FileExistsError when `name` is taken; a rename, by
    contrast, replaces). The temporary name is removed either way."""
    temporary = f".{name}.{os.urandom(6).hex()}.tmp"
    write_new(folder, temporary, data)
    try:
        os.link(temporary, name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
    finally:
        os.unlink(temporary, dir_fd=folder)
