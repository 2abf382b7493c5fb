"""PROXX_HOME: where proxx keeps its store, logs, results and caches (default: the per-user data
folder)."""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from proxx.errors import ConfigurationError
from proxx.folders import read_own

#: The job store's file name under PROXX_HOME.
STORE_FILE = "proxx.db"


def home_path() -> Path:
    """PROXX_HOME (default: the per-user data folder), which need not exist: for what only reads
    it (`proxx validate` in a CI job whose PROXX_HOME cannot be written)."""
    configured = os.environ.get("PROXX_HOME")
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # only here: importing it costs ~2 ms of every start-up

    return Path(platformdirs.user_data_dir("proxx"))


def proxx_home() -> Path:
    """PROXX_HOME (default: the per-user data folder), created if missing: a ConfigurationError
    (reason "home_unusable") when it cannot be."""
    home = home_path()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # under a file, a read-only disk, another user's folder: the installation's fault
        raise home_unusable(home, error.strerror or str(error)) from None
    return home


def home_unusable(home: Path, why: str) -> ConfigurationError:
    """PROXX_HOME read-only, full, or not a folder: said as that, not as an internal error."""
    return ConfigurationError(
        "home_unusable",
        f"PROXX_HOME '{home}' cannot be used ({why}): it must be a folder proxx can write to, on a volume "
        "with free space.",
        {"path": str(home)},
    )


def file_stamp(file: Path) -> list[int] | None:
    """What changes when a file is replaced or rewritten: size, modification time, inode, and its
    change time (which no one can set back: a rewrite of the same size whose modification time was
    put back, by `cp -p`, `touch -r` or a restore, changes it too)."""
    try:
        stat = file.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns]


# A list of this many items is written an item at a time wherever it lies in the document.
LONG_LIST = 256


def json_pieces(document: Any, indent: int | None = None) -> Iterator[str]:
    """The text `json.dumps(document, ensure_ascii=False, indent=indent)` makes, in pieces: the members
    of a dict and the items of a list, down to the items of a list inside the document's dict, and
    down to the items of any long list deeper (`LONG_LIST`: an exporter's details of every clip), are
    each encoded by `json.dumps` on its own (without indent, the C encoder), so a document of
    megabytes is never one string. An iterator is written as a list whose items are made only as
    they are written (a 1,000-clip result's clips: each unstructured, encoded and let go in turn)."""
    yield from _pieces(document, indent, 0)


def _holds_long_list(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) >= LONG_LIST
    return isinstance(value, dict) and any(_holds_long_list(item) for item in value.values())


def _pieces(value: Any, indent: int | None, depth: int) -> Iterator[str]:
    if (
        (depth > 1 and not _holds_long_list(value))
        or not isinstance(value, (dict, list, tuple, Iterator))
        or (isinstance(value, dict) and not all(isinstance(key, str) for key in value))  # json.dumps converts them
    ):
        text = json.dumps(value, ensure_ascii=False, indent=indent)
        # A string never holds a raw line break (JSON escapes it): each one is the indent's.
        yield text if indent is None or depth == 0 else text.replace("\n", "\n" + " " * (indent * depth))
        return
    members: Iterator[tuple[str | None, Any]]
    if isinstance(value, dict):
        members, opening, closing = iter(value.items()), "{", "}"
    else:
        members, opening, closing = ((None, item) for item in value), "[", "]"
    first = next(members, None)
    if first is None:
        yield opening + closing
        return
    inner = "" if indent is None else "\n" + " " * (indent * (depth + 1))
    yield opening + inner
    for n, (key, item) in enumerate(itertools.chain([first], members)):
        if n:
            yield ("," if indent is not None else ", ") + inner
        if key is not None:
            yield json.dumps(key, ensure_ascii=False) + ": "
        yield from _pieces(item, indent, depth + 1)
    yield ("" if indent is None else "\n" + " " * (indent * depth)) + closing


def write_json_atomically(path: Path, document: Any, *, sync: bool = True) -> None:
    """Replace `path` with `document` as JSON (`json.dumps(document, ensure_ascii=False)`'s bytes,
    made and written in pieces by `json_pieces`), so that readers see the old file or the whole new
    one, never a part (`write_text_atomically`)."""
    write_text_atomically(path, json_pieces(document), sync=sync)


def write_text_atomically(path: Path, pieces: Iterable[str], *, sync: bool = True) -> None:
    """Replace `path` with the text of `pieces` (UTF-8, each piece written as it is made: a result
    JSON of 1,000 clips is several MB, and held whole, as text and then bytes, it was the job's peak
    memory), so that readers see the old file or the whole new one, never a part. The folder is opened
    once without following a link; the temporary file is created in it through that descriptor,
    exclusively and never through a link (someone who may write the folder cannot redirect the
    write), then renamed over `path` through the same descriptor. `sync`: on disk (fsync) before the
    rename, for records; a cache skips it. The folder must be this user's (else PermissionError): a
    job's folder another member of a group-writable PROXX_HOME made is never written into."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        if os.fstat(folder).st_uid != os.geteuid():
            raise PermissionError(
                errno.EPERM, f"'{path.parent}' belongs to another user; proxx writes only into its own folders"
            )
        temporary = f".{path.name}.{os.urandom(8).hex()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                for piece in pieces:
                    handle.write(piece)
                if sync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temporary, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def read_cache(path: Path) -> Any:
    """The JSON document of a file proxx keeps under PROXX_HOME (a cache, a memory), or None when
    there is none, it does not parse, or it is not proxx's own (`proxx.folders.read_own`: a file
    another member of a group-writable PROXX_HOME put there, or a link, is never taken for proxx's
    record: a planted profile cache changed what intents compiled to)."""
    data = read_own(path)
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def write_cache(path: Path, document: object) -> None:
    """Replace a cache file (`write_json_atomically`, no fsync); best effort, as a cache that cannot be
    written only costs speed."""
    with contextlib.suppress(OSError):
        write_json_atomically(path, document, sync=False)


def remembered(kind: str, file: Path, compute: Callable[[], str]) -> str:
    """`compute()`, a fact about `file` (e.g. a binary's version), kept in PROXX_HOME/cache/<kind>.json
    until the file changes."""
    cache = proxx_home() / "cache" / f"{kind}.json"
    stored = read_cache(cache)
    facts: dict[str, dict[str, object]] = stored if isinstance(stored, dict) else {}
    stamp = file_stamp(file)
    known = facts.get(str(file), {})
    if stamp is not None and known.get("stamp") == stamp and isinstance(known.get("value"), str):
        return str(known["value"])
    value = compute()
    if stamp is not None:
        write_cache(cache, {**facts, str(file): {"stamp": stamp, "value": value}})
    return value
