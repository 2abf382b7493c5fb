"""A read-only view of the job store, for exporters and other plugins: they may read what proxx
recorded, never change it (the store's own writers keep its contract; a plugin holding a writable
connection could break it by mistake)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from proxx.home import STORE_FILE, proxx_home
from proxx.jobspec.model import JobSpec
from proxx.store import JobRow, Store


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
        self._store = Store.read_only(self.path) if self.path.exists() else None

    def __enter__(self) -> JobStoreView:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _opened(self, job_id: str) -> Store:
        if self._store is None:
            raise KeyError(job_id)
        return self._store

    def spec(self, job_id: str) -> JobSpec:
        """The stored JobSpec, after checking it against its digest."""
        return self._opened(job_id).spec(job_id)

    def job(self, job_id: str) -> JobRow:
        """The job's current state row."""
        return self._opened(job_id).job(job_id)
