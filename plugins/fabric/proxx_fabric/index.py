"""The Fabric index: SQLite at PROXX_HOME/fabric.db (WAL), beside and apart from the job store.

One row per proxy (job id, clip index), found by fingerprint, by source content hash, by job and by
output path. It holds what Fabric needs and nothing about who ran the job: the intent name is an
informational field only, and there is no operator identity.

The schema version is SQLite's `user_version`; `MIGRATIONS[n]` takes a database from version n to
n + 1, in one transaction, so an older index is brought up to date when it is opened.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from proxx.plugin import ConfigurationError, proxx_home
from proxx_fabric.fingerprint import Intrinsics
from proxx_fabric.folder import FolderRefused, own_database
from proxx_fabric.hashing import xxh128_file


def _now() -> str:
    """UTC now as proxx records times (ISO 8601 to the millisecond, "Z")."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE proxies (
        job_id             TEXT NOT NULL,
        clip_index         INTEGER NOT NULL,
        fingerprint        TEXT NOT NULL,
        fingerprint_version TEXT NOT NULL,
        canonical_profile  TEXT NOT NULL,
        intent             TEXT,          -- informational only: never a lookup key
        intrinsics         TEXT NOT NULL, -- the fingerprint inputs, JSON
        source_path        TEXT NOT NULL,
        source_xxh128      TEXT NOT NULL,
        source_bytes       INTEGER NOT NULL,
        source_timecode    TEXT,
        output_path        TEXT NOT NULL,
        output_xxh128      TEXT NOT NULL,
        output_bytes       INTEGER NOT NULL,
        verification       TEXT NOT NULL, -- the job's checks for this output, JSON
        reused_from        TEXT,          -- the job whose output this one copies
        job_started_at     TEXT,
        job_finished_at    TEXT NOT NULL,
        recorded_at        TEXT NOT NULL,
        PRIMARY KEY (job_id, clip_index)
    ) STRICT;
    CREATE INDEX proxies_by_fingerprint ON proxies(fingerprint);
    CREATE INDEX proxies_by_source_hash ON proxies(source_xxh128);
    CREATE INDEX proxies_by_output ON proxies(output_path);
    """,
    """
    CREATE TABLE checks (
        job_id      TEXT NOT NULL,
        clip_index  INTEGER NOT NULL,
        checked_at  TEXT NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'missing', 'modified')),
        PRIMARY KEY (job_id, clip_index, checked_at),
        FOREIGN KEY (job_id, clip_index) REFERENCES proxies(job_id, clip_index)
    ) STRICT;
    """,
    """
    CREATE TABLE file_hashes (
        device      INTEGER NOT NULL,
        inode       INTEGER NOT NULL,
        bytes       INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        xxh128      TEXT NOT NULL,
        PRIMARY KEY (device, inode, bytes, mtime_ns)
    ) STRICT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


@attrs.frozen
class ProxyRecord:
    job_id: str
    clip_index: int
    fingerprint: str
    fingerprint_version: str
    canonical_profile: str
    intent: str | None
    intrinsics: Intrinsics
    source_path: str
    source_xxh128: str
    source_bytes: int
    source_timecode: str | None
    output_path: str
    output_xxh128: str
    output_bytes: int
    verification: tuple[dict[str, Any], ...]
    reused_from: str | None
    job_started_at: str | None
    job_finished_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **attrs.asdict(self, recurse=False),
            "intrinsics": self.intrinsics.to_dict(),
            "verification": list(self.verification),
        }


class IndexNewer(Exception):
    """The index was written by a newer proxx-fabric than this one."""


# A file's identity and its xxh128, as the file_hashes table holds them: (device, inode, bytes, mtime_ns, xxh128).
FileHash = tuple[int, int, int, int, str]


def index_path(home: Path | None = None) -> Path:
    return (home or proxx_home()) / "fabric.db"


def _own_database(path: Path) -> None:
    """Fabric's index in PROXX_HOME, never opened through a link, nor another user's file (a
    group-writable PROXX_HOME: `proxx_fabric.folder.own_database`)."""
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)  # PROXX_HOME: the administrator's own path
    try:
        own_database(folder, path.name, path.parent)
    except FolderRefused as refused:
        raise ConfigurationError(
            "fabric_index_refused", f"Fabric's index cannot be opened: {refused}.", {"path": str(path)}
        ) from None
    finally:
        os.close(folder)


