"""Writing inside an output folder that other people can write to, without following anything they
planted there (a link at `.proxx`, `ascmhl` or a file name, dangling or not).

Every step is taken from an open descriptor of the output folder: Fabric's own folders (`.proxx/`,
`ascmhl/`) are created or opened without following a link and must be this user's and writable by
no one else (nobody can then plant a name inside them); a new file is created exclusively and
without following a link, and a replaced file is written under a fresh name and renamed over the old
one within the same folder, which never follows a link either. SQLite, which opens by path, is
given the folder through its descriptor (`/proc/self/fd/<n>/...` on Linux).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
_BY_DESCRIPTOR = Path("/proc/self/fd").is_dir()


class FolderRefused(Exception):
    """A name in an output folder is not what Fabric may write through (a link, someone else's folder)."""


@contextlib.contextmanager
def opened(folder: Path) -> Iterator[int]:
    """A descriptor of the output folder itself (the folder is never reached through a final link)."""
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError as error:
        raise FolderRefused(
            f"output folder '{folder}' cannot be opened ({error.strerror}; a link is never followed)"
        ) from None
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def own_folder(parent: int, name: str, shown: Path) -> Iterator[int]:
    """`name` inside the folder `parent`, created (mode 0755) when missing, opened without following
    a link; refused unless it is this user's and no one else can write to it."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as error:
        raise FolderRefused(
            f"'{shown / name}' is not a folder Fabric can use ({error.strerror}; a link is never followed)"
        ) from None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise FolderRefused(
                f"'{shown / name}' was not made by proxx (it belongs to another user or others can write to it); "
                "nothing was written through it. Remove it, or move it away, and export again"
            )
        yield fd
    finally:
        os.close(fd)


def write_new(folder: int, name: str, data: bytes | Iterable[bytes]) -> None:
    """Create `name` in `folder` holding `data` (its bytes, or chunks of them as they are made):
    never over an existing name, never through a link. A write that fails (a full volume) removes
    what it created: a file cut short under its name (an MHL generation) would read as a whole one."""
    fd = os.open(name, _NEW_FLAGS, 0o644, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in (data,) if isinstance(data, bytes) else data:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):  # Fabric's own folder: nobody else can have put a name there
            os.unlink(name, dir_fd=folder)
        raise


def replace(folder: int, name: str, data: bytes | Iterable[bytes]) -> None:
    """Readers see the old `name` in `folder` or the whole new one: written under a fresh name, then
    renamed over it (a rename replaces a name, it never follows one)."""
    temporary = f".{name}.{secrets.token_hex(6)}.tmp"
    write_new(folder, temporary, data)
    try:
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        raise


def open_file(folder: int, name: str, flags: int) -> int:
    """`name` in `folder` opened with `flags` (plus O_NOFOLLOW), refused unless a regular file with
    no other name (a hard link could alias someone else's file)."""
    try:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644, dir_fd=folder)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        raise FolderRefused(f"'{name}' is a symbolic link; Fabric never writes or reads through one") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise FolderRefused(f"'{name}' is not a plain file of its own (a device, a FIFO or a hard link)")
    return fd


def read(folder: int, name: str) -> bytes | None:
    """The bytes of `name` in `folder` (never through a link), or None when there is none."""
    try:
        fd = open_file(folder, name, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def path_of(folder: int, fallback: Path) -> Path:
    """A path to the open `folder` that cannot be redirected (Linux), else `fallback` (a folder
    `own_folder` checked: only this user can change what is inside it)."""
    return Path(f"/proc/self/fd/{folder}") if _BY_DESCRIPTOR else fallback


def own_database(folder: int, name: str, shown: Path) -> None:
    """Before SQLite opens `name` in `folder` (it opens by name, following a link): the database is
    created here, exclusively, when missing; it and SQLite's files beside it (-wal, -shm, -journal)
    must be this user's plain files, never links, with no other name (a hard link would alias someone
    else's file). FolderRefused otherwise, naming the file."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(name, _NEW_FLAGS, 0o644, dir_fd=folder))
    for each in (name, f"{name}-wal", f"{name}-shm", f"{name}-journal"):
        try:
            fd = open_file(folder, each, os.O_RDONLY)
        except FileNotFoundError:
            continue
        except FolderRefused as refused:
            raise FolderRefused(f"'{shown / each}': {refused}") from None
        try:
            if os.fstat(fd).st_uid != os.geteuid():
                raise FolderRefused(f"'{shown / each}' belongs to another user; Fabric never writes into it")
        finally:
            os.close(fd)
