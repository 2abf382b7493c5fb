"""A job list that stays useful: header, aligned columns, newest first, paged, hidden jobs kept for
audit but left out; fast on 100,000 jobs (an index on the order, migration 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from proxx import Proxx
from proxx.store import FAILED, Store

PROXX = [sys.executable, "-m", "proxx"]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PROXX, *args], capture_output=True, text=True, env={**os.environ, "PROXX_HOME": str(home)}, timeout=120
    )


def test_list_hide_and_pages(tmp_path, proxx_home):
    proxx = Proxx.open()
    out = tmp_path / "out"
    out.mkdir()
    specs = [
        proxx.create_job("Review H.264", [tmp_path / f"missing{n}.mov", tmp_path / "x.mov"], out) for n in range(3)
    ]
    for spec in specs:
        proxx.run_job(spec.job_id)  # each FAILED in class B: its sources are missing
    listed = cli(proxx_home, "jobs", "list").stdout.splitlines()
    assert listed[0].split() == ["JOB", "STATE", "INTENT", "SOURCE", "PUBLISHED", "FAILED", "AGE"]
    assert [line.split()[0] for line in listed[1:]] == [s.job_id[-8:] for s in reversed(specs)]  # newest first
    assert "missing2.mov (+1)" in listed[1] and listed[1].index("FAILED") == listed[0].index("STATE")
    assert len({line.index("Review") for line in listed[1:]}) == 1  # aligned
    paged = cli(proxx_home, "jobs", "list", "--limit", "2").stdout
    assert (
        len(paged.splitlines()) == 4
        and "(the 2 newest: --limit N or --since DATE for more; JOB is the id's last 8)" in paged
    )  # header, 2 jobs, the note

    hidden = cli(proxx_home, "jobs", "hide", specs[0].job_id[-8:])
    assert hidden.returncode == 0 and hidden.stdout.startswith("1 job(s) hidden")
    assert specs[0].job_id[-8:] not in cli(proxx_home, "jobs", "list").stdout
    assert specs[0].job_id[-8:] in cli(proxx_home, "jobs", "list", "--all").stdout
    assert proxx.store.spec(specs[0].job_id) == specs[0]  # kept for audit
    assert cli(proxx_home, "jobs", "show", specs[0].job_id[-8:]).returncode == 0
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    assert cli(proxx_home, "jobs", "hide", "--failed-before", tomorrow).stdout.startswith("2 job(s) hidden")
    assert cli(proxx_home, "jobs", "list").stdout == "No jobs.\n"
    assert json.loads(cli(proxx_home, "jobs", "list", "--all", "--json").stdout)[0]["job_id"] == specs[2].job_id
    assert cli(proxx_home, "jobs", "list", "--since", tomorrow, "--all").stdout == "No jobs match.\n"


def test_hide_and_clean_refuse_an_unfinished_job_and_an_unknown_id_changing_nothing(tmp_path, proxx_home):
    from proxx.media.samples import make_clip

    (tmp_path / "out").mkdir()
    queued = Proxx.open().create_job("Review H.264", [make_clip(tmp_path / "A001.mov", frames=2)], tmp_path / "out")
    for command, words in (("hide", "only finished jobs are hidden"),
                           ("clean", "only a finished job's partial outputs are removed")):  # fmt: skip
        refused = cli(proxx_home, "jobs", command, queued.job_id)
        assert refused.returncode == 2 and f"job {queued.job_id} is QUEUED; {words}." in refused.stderr
        unknown = cli(proxx_home, "jobs", command, "no-such-job")
        assert unknown.returncode == 2 and "no job matches 'no-such-job'" in unknown.stderr
    assert queued.job_id[-8:] in cli(proxx_home, "jobs", "list").stdout  # neither hidden nor touched


# What `proxx jobs list` and `proxx jobs show` never import: the facade and the plugins, the JobSpec
# and result models, the converter, the profiles, verification and probing, and the standard modules
# only a job's files, ids and values need. Each is start-up time of every command.
NOT_IMPORTED = (
    "proxx.pluginmanager", "proxx.app", "proxx.compile.repository", "proxx.compile.profiles",
    "proxx.jobspec.model", "proxx.converter", "cattrs", "proxx.verify.checks", "proxx.media.probe",
    "proxx.result", "proxx.roots", "secrets", "hashlib", "fractions", "decimal", "traceback", "signal",
    "platformdirs",
)  # fmt: skip


def test_jobs_list_and_show_import_only_what_they_print(tmp_path, proxx_home):
    from proxx.media.samples import make_clip

    (tmp_path / "out").mkdir()
    (tmp_path / "later").mkdir()
    source = make_clip(tmp_path / "A001.mov", frames=2)
    proxx = Proxx.open()
    queued = proxx.create_job("Review H.264", [source], tmp_path / "later")  # no result yet
    completed = proxx.create_job("Review H.264", [source], tmp_path / "out")
    proxx.run_job(completed.job_id)
    failed = proxx.create_job("Review H.264", [tmp_path / "missing.mov", tmp_path / "x.mov"], tmp_path / "out")
    proxx.run_job(failed.job_id)  # FAILED in class B (its sources are missing), with its result
    shown = {}
    for command in (["jobs", "list"], *(["jobs", "show", spec.job_id] for spec in (completed, failed, queued))):
        code = (
            f"import sys; from proxx.cli import main; code = main({command!r}); "
            f"print(sorted(m for m in {NOT_IMPORTED!r} if m in sys.modules)); sys.exit(code)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stdout.splitlines()[-1] == "[]", (command, done.stdout)
        shown[command[-1]] = done.stdout
    # what each shows comes from the stored JobSpec's and the result's documents
    assert "published  -> " in shown[completed.job_id] and "Outcome   1 proxy published" in shown[completed.job_id]
    assert "missing.mov" in shown[failed.job_id] and "FAILED (job validation failure" in shown[failed.job_id]
    assert f"  A001.mov  QUEUED  -> {tmp_path / 'later' / 'A001'}" in shown[queued.job_id]


def test_the_default_page_is_fast_on_100000_jobs(tmp_path):
    store = Store(tmp_path / "proxx.db")
    spec_json = json.dumps({"clips": [{"index": 0, "source": "/media/A001.mov", "output": "/out/A001.mov"}]})
    rows = [(f"job-20260101T000000Z-{n:08x}", spec_json, "d", f"2026-01-01T00:00:{n % 60:02d}.000Z", "I", None)
            for n in range(100_000)]  # fmt: skip
    db = store._db
    db.execute("BEGIN")
    db.executemany("INSERT INTO jobspecs VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.executemany(
        "INSERT INTO jobs (job_id, state, seq, hidden) VALUES (?, ?, ?, ?)",
        [(r[0], FAILED, n + 1, n % 2) for n, r in enumerate(rows)],
    )
    db.execute("COMMIT")
    plan = " ".join(str(tuple(r)) for r in db.execute("EXPLAIN QUERY PLAN SELECT job_id FROM jobs ORDER BY seq DESC"))
    assert "jobs_by_seq" in plan and "TEMP B-TREE" not in plan
    started = time.perf_counter()
    page = store.jobs(limit=50, hidden=False)
    elapsed = time.perf_counter() - started
    assert [r.job_id for r in page[:2]] == [rows[-2][0], rows[-4][0]]  # newest first, hidden ones left out
    assert page[0].first_source == "/media/A001.mov" and page[0].clip_count == 1
    assert elapsed < 0.05, elapsed


def test_limit_0_streams_every_job(tmp_path, monkeypatch):
    import json
    import subprocess
    import sys

    from proxx import Proxx
    from proxx.media.samples import make_clip

    monkeypatch.setenv("PROXX_HOME", str(tmp_path / "home"))
    clip = make_clip(tmp_path / "A001.mov", frames=2)
    proxx = Proxx.open()
    made = [proxx.create_job("HD Editorial LT", [clip], tmp_path).job_id for _ in range(60)]
    env = {**__import__("os").environ, "PROXX_HOME": str(tmp_path / "home")}
    listed = subprocess.run([sys.executable, "-m", "proxx", "jobs", "list", "--limit", "0", "--json"],
                            capture_output=True, text=True, env=env, check=True)  # fmt: skip
    assert [job["job_id"] for job in json.loads(listed.stdout)] == made[::-1]
    table = subprocess.run([sys.executable, "-m", "proxx", "jobs", "list", "--limit", "0"],
                           capture_output=True, text=True, env=env, check=True)  # fmt: skip
    assert len(table.stdout.splitlines()) == 61  # a header and every job, past the default page of 50
