"""What a watcher already handled, in SQLite under PROXX_HOME, so a restart never queues a file twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from proxx.jobspec.model import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS handled (
    path        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    job_id      TEXT,
    outcome     TEXT NOT NULL,
    handled_at  TEXT NOT NULL
) STRICT
"""


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def handled(self, path: Path) -> bool:
        return self._db.execute("SELECT 1 FROM handled WHERE path = ?", (str(path),)).fetchone() is not None

    def record(self, path: Path, kind: str, size: int, mtime_ns: int, job_id: str | None, outcome: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO handled (path, kind, size, mtime_ns, job_id, outcome, handled_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(path), kind, size, mtime_ns, job_id, outcome, utc_now()),
        )
