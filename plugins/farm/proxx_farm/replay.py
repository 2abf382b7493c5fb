"""A farm worker's record of the signed tasks it accepted, kept until each expires: a task sent again
(by anyone who saw it on the broker) is refused even when the farm's claim of its job is gone from
Redis (deleted, or past its time to live). One SQLite file in the worker's own home, shared by its
processes."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path


class ReplayRecord:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS accepted (message TEXT PRIMARY KEY, job_id TEXT NOT NULL, "
            "expires INTEGER NOT NULL) STRICT"
        )

    def first_time(self, message: bytes, job_id: str, expires: int) -> bool:
        """Record `message`; False when it was accepted before. Expired records are dropped (an
        expired task is refused for its expiry)."""
        digest = hashlib.sha256(message).hexdigest()
        self._db.execute("DELETE FROM accepted WHERE expires < ?", (int(time.time()),))
        try:
            self._db.execute("INSERT INTO accepted VALUES (?, ?, ?)", (digest, job_id, expires))
        except sqlite3.IntegrityError:
            return False
        return True

    def close(self) -> None:
        self._db.close()
