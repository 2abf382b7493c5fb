"""The job store: SQLite in WAL mode under PROXX_HOME.

The database enforces the contract itself: a stored JobSpec can be neither updated nor deleted
(triggers), states only move forward (QUEUED -> RUNNING -> COMPLETED | FAILED, or QUEUED -> FAILED),
and every transition is written, with its time, worker, class and reason, in the same transaction as
the state change. A worker reserves a QUEUED job atomically (so two workers never take the same
job), checks it, and only then starts it (QUEUED -> RUNNING); a job its checks refuse goes from
QUEUED to FAILED, so a job that never executes is never RUNNING.

A RUNNING job whose worker died (its lease expired, or its process is gone on this host) is marked
FAILED "worker lost" by `reap_lost`, which every proxx command runs when it opens the store; it is
never re-run by itself.

A job created for another executor (the render farm) is recorded in `dispatched`, in the same
transaction as its creation: local workers never claim it and `reap_lost` leaves it to that executor,
whose states are mirrored here with `start_remote`, `progress` and `finish`.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import platform
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from proxx.errors import CANCELLED, PROCESS_GONE, ConfigurationError, FailureClass
from proxx.home import STORE_FILE, home_unusable
from proxx.jobspec.stamps import digest_of, utc_now

if TYPE_CHECKING:  # the JobSpec model (and the profiles it holds) loads when a JobSpec is read: listing jobs needs none
    from proxx.jobspec.model import JobSpec
    from proxx.roots import Roots


class JobState(enum.StrEnum):
    """A job's state; it only moves forward: QUEUED -> RUNNING -> COMPLETED | FAILED, or QUEUED -> FAILED."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


QUEUED, RUNNING, COMPLETED, FAILED = JobState.QUEUED, JobState.RUNNING, JobState.COMPLETED, JobState.FAILED
STATES = tuple(JobState)
WORKER_LOST = "worker lost"  # the reason of a RUNNING job whose worker is gone (`Store.reap_lost`)
HOST = platform.node()  # a lost worker's process is looked for on its own host only

