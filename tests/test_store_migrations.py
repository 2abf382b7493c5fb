"""The job store migrates: a store made by the first release (no schema number) opens in this one
with its jobs intact; a store made by a newer proxx is refused, not damaged."""

from __future__ import annotations

import sqlite3

import pytest

from proxx.errors import ConfigurationError
from proxx.store import MIGRATIONS, QUEUED, JobState, Store, _statements


def first_release_store(path):
    """What the first release wrote: the first migration's tables, user_version left at 0, one job."""
    db = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        db.execute(statement)
    db.execute(
        "INSERT INTO jobspecs VALUES ('job-20261101T000000Z-0000abcd', '{}', 'sha256:0', '2026-11-01T00:00:00Z',"
        " 'HD Editorial LT', NULL)"
    )
    db.execute("INSERT INTO jobs (job_id, state, seq) VALUES ('job-20261101T000000Z-0000abcd', 'QUEUED', 1)")
    db.commit()
    db.close()


def user_version(path) -> int:
    return sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]


def test_a_first_release_store_is_migrated_with_its_jobs(tmp_path):
    path = tmp_path / "proxx.db"
    first_release_store(path)
    store = Store(path)
    try:
        assert user_version(path) == len(MIGRATIONS)
        row = store.job("job-20261101T000000Z-0000abcd")
        assert row.state is JobState.QUEUED and row.state == QUEUED == "QUEUED"
        assert store.roots(row.job_id) is None  # the table the second migration added answers
    finally:
        store.close()
    Store(path).close()  # opening again applies nothing twice
    assert user_version(path) == len(MIGRATIONS)


def test_a_new_store_gets_every_migration(tmp_path):
    Store(tmp_path / "proxx.db").close()
    tables = {r[0] for r in sqlite3.connect(tmp_path / "proxx.db").execute("SELECT name FROM sqlite_master")}
    assert {"jobspecs", "jobs", "transitions", "dispatched", "job_roots"} <= tables
    assert user_version(tmp_path / "proxx.db") == len(MIGRATIONS)


def test_a_store_from_a_newer_proxx_is_refused(tmp_path):
    path = tmp_path / "proxx.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(ConfigurationError, match="made by a newer proxx"):
        Store(path)
