"""What a watcher already handled, in SQLite under PROXX_HOME, so a restart never queues a file twice."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from proxx.errors import ConfigurationError
from proxx.folders import FolderRefused, own_database
from proxx.jobspec.model import utc_now
from proxx.media.files import printable
from proxx.store import BUSY_SECONDS, unusable

# The Proxy/ folders a media watcher made itself: the only ones it writes into (one planted before it
# could be a link, or someone else's folder).
FOLDERS = """
CREATE TABLE IF NOT EXISTS made_folders (
    path        TEXT PRIMARY KEY,
    device      INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    made_at     TEXT NOT NULL
) STRICT
"""

# What each watch handled: a watch is its kind, intent and destination (`proxx.watch.watcher._ledger`), so
# watching the same folder for another intent or into another output folder handles its files anew.
# Rows kept from before watches had keys (the `handled` table, copied once and left in place for a
# watch of that version still running) count for every watch, as they did. `ctime_ns`, the file's
# status change time, is NULL in rows from before it was kept (`CTIME`).
SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    path        TEXT NOT NULL,
    watch       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    job_id      TEXT,
    outcome     TEXT NOT NULL,
    handled_at  TEXT NOT NULL,
    ctime_ns    INTEGER,
    PRIMARY KEY (path, watch)
) STRICT
"""
CTIME = "ALTER TABLE seen ADD COLUMN ctime_ns INTEGER"
EVERY_WATCH = "*"


# A file as it was when its watch handled it (size, modification time, status change time: None in a
# record from before it was kept) and the job it became (None: skipped); a tuple, as a pass makes one
# for each file of a folder.
Handled = tuple[int, int, int | None, str | None]


class Ledger:
    def __init__(self, path: Path, watch: str = EVERY_WATCH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # never through a link, nor another user's file (a group-writable PROXX_HOME)
            own_database(path)
        except FolderRefused as refused:
            raise ConfigurationError(
                "home_refused", f"The watch record cannot be opened: {refused}.", {"path": str(path)}
            ) from None
        self.path, self.watch = path, watch
        self._db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'seen'").fetchone() is None:
                self._db.execute(SCHEMA)
                if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'handled'").fetchone():
                    self._db.execute(
                        "INSERT INTO seen (path, watch, kind, size, mtime_ns, job_id, outcome, handled_at) "
                        "SELECT path, ?, kind, size, mtime_ns, job_id, outcome, handled_at FROM handled",
                        (EVERY_WATCH,),
                    )
            elif not any(column[1] == "ctime_ns" for column in self._db.execute("PRAGMA table_info(seen)")):
                self._db.execute(CTIME)
            self._db.execute(FOLDERS)

    def close(self) -> None:
        self._db.close()

    def handled_in(self, folder: Path) -> dict[str, Handled]:
        """The handled files directly in `folder`, by path, as each was when handled, in one query over
        the primary key's range: a pass over a watch folder of 100,000 files asks once a folder, not
        once a file. This watch's own record of a file wins over one kept from before watches had keys."""
        prefix = f"{folder}{os.sep}"
        after = prefix[:-1] + chr(ord(os.sep) + 1)  # the first string past every path under `folder`
        rows = self._db.execute(
            "SELECT path, size, mtime_ns, ctime_ns, job_id FROM seen WHERE path >= ? AND path < ? "
            "AND instr(substr(path, ?), ?) = 0 AND watch IN (?, ?) ORDER BY watch = ? DESC",
            (prefix, after, len(prefix) + 1, os.sep, self.watch, EVERY_WATCH, EVERY_WATCH),
        )
        return {path: (size, mtime_ns, ctime_ns, job_id) for path, size, mtime_ns, ctime_ns, job_id in rows}

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A write, its failure for a full PROXX_HOME or a locked record said as that (`StoreUnusable`)."""
        try:
            yield
        except sqlite3.OperationalError as error:
            raise unusable(self.path, error, "the watch's record of its files") from None

    def record(
        self,
        path: Path,
        kind: str,
        size: int,
        mtime_ns: int,
        job_id: str | None,
        outcome: str,
        ctime_ns: int | None = None,
    ) -> None:
        """Record what became of `path` as it was (`size`, `mtime_ns`, `ctime_ns`); a file handled
        again since it changed replaces its earlier record."""
        with self._writing():
            self._db.execute(
                "INSERT INTO seen (path, watch, kind, size, mtime_ns, job_id, outcome, handled_at, ctime_ns) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path, watch) DO UPDATE SET kind = excluded.kind, "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, job_id = excluded.job_id, "
                "outcome = excluded.outcome, handled_at = excluded.handled_at, ctime_ns = excluded.ctime_ns",
                (printable(path), self.watch, kind, size, mtime_ns, job_id, outcome, utc_now(), ctime_ns),
            )

    def note_ctime(self, path: str, ctime_ns: int) -> None:
        """Note a handled file's new status change time (only its status changed: nothing to handle)."""
        with self._writing():
            self._db.execute("UPDATE seen SET ctime_ns = ? WHERE path = ? AND watch = ?", (ctime_ns, path, self.watch))

    def made(self, path: Path, device: int, inode: int) -> None:
        """Remember that this watcher created the folder `path` (that device and inode)."""
        with self._writing():
            self._db.execute(
                "INSERT OR REPLACE INTO made_folders (path, device, inode, made_at) VALUES (?, ?, ?, ?)",
                (printable(path), device, inode, utc_now()),
            )

    def was_made(self, path: Path, device: int, inode: int) -> bool:
        """Whether `path` is still the folder this watcher created there."""
        row = self._db.execute(
            "SELECT 1 FROM made_folders WHERE path = ? AND device = ? AND inode = ?", (printable(path), device, inode)
        ).fetchone()
        return row is not None
