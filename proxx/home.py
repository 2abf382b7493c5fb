"""PROXX_HOME: where proxx keeps its store, logs, results and caches (default: the per-user data
folder)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

#: The job store's file name under PROXX_HOME.
STORE_FILE = "proxx.db"


def proxx_home() -> Path:
    """PROXX_HOME (default: the per-user data folder), created if missing."""
    configured = os.environ.get("PROXX_HOME")
    if configured:
        home = Path(configured).expanduser()
    else:
        import platformdirs  # only here: importing it costs ~2 ms of every start-up

        home = Path(platformdirs.user_data_dir("proxx"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def file_stamp(file: Path) -> list[int] | None:
    """What changes when a file is replaced or rewritten: size, modification time and inode."""
    try:
        stat = file.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def write_cache(path: Path, document: object) -> None:
    """Replace a cache file atomically; best effort, as a cache that cannot be written only costs
    speed."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(document), encoding="utf-8")
        os.replace(tmp, path)


def remembered(kind: str, file: Path, compute: Callable[[], str]) -> str:
    """`compute()`, a fact about `file` (e.g. a binary's version), kept in PROXX_HOME/cache/<kind>.json
    until the file changes."""
    cache = proxx_home() / "cache" / f"{kind}.json"
    facts: dict[str, dict[str, object]] = {}
    with contextlib.suppress(OSError, ValueError):
        facts = json.loads(cache.read_text(encoding="utf-8"))
    stamp = file_stamp(file)
    known = facts.get(str(file), {})
    if stamp is not None and known.get("stamp") == stamp and isinstance(known.get("value"), str):
        return str(known["value"])
    value = compute()
    if stamp is not None:
        write_cache(cache, {**facts, str(file): {"stamp": stamp, "value": value}})
    return value
