"""A read-only view of the job store, for exporters and other plugins: they may read what proxx
recorded, never change it (the store's own writers keep its contract; a plugin holding a writable
connection could break it by mistake)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import TracebackType

from proxx.home import STORE_FILE, proxx_home
from proxx.jobspec.model import JobSpec, digest_of
from proxx.store import _SELECT_JOBS, DigestMismatch, JobRow, _job_row


class JobStoreView:
    """The job store of a PROXX_HOME, opened read-only (SQLite `mode=ro`).

    `JobStoreView(home=None)`: `home` is a PROXX_HOME folder (default: this process's) or the store
    file itself. Use it as a context manager. `spec(job_id)` is the stored JobSpec, checked against
    its digest (`DigestMismatch` when it was altered); `job(job_id)` is the job's current `JobRow`
    (state, failure class, reason, result path, times). An unknown job is a `KeyError`; so is every
    job when the home has no store yet.

    Fields:
      path: the store's file it reads (PROXX_HOME/proxx.db), set from `home`.
    """

    def __init__(self, home: Path | None = None) -> None:
        home = home or proxx_home()
        self.path = home if home.is_file() else home / STORE_FILE
        self._db: sqlite3.Connection | None = None
        if self.path.exists():
            self._db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=30, check_same_thread=False)
            self._db.row_factory = sqlite3.Row

    def __enter__(self) -> JobStoreView:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _row(self, query: str, job_id: str) -> sqlite3.Row:
        row = None if self._db is None else self._db.execute(query, (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return row  # type: ignore[no-any-return]

    def spec(self, job_id: str) -> JobSpec:
        """The stored JobSpec, after checking it against its digest."""
        row = self._row("SELECT spec_json, digest FROM jobspecs WHERE job_id = ?", job_id)
        if digest_of(row["spec_json"]) != row["digest"]:
            raise DigestMismatch(job_id)
        return JobSpec.from_json(row["spec_json"])

    def job(self, job_id: str) -> JobRow:
        """The job's current state row."""
        return _job_row(self._row(_SELECT_JOBS + " WHERE j.job_id = ?", job_id))