# The schema as numbered migrations, each applied once, in order, and recorded in PRAGMA user_version;
# a store made by any earlier proxx opens in this one. Never edit a released migration: add one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the first release
    """
CREATE TABLE jobspecs (
    job_id      TEXT PRIMARY KEY,
    spec_json   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    intent      TEXT NOT NULL,
    retry_of    TEXT
) STRICT;
CREATE TRIGGER jobspecs_immutable BEFORE UPDATE ON jobspecs
BEGIN SELECT RAISE(ABORT, 'JobSpecs are immutable'); END;
CREATE TRIGGER jobspecs_permanent BEFORE DELETE ON jobspecs
BEGIN SELECT RAISE(ABORT, 'JobSpecs are never deleted'); END;

CREATE TABLE jobs (
    job_id        TEXT PRIMARY KEY REFERENCES jobspecs(job_id),
    state         TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED')),
    seq           INTEGER NOT NULL,
    worker_id     TEXT,
    worker_host   TEXT,
    worker_pid    INTEGER,
    lease_until   REAL,
    progress      REAL NOT NULL DEFAULT 0,
    eta_seconds   REAL,
    clip_index    INTEGER,
    failure_class TEXT,
    reason        TEXT,
    message       TEXT,
    result_path   TEXT,
    log_path      TEXT,
    started_at    TEXT,
    finished_at   TEXT
) STRICT;
CREATE INDEX jobs_by_state ON jobs(state, seq);
CREATE TRIGGER jobs_forward_only BEFORE UPDATE OF state ON jobs
WHEN NOT (OLD.state = NEW.state
          OR (OLD.state = 'QUEUED' AND NEW.state IN ('RUNNING', 'FAILED'))
          OR (OLD.state = 'RUNNING' AND NEW.state IN ('COMPLETED', 'FAILED')))
BEGIN SELECT RAISE(ABORT, 'job states only move forward'); END;

CREATE TABLE transitions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id        TEXT NOT NULL REFERENCES jobspecs(job_id),
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    at            TEXT NOT NULL,
    worker_id     TEXT,
    failure_class TEXT,
    reason        TEXT
) STRICT;
CREATE INDEX transitions_by_job ON transitions(job_id, id);

CREATE TABLE dispatched (
    job_id   TEXT PRIMARY KEY REFERENCES jobspecs(job_id),
    executor TEXT NOT NULL
) STRICT;
""",
    # 2: the roots a job may read and write, kept from its entry point (`proxx.roots`)
    """
CREATE TABLE job_roots (
    job_id  TEXT PRIMARY KEY REFERENCES jobspecs(job_id),
    roots   TEXT NOT NULL
) STRICT;
CREATE TRIGGER job_roots_immutable BEFORE UPDATE ON job_roots
BEGIN SELECT RAISE(ABORT, 'job roots are immutable'); END;
""",
    # 3: an operator's cancel of a RUNNING job, asked from any process, polled by its worker
    """
ALTER TABLE jobs ADD COLUMN cancel_requested TEXT;
""",
    # 4: a job list that stays useful on 100,000 jobs: outcomes counted once, hidden jobs (kept for
    # audit), and indexes on the list's order and on retries
    """
ALTER TABLE jobs ADD COLUMN published INTEGER;
ALTER TABLE jobs ADD COLUMN failed_clips INTEGER;
ALTER TABLE jobs ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_seq ON jobs(seq);
CREATE INDEX jobspecs_by_retry_of ON jobspecs(retry_of) WHERE retry_of IS NOT NULL;
""",
    # 5: each verified proxy a job published, by its path (letter case folded), with what its source
    # and itself were then: a card run again proxies only what is missing (`proxx.jobspec.rerun`);
    # and the files of a job's folders it left out: not video, or already proxied
    """
CREATE TABLE published (
    output_key      TEXT PRIMARY KEY,
    output          TEXT NOT NULL,
    job_id          TEXT NOT NULL REFERENCES jobspecs(job_id),
    proxy_profile   TEXT NOT NULL,
    source          TEXT NOT NULL,
    source_identity TEXT NOT NULL,
    output_identity TEXT NOT NULL
) STRICT;
CREATE TABLE left_out (
    job_id  TEXT NOT NULL REFERENCES jobspecs(job_id),
    path    TEXT NOT NULL,
    why     TEXT NOT NULL,
    proxy   TEXT,
    by_job  TEXT
) STRICT;
CREATE INDEX left_out_by_job ON left_out(job_id);
""",
    # 6: when a dispatched job's record was first found missing on its executor (a broker that
    # restarted without its data), so that it is resolved within a stated time
    """
ALTER TABLE jobs ADD COLUMN remote_unseen_since REAL;
""",
    # 7: each job's outputs by `output_key`, for the one check that asks which earlier job still
    # QUEUED or RUNNING makes a new job's proxies (`outputs_in_progress`): reading every waiting
    # JobSpec for it made a watch folder queueing N files cost N squared (4,000 files: 57 s of CPU
    # against 6.8 s). Filled for the jobs not ended yet; `output_key` is proxx's, lent to SQLite.
    """
CREATE TABLE outputs (
    output_key TEXT NOT NULL,
    job_id     TEXT NOT NULL REFERENCES jobspecs(job_id)
) STRICT;
CREATE INDEX outputs_by_key ON outputs(output_key);
INSERT INTO outputs (output_key, job_id)
    SELECT output_key(json_extract(clip.value, '$.output')), s.job_id
    FROM jobspecs s JOIN jobs j ON j.job_id = s.job_id, json_each(s.spec_json, '$.clips') clip
    WHERE j.state IN ('QUEUED', 'RUNNING');
""",
)
_LOCAL = "job_id NOT IN (SELECT job_id FROM dispatched)"
RESERVE_NAME, RESERVE_BYTES = ".proxx-space-reserve", 1024 * 1024  # a result JSON of 1,000 clips, and the ending


@attrs.frozen
class JobRow:
    """A job's mutable state (the JobSpec itself is separate and immutable), as `Proxx.job` reads it.

    Fields:
      job_id: the job; intent: the intent's name; created_at: when it was created (UTC, ISO 8601).
      state: a `JobState` (QUEUED, RUNNING, COMPLETED, FAILED; a str enum).
      retry_of: the job it retries, or None; worker_id: the worker that claimed it.
      progress, eta_seconds, clip_index: the last `Progress` reported while it ran.
      failure_class, reason, message: why it FAILED ("A", "B", "C"), else None.
      result_path: its result JSON, once it ended; log_path: its job log.
      started_at, finished_at: when it ran (UTC, ISO 8601), or None.
      first_source, clip_count: its first source and how many clips it has; output_directory: the
        folder its proxies go to.
      published, failed_clips: once it ended, how many proxies were published and clips failed.
      hidden: left out of lists (kept for audit); proxy_profile: the canonical id (never shown to
        operators).
    """

    job_id: str
    state: JobState
    intent: str
    created_at: str
    retry_of: str | None
    worker_id: str | None
    progress: float
    eta_seconds: float | None
    clip_index: int | None
    failure_class: str | None
    reason: str | None
    message: str | None
    result_path: str | None
    log_path: str | None
    started_at: str | None
    finished_at: str | None
    first_source: str | None = None
    clip_count: int = 0
    output_directory: str | None = None
    published: int | None = None  # clips whose verified proxy was published, once the job ended
    failed_clips: int | None = None
    hidden: bool = False
    proxy_profile: str = ""  # the canonical id: for integrators (`--json`), never shown to operators

    @property
    def refused(self) -> bool:
        """FAILED in class B by its checks, before anything ran: every clip counts as failed, and a
        retry would only repeat it. A job cancelled before it started is class B too, and is neither."""
        return self.failure_class == FailureClass.VALIDATION.value and self.reason != CANCELLED