class Index:
    def __init__(self, path: Path | None = None, timeout: float | None = None) -> None:
        self.path = path or index_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _own_database(self.path)
        # PROXX_FABRIC_DB_TIMEOUT: how long a writer waits for another one before "database is locked".
        wait = timeout if timeout is not None else float(os.environ.get("PROXX_FABRIC_DB_TIMEOUT", "30"))
        self._db = sqlite3.connect(self.path, timeout=wait, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        if self.schema_version == SCHEMA_VERSION:
            return  # up to date: readers (lookups, reuse) never wait for the write lock
        self._db.execute("BEGIN IMMEDIATE")  # one migrator at a time; the others then see it done
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise IndexNewer(
                    f"Fabric index {self.path} has schema version {version}; this proxx-fabric knows up to "
                    f"{SCHEMA_VERSION}. Upgrade proxx-fabric."
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {step + 1}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # --- writing ----------------------------------------------------------------------------------

    def record(self, records: Iterable[ProxyRecord], hashed: list[FileHash] | None = None) -> None:
        """Add or replace (same job and clip: an ingest repeating an export) in one transaction. Each
        record is made into its row only as it is written, so that neither the caller nor this holds
        them all (a 1,000-clip card's rows, with their checks as JSON text, were 2 MiB held at once):
        `records` are taken inside the transaction, so files are measured (read, hashed) before, not
        by them. `hashed`: the file hashes `source_hash` found while they were measured, stored in
        the same transaction."""
        now = _now()
        rows = (
            (r.job_id, r.clip_index, r.fingerprint, r.fingerprint_version, r.canonical_profile, r.intent,
             json.dumps(r.intrinsics.to_dict(), sort_keys=True), r.source_path, r.source_xxh128, r.source_bytes,
             r.source_timecode, r.output_path, r.output_xxh128, r.output_bytes,
             json.dumps(list(r.verification), sort_keys=True), r.reused_from, r.job_started_at, r.job_finished_at, now)
            for r in records
        )  # fmt: skip
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO proxies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
            self._db.executemany("INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?, ?)", hashed or ())

    def source_hash(self, path: str, hashed: list[FileHash] | None = None) -> str:
        """The xxh128 of a source file, hashed once while it stays the same file (device, inode, size,
        modification time): a camera original proxied again, or looked up for reuse, is not read again.
        A new hash is stored at once, or with `hashed` added to it for `record` to store with its
        records (a job's export then commits once, not once a source: each commit waits for the disk)."""
        before = os.stat(path)
        key = (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns)
        row = self._db.execute(
            "SELECT xxh128 FROM file_hashes WHERE device = ? AND inode = ? AND bytes = ? AND mtime_ns = ?", key
        ).fetchone()
        if row is not None:
            return str(row[0])
        digest = xxh128_file(path)
        after = os.stat(path)
        if (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns) == key:  # not changing while read
            if hashed is not None:
                hashed.append((*key, digest))
            else:
                with self._transaction():
                    self._db.execute("INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?, ?)", (*key, digest))
        return digest

    def record_check(self, record: ProxyRecord, outcome: str) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO checks VALUES (?, ?, ?, ?)",
                (record.job_id, record.clip_index, _now(), outcome),
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- reading ----------------------------------------------------------------------------------

    def by_fingerprint(self, fingerprint: str) -> list[ProxyRecord]:
        return self._select("fingerprint = ?", fingerprint)

    def by_source_hash(self, xxh128: str) -> list[ProxyRecord]:
        return self._select("source_xxh128 = ?", xxh128)

    def by_job(self, job_id: str) -> list[ProxyRecord]:
        return self._select("job_id = ?", job_id)

    def under(self, folder: Path) -> list[ProxyRecord]:
        prefix = str(folder).rstrip(os.sep) + os.sep
        return self._select("substr(output_path, 1, ?) = ?", len(prefix), prefix)

    def all(self) -> list[ProxyRecord]:
        return self._select("1 = 1")

    def last_check(self, record: ProxyRecord) -> tuple[str, str] | None:
        """When `proxx fabric verify` last re-hashed this proxy, and what it found."""
        row = self._db.execute(
            "SELECT checked_at, outcome FROM checks WHERE job_id = ? AND clip_index = ? ORDER BY checked_at DESC",
            (record.job_id, record.clip_index),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def canonical_ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT canonical_profile FROM proxies ORDER BY 1")]

    def job_ids(self, prefix: str) -> list[str]:
        """Jobs whose id starts with `prefix` or ends with it (the short id operators copy, as `proxx jobs`)."""
        rows = self._db.execute(
            "SELECT DISTINCT job_id FROM proxies WHERE substr(job_id, 1, ?) = ? OR substr(job_id, -?) = ? "
            "ORDER BY job_id",
            (len(prefix), prefix, len(prefix), prefix),
        )
        return [row[0] for row in rows]

    def _select(self, where: str, *params: Any) -> list[ProxyRecord]:
        rows = self._db.execute(
            f"SELECT * FROM proxies WHERE {where} ORDER BY job_finished_at DESC, job_id, clip_index", params
        )
        return [_record(row) for row in rows]


def _record(row: sqlite3.Row) -> ProxyRecord:
    return ProxyRecord(
        job_id=row["job_id"],
        clip_index=row["clip_index"],
        fingerprint=row["fingerprint"],
        fingerprint_version=row["fingerprint_version"],
        canonical_profile=row["canonical_profile"],
        intent=row["intent"],
        intrinsics=Intrinsics.from_dict(json.loads(row["intrinsics"])),
        source_path=row["source_path"],
        source_xxh128=row["source_xxh128"],
        source_bytes=row["source_bytes"],
        source_timecode=row["source_timecode"],
        output_path=row["output_path"],
        output_xxh128=row["output_xxh128"],
        output_bytes=row["output_bytes"],
        verification=tuple(json.loads(row["verification"])),
        reused_from=row["reused_from"],
        job_started_at=row["job_started_at"],
        job_finished_at=row["job_finished_at"],
    )