@attrs.frozen
class Transition:
    from_state: str | None
    to_state: str
    at: str
    worker_id: str | None
    failure_class: str | None
    reason: str | None


@attrs.frozen
class Published:
    """A verified proxy a job published: where, from which source, and what both were then
    (`proxx.jobspec.rerun.content_identity`)."""

    output_key: str
    output: str
    job_id: str
    proxy_profile: str
    source: str
    source_identity: str
    output_identity: str


@attrs.frozen
class LeftOut:
    """A file of a job's folder sources that the job does not proxy: why, in an operator's words, and
    for one already proxied, its proxy and the job that published it."""

    path: str
    why: str
    proxy: str | None = None
    by_job: str | None = None


class DigestMismatch(Exception):
    """The stored JobSpec no longer matches its digest: it was altered behind proxx's back."""


def _allocate(fd: int, size: int) -> None:
    """Give the file `size` bytes of real disk space (posix_fallocate where the system has it)."""
    allocate = getattr(os, "posix_fallocate", None)
    if allocate is not None:
        allocate(fd, 0, size)
        return
    block = b"\0" * 65536
    for _ in range(size // len(block)):
        os.write(fd, block)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# How long a write waits for another process's write to end before the store is said to be locked.
BUSY_SECONDS = 30


class StoreUnusable(ConfigurationError, sqlite3.OperationalError):
    """The job store could not be written: locked by another process for BUSY_SECONDS ("store_locked"),
    or PROXX_HOME full ("home_full"). Said as that, never as an internal error; still an
    `sqlite3.OperationalError` to the code that waits for a busy store or makes room on a full disk."""


def unusable(path: Path, error: sqlite3.OperationalError, what: str = "the job store") -> sqlite3.OperationalError:
    """`error` as `StoreUnusable` when SQLite says the database at `path` (`what`) is locked or its disk
    full, else as it is."""
    if "locked" in str(error):
        return StoreUnusable(
            "store_locked",
            f"{what[:1].upper()}{what[1:]} '{path}' stayed locked by another process for {BUSY_SECONDS:g} s (a backup, "
            f"an sqlite3 shell, a stuck program), so nothing was changed. Find what holds it (`fuser '{path}'`), "
            "then try again.",
            {"store": str(path)},
        )
    if "full" in str(error):
        return StoreUnusable(
            "home_full",
            f"PROXX_HOME '{path.parent}' is full, so {what} could not record this and nothing was changed. Free space "
            "there, then try again.",
            {"store": str(path)},
        )
    return error


def _own_database(path: Path) -> None:
    """The store is never opened through a link, nor is it another user's file (`proxx.folders`)."""
    from proxx.folders import FolderRefused, own_database

    try:
        own_database(path)
    except FolderRefused as refused:
        raise ConfigurationError(
            "home_refused", f"The job store cannot be opened: {refused}.", {"path": str(path)}
        ) from None


def _write_ahead(db: sqlite3.Connection) -> None:
    """The store in write-ahead-log mode. Two connections that switch a new store to it at once (a
    web server and a worker started together on a new PROXX_HOME) are each told "database is locked"
    at once, without SQLite's wait for a busy database: asked again, one finds it switched."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Why the states of jobs dispatched elsewhere could not be refreshed when this store was
        # opened (`proxx.app.refresh`): they are the last known.
        self.refresh_problems: list[str] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _own_database(path)
            self._db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            _write_ahead(self._db)
        except OSError as error:  # read-only, full, or not a folder
            raise home_unusable(path.parent, error.strerror or str(error)) from None
        except sqlite3.OperationalError as error:  # "attempt to write a readonly database", "disk is full"
            if isinstance(unusable(path, error), StoreUnusable):
                raise unusable(path, error) from None
            raise home_unusable(path.parent, str(error)) from None
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

        self._keep_reserve()

    @classmethod
    def at(cls, home: Path) -> Store:
        """The job store of the proxx home `home` (PROXX_HOME)."""
        return cls(home / STORE_FILE)

    @classmethod
    def read_only(cls, path: Path) -> Store:
        """The store at `path` for a reader that must never change it (a plugin holding a writable
        connection could break the store's contract by mistake): the same queries as every other
        reader, over a read-only connection (SQLite `mode=ro`), so that any write fails; nothing is
        created or migrated. `sqlite3.OperationalError` when there is no store at `path`."""
        store = cls.__new__(cls)
        store.path, store.refresh_problems = path, []
        store._db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        store._db.row_factory = sqlite3.Row
        return store

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        """Bring the store to the latest schema, one recorded migration at a time."""
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and db.execute("SELECT 1 FROM sqlite_master WHERE name = 'jobs'").fetchone():
                version = 1  # made by the first release, which numbered nothing
            if version > len(MIGRATIONS):
                raise ConfigurationError(
                    "store_too_new",
                    f"The job store {self.path} was made by a newer proxx (schema {version}; this one knows "
                    f"{len(MIGRATIONS)}). Upgrade proxx, or set PROXX_HOME to another folder.",
                    {"store": str(self.path), "schema": version},
                )
            if version < len(MIGRATIONS):
                from proxx.jobspec.rerun import output_key

                db.create_function("output_key", 1, output_key, deterministic=True)
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(migration):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    # --- a full disk --------------------------------------------------------------------------

    @property
    def _reserve(self) -> Path:
        return self.path.parent / RESERVE_NAME

    def _keep_reserve(self) -> None:
        """Hold RESERVE_BYTES beside the store (best effort), so that a job can still be ended and
        its result recorded when PROXX_HOME fills up while it runs."""
        if self._reserve.exists():
            return
        with contextlib.suppress(OSError):
            fd = os.open(self._reserve, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                _allocate(fd, RESERVE_BYTES)
            except OSError:
                os.unlink(self._reserve)  # no room for it now: the next store that opens tries again
            finally:
                os.close(fd)

    def release_reserve(self) -> bool:
        """Give up the space reserve (PROXX_HOME is full); False when there was none to give."""
        try:
            os.unlink(self._reserve)
        except OSError:
            return False
        return True

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so read-then-write is atomic."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise unusable(self.path, error) from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            with contextlib.suppress(sqlite3.OperationalError):  # a failed COMMIT may have ended it already
                self._db.execute("ROLLBACK")
            raise unusable(self.path, error) from None
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # --- creation -----------------------------------------------------------------------------

    def add(
        self,
        spec: JobSpec,
        executor: str | None = None,
        roots: Roots | None = None,
        left_out: Iterable[LeftOut] = (),
        reserved_by: tuple[str, float] | None = None,
    ) -> None:
        """Store a new JobSpec, QUEUED (for `executor`, e.g. a farm broker, instead of local workers).
        `roots`: the folders the entry point that created it lets it read and write, checked again
        when it runs (`proxx.roots`). `left_out`: the files of its folders it does not proxy.
        `reserved_by`: (worker id, lease seconds): stored reserved, as `reserve` leaves a job, for the
        process that creates it to check it before any worker takes it (`release` then frees it)."""
        from proxx.jobspec.rerun import output_key  # not at the top: `jobs list` reads the store alone

        spec_json = spec.to_json()
        now = utc_now()
        with self._write() as db:
            db.execute(
                "INSERT INTO jobspecs (job_id, spec_json, digest, created_at, intent, retry_of) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    spec.job_id,
                    spec_json,
                    digest_of(spec_json),
                    spec.created_at,
                    spec.proxy_profile_origin.name,
                    spec.retry_of,
                ),
            )
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            db.execute("INSERT INTO jobs (job_id, state, seq) VALUES (?, ?, ?)", (spec.job_id, QUEUED, seq))
            if reserved_by is not None:
                db.execute(
                    "UPDATE jobs SET worker_id = ?, worker_host = ?, worker_pid = ?, lease_until = ? WHERE job_id = ?",
                    (reserved_by[0], HOST, os.getpid(), time.time() + reserved_by[1], spec.job_id),
                )
            db.execute(
                "INSERT INTO transitions (job_id, from_state, to_state, at) VALUES (?, NULL, ?, ?)",
                (spec.job_id, QUEUED, now),
            )
            if executor is not None:
                db.execute("INSERT INTO dispatched (job_id, executor) VALUES (?, ?)", (spec.job_id, executor))
            if roots is not None:
                db.execute(
                    "INSERT INTO job_roots (job_id, roots) VALUES (?, ?)", (spec.job_id, json.dumps(roots.paths))
                )
            db.executemany(
                "INSERT INTO left_out (job_id, path, why, proxy, by_job) VALUES (?, ?, ?, ?, ?)",
                [(spec.job_id, *attrs.astuple(item)) for item in left_out],
            )
            db.executemany(
                "INSERT INTO outputs (output_key, job_id) VALUES (?, ?)",
                [(output_key(clip.output), spec.job_id) for clip in spec.clips],
            )

    def remember_published(
        self,
        job_id: str,
        proxy_profile: str,
        clips: Iterable[tuple[str, str]],
        read: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        """Remember the proxies (source, proxy) a job published, with what both are now, read here
        (a proxy this machine cannot read, such as a farm's path it does not share, is left out), or
        as `read` (by proxy path) says they were when each was published; a later job's proxy at the
        same path replaces one (the earlier file was gone, or it would not have been published)."""
        from proxx.jobspec.rerun import identities, output_key

        rows = []
        for source, output in clips:
            found = (read or {}).get(output) or identities(source, output)
            if found is not None:
                rows.append((output_key(output), output, job_id, proxy_profile, source, *found))
        if not rows:
            return
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO published VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    # --- reading ------------------------------------------------------------------------------

    def left_out(self, job_id: str) -> list[LeftOut]:
        """The files of the job's folder sources it does not proxy, in the order they were found."""
        rows = self._db.execute(
            "SELECT path, why, proxy, by_job FROM left_out WHERE job_id = ? ORDER BY rowid", (job_id,)
        ).fetchall()
        return [LeftOut(*row) for row in rows]

    def outputs_in_progress(self, job_id: str, keys: Collection[str]) -> dict[str, tuple[str, str]]:
        """Which of the outputs `keys` (by `output_key`) the jobs stored before `job_id` that are still
        QUEUED or RUNNING make, each with the first such job and its state: a look-up in the index of
        outputs, however many jobs wait."""
        found: dict[str, tuple[str, str]] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), 500):  # SQLite binds a bounded number of values at once
            chunk = wanted[start : start + 500]
            rows = self._db.execute(
                "SELECT o.output_key, j.job_id, j.state FROM outputs o JOIN jobs j ON j.job_id = o.job_id "
                f"WHERE o.output_key IN ({', '.join('?' * len(chunk))}) AND j.state IN ('QUEUED', 'RUNNING') "
                "AND j.seq < (SELECT seq FROM jobs WHERE job_id = ?) ORDER BY j.seq",
                (*chunk, job_id),
            ).fetchall()
            for key, other, state in rows:
                found.setdefault(key, (other, state))
        return found

    def published(self, output_key: str) -> Published | None:
        """The proxy a job published at `output_key`, as it was then, or None."""
        row = self._db.execute("SELECT * FROM published WHERE output_key = ?", (output_key,)).fetchone()
        return None if row is None else Published(*row)

    def spec(self, job_id: str) -> JobSpec:
        """The stored JobSpec, after checking it against its digest."""
        row = self._db.execute("SELECT spec_json, digest FROM jobspecs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        if digest_of(row["spec_json"]) != row["digest"]:
            raise DigestMismatch(job_id)
        return _jobspec(row["spec_json"])

    def spec_unchecked(self, job_id: str) -> JobSpec:
        """The stored JobSpec without the digest check: only to report on a tampered job."""
        return _jobspec(self._spec_json(job_id))

    def spec_document(self, job_id: str) -> dict[str, Any]:
        """The stored JobSpec as its JSON document, without the digest check (as `spec_unchecked`):
        for showing a job, which reads a few of its members and needs no `JobSpec` made of it."""
        document: dict[str, Any] = json.loads(self._spec_json(job_id))
        return document

    def _spec_json(self, job_id: str) -> str:
        row = self._db.execute("SELECT spec_json FROM jobspecs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return str(row["spec_json"])

    def roots(self, job_id: str) -> Roots | None:
        """The roots the job was created with, or None (a job made on the command line)."""
        from proxx.roots import Roots

        row = self._db.execute("SELECT roots FROM job_roots WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else Roots(json.loads(row["roots"]))

    def stored_digest(self, job_id: str) -> str:
        row = self._db.execute("SELECT digest FROM jobspecs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return str(row["digest"])

    def job(self, job_id: str) -> JobRow:
        row = self._db.execute(_SELECT_JOBS + " WHERE j.job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return _job_row(row)

    def find(self, prefix: str) -> JobRow:
        """A job by id or unambiguous id prefix (or suffix, the random part operators copy)."""
        row = self._db.execute(_SELECT_JOBS + " WHERE j.job_id = ?", (prefix,)).fetchone()
        if row is not None:  # a whole id: its key, not a scan of every job
            return _job_row(row)
        if not prefix:  # nothing given names no job (it was the start of every id: the only job, taken)
            raise KeyError(prefix)
        # Compared as text, never as a LIKE pattern: '%' or '_' named the only job, and an id of
        # 100,000 characters was "pattern too complex", an internal error.
        rows = self._db.execute(
            _SELECT_JOBS + " WHERE substr(j.job_id, 1, ?1) = ?2 OR substr(j.job_id, -?1) = ?2", (len(prefix), prefix)
        ).fetchall()
        if len(rows) == 1:
            return _job_row(rows[0])
        raise KeyError(prefix)

    def jobs(
        self,
        state: str | None = None,
        limit: int | None = None,
        since: str | None = None,
        hidden: bool = True,
        offset: int = 0,
    ) -> list[JobRow]:
        """Jobs newest first: in `state`, created at or after `since` (an ISO time), hidden ones only
        with `hidden`; `limit` of them after the first `offset` (one page: the index on the order
        keeps a page fast however many jobs the store holds)."""
        return list(self.iter_jobs(state, limit, since, hidden, offset))

    def iter_jobs(
        self,
        state: str | None = None,
        limit: int | None = None,
        since: str | None = None,
        hidden: bool = True,
        offset: int = 0,
    ) -> Iterator[JobRow]:
        """`jobs`, one row at a time: a full listing of a large store in flat memory."""
        where: list[str] = []
        params: list[object] = []
        if state:
            where.append("j.state = ?")
            params.append(state)
        if since:
            where.append("s.created_at >= ?")
            params.append(since)
        if not hidden:
            where.append("j.hidden = 0")
        query = _SELECT_JOBS + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY j.seq DESC"
        if limit or offset:
            query += " LIMIT ? OFFSET ?"
            params += [limit or -1, offset]
        for row in self._db.execute(query, params):
            yield _job_row(row)

    def retries_of(self, job_id: str) -> list[str]:
        rows = self._db.execute("SELECT job_id FROM jobspecs WHERE retry_of = ? ORDER BY created_at", (job_id,))
        return [r["job_id"] for r in rows.fetchall()]

    def hide(self, job_ids: list[str]) -> int:
        """Leave finished jobs out of lists (their JobSpec, states and result stay, for audit)."""
        with self._write() as db:
            cursor = db.executemany(
                f"UPDATE jobs SET hidden = 1 WHERE job_id = ? AND state IN ('{COMPLETED}', '{FAILED}')",
                [(j,) for j in job_ids],
            )
        return cursor.rowcount

    def failed_before(self, moment: str) -> list[str]:
        """FAILED jobs, not hidden, created before `moment` (an ISO time)."""
        rows = self._db.execute(
            f"SELECT j.job_id FROM jobs j JOIN jobspecs s ON s.job_id = j.job_id "
            f"WHERE j.state = '{FAILED}' AND j.hidden = 0 AND s.created_at < ?",
            (moment,),
        )
        return [r["job_id"] for r in rows.fetchall()]

    def transitions(self, job_id: str) -> list[Transition]:
        rows = self._db.execute(
            "SELECT from_state, to_state, at, worker_id, failure_class, reason FROM transitions "
            "WHERE job_id = ? ORDER BY id",
            (job_id,),
        ).fetchall()
        return [Transition(**dict(r)) for r in rows]

    # --- state changes ------------------------------------------------------------------------

    def reserve(self, worker_id: str, job_id: str | None = None, *, lease: float) -> str | None:
        """Atomically reserve the oldest QUEUED job (or `job_id`) for `worker_id`, which then
        validates it: the job stays QUEUED, and it becomes RUNNING only when `start` is called after
        its checks passed, so a job refused in class B never shows RUNNING. A reservation whose lease
        ran out (its worker died while checking) is free again: nothing ran."""
        with self._write() as db:
            free = f"state = '{QUEUED}' AND {_LOCAL} AND (worker_id IS NULL OR COALESCE(lease_until, 0) < ?)"
            now = time.time()
            if job_id is None:
                row = db.execute(f"SELECT job_id FROM jobs WHERE {free} ORDER BY seq LIMIT 1", (now,)).fetchone()
            else:
                row = db.execute(f"SELECT job_id FROM jobs WHERE {free} AND job_id = ?", (now, job_id)).fetchone()
            if row is None:
                return None
            reserved = str(row["job_id"])
            db.execute(
                "UPDATE jobs SET worker_id = ?, worker_host = ?, worker_pid = ?, lease_until = ? WHERE job_id = ?",
                (worker_id, HOST, os.getpid(), time.time() + lease, reserved),
            )
        return reserved

    def release(self, worker_id: str, job_id: str) -> None:
        """Free `job_id`, still QUEUED and reserved by `worker_id`, for any worker to take."""
        with self._write() as db:
            db.execute(
                f"UPDATE jobs SET worker_id = NULL WHERE job_id = ? AND worker_id = ? AND state = '{QUEUED}'",
                (job_id, worker_id),
            )

    def start(self, worker_id: str, job_id: str, *, lease: float) -> bool:
        """QUEUED -> RUNNING for the worker that reserved `job_id`; False if the job is no longer
        QUEUED and reserved by it (an operator cancelled it meanwhile)."""
        now = utc_now()
        with self._write() as db:
            row = db.execute(
                f"SELECT 1 FROM jobs WHERE job_id = ? AND state = '{QUEUED}' AND worker_id = ?", (job_id, worker_id)
            ).fetchone()
            if row is None:
                return False
            db.execute(
                "INSERT INTO transitions (job_id, from_state, to_state, at, worker_id) VALUES (?, ?, ?, ?, ?)",
                (job_id, QUEUED, RUNNING, now, worker_id),
            )
            db.execute(
                f"UPDATE jobs SET state = '{RUNNING}', lease_until = ?, started_at = ? WHERE job_id = ?",
                (time.time() + lease, now, job_id),
            )
        return True

    def claim(self, worker_id: str, job_id: str | None = None, *, lease: float) -> str | None:
        """Reserve and start at once: the oldest QUEUED job nobody reserved, or `job_id` if it is
        still QUEUED (even reserved: see `take`)."""
        claimed = (
            self.reserve(worker_id, job_id, lease=lease) if job_id is None else self.take(worker_id, job_id, lease)
        )
        if claimed is None or not self.start(worker_id, claimed, lease=lease):
            return None
        return claimed

    def take(self, worker_id: str, job_id: str, lease: float) -> str | None:
        """Reserve `job_id` if it is still QUEUED, even from a worker still checking it (whose
        `start` then fails): how an operator's cancel ends a job that has not started."""
        with self._write() as db:
            db.execute(
                f"UPDATE jobs SET worker_id = NULL WHERE job_id = ? AND state = '{QUEUED}' AND {_LOCAL}", (job_id,)
            )
        return self.reserve(worker_id, job_id, lease=lease)

    def dispatched(self, unfinished: bool = True) -> dict[str, str]:
        """{job id: executor} of the jobs created for another executor (by default, those not finished)."""
        if self._db.execute("SELECT 1 FROM dispatched LIMIT 1").fetchone() is None:
            return {}  # no farm: every command asks, and the join below reads every unfinished job
        query = "SELECT d.job_id, d.executor FROM dispatched d JOIN jobs j ON j.job_id = d.job_id"
        if unfinished:
            query += f" WHERE j.state IN ('{QUEUED}', '{RUNNING}')"
        return {row["job_id"]: row["executor"] for row in self._db.execute(query).fetchall()}

    def start_remote(self, job_id: str, worker_id: str, started_at: str) -> bool:
        """Mirror the start of a dispatched job on its executor's worker: QUEUED -> RUNNING."""
        with self._write() as db:
            row = db.execute(
                f"SELECT 1 FROM jobs WHERE job_id = ? AND state = '{QUEUED}' "
                "AND job_id IN (SELECT job_id FROM dispatched)",
                (job_id,),
            ).fetchone()
            if row is None:
                return False
            db.execute(
                "INSERT INTO transitions (job_id, from_state, to_state, at, worker_id) VALUES (?, ?, ?, ?, ?)",
                (job_id, QUEUED, RUNNING, started_at, worker_id),
            )
            db.execute(  # a note of why it waited (`note_waiting`) is no longer true
                f"UPDATE jobs SET state = '{RUNNING}', worker_id = ?, started_at = ?, message = NULL WHERE job_id = ?",
                (worker_id, started_at, job_id),
            )
        return True

    def note_waiting(self, job_id: str, note: str | None) -> None:
        """Say why a QUEUED job dispatched elsewhere waits and may never run (its `message`, which
        `jobs show` and `jobs list` say), or stop saying it (None). Written only when it changes;
        never on a job that started or ended (their message is their own)."""
        row = self._db.execute("SELECT state, message FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None or row["state"] != QUEUED or row["message"] == note:  # no write lock for nothing
            return
        with self._write() as db:
            db.execute(
                f"UPDATE jobs SET message = ? WHERE job_id = ? AND state = '{QUEUED}' "
                "AND job_id IN (SELECT job_id FROM dispatched)",
                (note, job_id),
            )

    def heartbeat(self, job_id: str, worker_id: str, lease: float) -> bool:
        """Extend the lease (or the reservation of a job it checks); False if the job is no longer
        this worker's RUNNING or reserved QUEUED job."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE jobs SET lease_until = ? WHERE job_id = ? AND worker_id = ? "
                f"AND state IN ('{QUEUED}', '{RUNNING}')",
                (time.time() + lease, job_id, worker_id),
            )
        return cursor.rowcount == 1

    def progress(self, job_id: str, fraction: float, eta_seconds: float | None, clip_index: int | None) -> None:
        """Best effort: progress is advisory, and a full disk must not end a render."""
        with contextlib.suppress(sqlite3.OperationalError), self._write() as db:
            db.execute(
                "UPDATE jobs SET progress = ?, eta_seconds = ?, clip_index = ? WHERE job_id = ?",
                (max(0.0, min(1.0, fraction)), eta_seconds, clip_index, job_id),
            )

    def set_paths(self, job_id: str, result_path: str | None = None, log_path: str | None = None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET result_path = COALESCE(?, result_path), log_path = COALESCE(?, log_path) "
                "WHERE job_id = ?",
                (result_path, log_path, job_id),
            )

    def finish(
        self,
        job_id: str,
        state: str,
        worker_id: str | None = None,
        failure_class: FailureClass | None = None,
        reason: str | None = None,
        message: str | None = None,
        expect: tuple[str, ...] = (QUEUED, RUNNING),
        at: str | None = None,
        published: int | None = None,
        failed_clips: int | None = None,
    ) -> bool:
        """Move a job to COMPLETED or FAILED. The transition row is written first, in the same
        transaction. False (and nothing written) if the job is not in one of the `expect` states.
        `at` is when it finished, if not now: a mirrored farm job keeps the farm's own time."""
        now = at or utc_now()
        cls = failure_class.value if failure_class else None
        with self._write() as db:
            row = db.execute("SELECT state FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None or row["state"] not in expect:
                return False
            db.execute(
                "INSERT INTO transitions (job_id, from_state, to_state, at, worker_id, failure_class, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, row["state"], state, now, worker_id, cls, reason),
            )
            db.execute(
                "UPDATE jobs SET state = ?, failure_class = ?, reason = ?, message = ?, finished_at = ?, "
                "lease_until = NULL, progress = CASE WHEN ? = 'COMPLETED' THEN 1.0 ELSE progress END, "
                "published = ?, failed_clips = ? WHERE job_id = ?",
                (state, cls, reason, message, now, state, published, failed_clips, job_id),
            )
        return True

    def set_outcome(self, job_id: str, published: int, failed_clips: int) -> None:
        """Count a finished job's published and failed clips (known only once its result was recovered)."""
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET published = ?, failed_clips = ? WHERE job_id = ?", (published, failed_clips, job_id)
            )

    def remote_unseen(self, job_id: str, missing: bool) -> float | None:
        """For how many seconds a dispatched job's record has been missing on its executor (0 when it
        is first found missing), or None when `missing` is False (it is there: the count is reset)."""
        now = time.time()
        if not missing:
            row = self._db.execute("SELECT remote_unseen_since FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is not None and row["remote_unseen_since"] is not None:  # written only when it changes
                with self._write() as db:
                    db.execute("UPDATE jobs SET remote_unseen_since = NULL WHERE job_id = ?", (job_id,))
            return None
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET remote_unseen_since = COALESCE(remote_unseen_since, ?) WHERE job_id = ?", (now, job_id)
            )
            row = db.execute("SELECT remote_unseen_since FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return now - float(row["remote_unseen_since"]) if row is not None else None

    def request_cancel(self, job_id: str) -> bool:
        """Record an operator's cancel of a RUNNING job for its worker to act on; False if the job is
        not RUNNING."""
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE jobs SET cancel_requested = COALESCE(cancel_requested, ?) "
                f"WHERE job_id = ? AND state = '{RUNNING}'",
                (utc_now(), job_id),
            )
        return cursor.rowcount == 1

    def cancel_requested(self, job_id: str) -> bool:
        row = self._db.execute("SELECT cancel_requested FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return row is not None and row["cancel_requested"] is not None

    def reap_lost(self) -> list[str]:
        """Mark FAILED every RUNNING job whose worker is gone: lease expired, or (on this host) its
        process no longer exists. Returns their ids. They are never re-run."""
        rows = self._db.execute(
            "SELECT job_id, worker_id, worker_host, worker_pid, lease_until FROM jobs "
            f"WHERE state = '{RUNNING}' AND {_LOCAL}"
        ).fetchall()
        now = time.time()
        lost = []
        for row in rows:
            expired = row["lease_until"] is not None and row["lease_until"] < now
            dead = row["worker_host"] == HOST and row["worker_pid"] and not _pid_alive(row["worker_pid"])
            if not (expired or dead):
                continue
            why = PROCESS_GONE if dead else "its lease expired without a heartbeat"
            if self.finish(
                row["job_id"],
                FAILED,
                worker_id=row["worker_id"],
                failure_class=FailureClass.EXECUTION,
                reason=WORKER_LOST,
                message=f"Worker {row['worker_id']} was lost while running the job ({why}); "
                "the job was not re-run. Retry it to create a new job.",
                expect=(RUNNING,),
            ):
                lost.append(row["job_id"])
        return lost


def _jobspec(spec_json: str) -> JobSpec:
    from proxx.jobspec.model import JobSpec

    return JobSpec.from_json(spec_json)


_SELECT_JOBS = (
    "SELECT j.job_id, j.state, s.intent, s.created_at, s.retry_of, j.worker_id, j.progress, j.eta_seconds, "
    "j.clip_index, j.failure_class, j.reason, j.message, j.result_path, j.log_path, j.started_at, "
    "j.finished_at, json_extract(s.spec_json, '$.clips[0].source') AS first_source, "
    "json_array_length(s.spec_json, '$.clips') AS clip_count, "
    "json_extract(s.spec_json, '$.output_directory') AS output_directory, j.published, j.failed_clips, j.hidden, "
    "json_extract(s.spec_json, '$.proxy_profile') AS proxy_profile "
    "FROM jobs j JOIN jobspecs s ON s.job_id = j.job_id"
)


def _job_row(row: sqlite3.Row) -> JobRow:
    fields = dict(row)
    return JobRow(**{**fields, "state": JobState(fields["state"]), "hidden": bool(fields["hidden"])})


def _statements(script: str) -> Iterator[str]:
    """Split the schema on statement ends (triggers contain inner semicolons)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""


def queue_watch(path: Path) -> Callable[[], bool]:
    """Whether a job waits for a local worker, asked from any thread through a read-only
    connection of its own (the hint `proxx.execute.schedule.CoreShare.queued`)."""
    import threading

    db = Store.read_only(path)._db
    lock = threading.Lock()
    query = f"SELECT 1 FROM jobs WHERE state = '{QUEUED}' AND {_LOCAL} LIMIT 1"

    def queued() -> bool:
        with lock:
            try:
                return db.execute(query).fetchone() is not None
            except sqlite3.Error:  # a busy or vanished store: assume nothing waits
                return False

    return queued
