"""The operator's CLI: exit codes per failure class, no canonical detail, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import schemas
from proxx.media.samples import make_clip
from tests.test_cli_profiles import FORBIDDEN

PROXX = [sys.executable, "-m", "proxx"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("src") / "A001_C001.mov", frames=6)


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROXX_HOME": str(home)}
    return subprocess.run([*PROXX, *args], capture_output=True, text=True, env=env, timeout=120)


def operator_text(done: subprocess.CompletedProcess, *allowed: str) -> str:
    text = done.stdout + done.stderr
    for word in allowed:
        text = text.replace(word, "")
    return text


def assert_no_canonical_detail(text: str) -> None:
    for line in text.splitlines():
        assert not FORBIDDEN.search(line), line
    assert "Traceback" not in text


def test_run_succeeds_and_says_where_the_proxy_and_result_are(tmp_path, clip):
    out = tmp_path / "out"
    out.mkdir()
    done = cli(tmp_path / "home", "run", "--profile", "HD Editorial LT", "--output", str(out), str(clip), "--verbose")
    assert done.returncode == 0, done.stderr
    assert f"Proxy:  {out / 'A001_C001.mov'}" in done.stdout
    result_path = Path(done.stdout.split("Result: ")[1].split()[0])
    document = json.loads(result_path.read_text())
    assert schemas.violations(document, schemas.JOB_RESULT) == []
    assert_no_canonical_detail(operator_text(done, "HD Editorial LT", str(clip), str(out), str(tmp_path)))


def test_class_a_exits_3_and_creates_nothing(tmp_path, clip):
    home = tmp_path / "home"
    for profile, message in (
        ("Nope", "proxx: Intent 'Nope' does not exist.\n"),
        (
            "Legacy_ProRes_422",
            # never a suggestion of another intent (the contract's "no 'did you mean?'")
            "proxx: Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs.\n",
        ),
    ):
        done = cli(home, "run", "--profile", profile, "--output", str(tmp_path), str(clip))
        assert (done.returncode, done.stderr) == (3, message)
    assert json.loads(cli(home, "jobs", "list", "--json").stdout) == []


def test_class_b_exits_4_with_the_message_and_where_the_result_is(tmp_path, clip):
    args = ("run", "--profile", "HD Editorial LT", "--output", str(tmp_path / "none"), str(clip))
    done = cli(tmp_path / "home", *args)
    assert done.returncode == 4
    assert f"Output folder '{tmp_path / 'none'}' does not exist." in done.stderr
    assert "Result: " not in done.stderr and "Log: " not in done.stderr  # for integrators and --verbose
    verbose = cli(tmp_path / "home", *args, "--verbose")
    assert "Result: " in verbose.stderr and "Log: " in verbose.stderr
    assert_no_canonical_detail(operator_text(done, "HD Editorial LT", str(tmp_path)))


def test_class_c_exits_5(tmp_path, clip):
    out = tmp_path / "out"
    out.mkdir()
    env_home = tmp_path / "home"
    env = {**os.environ, "PROXX_HOME": str(env_home), "PROXX_TIMEOUT_MIN": "0", "PROXX_TIMEOUT_FACTOR": "0"}
    done = subprocess.run([*PROXX, "run", "--profile", "HD Editorial LT", "--output", str(out), str(clip)],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert "took longer than the 0 seconds allowed for it and was stopped" in done.stderr  # never an engine's name
    assert "FFmpeg" not in done.stderr and "timed out after" not in done.stderr


def test_usage_error_exits_2(tmp_path):
    assert cli(tmp_path, "run", "--output", str(tmp_path)).returncode == 2


def test_jobs_show_and_list_for_operators_and_integrators(tmp_path, clip):
    home = tmp_path / "home"
    out = tmp_path / "out"
    out.mkdir()
    cli(home, "run", "--profile", "Review H.264", "--output", str(out), str(clip))
    (job,) = json.loads(cli(home, "jobs", "list", "--json").stdout)
    assert job["proxy_profile"] == "proxy_h264_low"  # integrator output carries the canonical id
    shown = cli(home, "jobs", "show", job["job_id"][-8:])
    assert shown.returncode == 0
    assert "State     COMPLETED" in shown.stdout and "A001_C001.mov  published  -> " in shown.stdout
    verbose = cli(home, "jobs", "show", job["job_id"][-8:], "--verbose").stdout
    assert "ok   Frame rate: expected 23.976 fps, actual 23.976 fps" in verbose
    assert_no_canonical_detail(operator_text(shown, "Review H.264", str(tmp_path)))
    listed = cli(home, "jobs", "list")
    header, line = listed.stdout.splitlines()
    assert header.split() == ["JOB", "STATE", "INTENT", "SOURCE", "PUBLISHED", "FAILED", "AGE"]
    assert line.split()[:7] == [job["job_id"][-8:], "COMPLETED", "Review", "H.264", "A001_C001.mov", "1/1", "0"]
    assert_no_canonical_detail(operator_text(listed, "Review H.264", str(tmp_path)))
    full = json.loads(cli(home, "jobs", "show", job["job_id"], "--json").stdout)
    assert full["result"]["clips"][0]["state"] == "completed"


def test_jobs_retry_from_the_cli(tmp_path, clip):
    home = tmp_path / "home"
    out = tmp_path / "out"
    cli(home, "run", "--profile", "HD Editorial LT", "--output", str(out), str(clip))  # fails: no folder
    (job,) = json.loads(cli(home, "jobs", "list", "--json").stdout)
    out.mkdir()
    queued = cli(home, "jobs", "retry", job["job_id"])  # without --run: said to wait, and for what
    assert "QUEUED as a retry of" in queued.stdout and "waits for `proxx worker`" in queued.stdout
    cli(home, "jobs", "cancel", queued.stdout.split()[1])
    done = cli(home, "jobs", "retry", job["job_id"], "--run")
    assert done.returncode == 0, done.stderr
    assert f"as a retry of {job['job_id']}" in done.stdout
    states = {j["job_id"]: j["state"] for j in json.loads(cli(home, "jobs", "list", "--json").stdout)}
    assert states[job["job_id"]] == "FAILED" and sorted(states.values()) == ["COMPLETED", "FAILED", "FAILED"]


def test_a_retry_refused_as_it_is_created_is_said_failed_with_its_exit_code(tmp_path, clip):
    """It said "QUEUED as a retry ... It waits for `proxx worker`", exit 0, for a job already FAILED."""
    home = tmp_path / "home"
    cli(home, "run", "--profile", "HD Editorial LT", "--output", str(tmp_path / "out"), str(clip))  # no folder
    (job,) = json.loads(cli(home, "jobs", "list", "--json").stdout)
    retried = cli(home, "jobs", "retry", job["job_id"])  # the folder is still missing: refused again
    assert retried.returncode == 4, retried.stdout + retried.stderr
    assert "QUEUED" not in retried.stdout + retried.stderr
    assert "FAILED (job validation failure, class B): Output folder" in retried.stderr
    as_json = cli(home, "jobs", "retry", job["job_id"], "--json")
    assert (as_json.returncode, json.loads(as_json.stdout)["state"]) == (4, "FAILED")


def test_a_retry_whose_intent_now_makes_other_proxies_is_refused_and_creates_nothing(tmp_path, clip):
    """A retry compiled its intent afresh and made the missing clips with whatever it compiled to now
    (here a quarter-size picture where the job made half-size ones), and said nothing: JobSpecs are
    immutable, and a retry with another profile is the contract's silent substitution."""
    home, studio, out = tmp_path / "home", tmp_path / "studio", tmp_path / "out"
    (studio / "user").mkdir(parents=True)
    intent = studio / "user" / "dailies.yaml"
    dailies = 'user_profile_version: "1.1"\nname: Dailies\nconstraints:\n  codecs: [h264]\n  resolution: [{size}]\n'
    intent.write_text(dailies.format(size="scale_50"))
    home.mkdir()
    (home / "proxx.toml").write_text(f'[profiles]\nrepositories = ["{studio}"]\n')
    cli(home, "run", "--profile", "Dailies", "--output", str(out), str(clip))  # fails: no folder
    (job,) = json.loads(cli(home, "jobs", "list", "--json").stdout)
    out.mkdir()
    intent.write_text(dailies.format(size="scale_25"))  # the studio's profiles changed since
    retried = cli(home, "jobs", "retry", job["job_id"], "--run")
    assert retried.returncode == 3, retried.stdout + retried.stderr
    assert retried.stderr == (
        f"proxx: Job {job['job_id']} cannot be retried: intent 'Dailies' now makes its proxies differently than "
        "when the job was created (its profiles changed since), and a retry makes the missing clips exactly as the "
        "job's others were made. Nothing was created. To make them as 'Dailies' is now, choose it again for them "
        "in a new job (`proxx run` or `proxx submit`).\n"
    )
    assert len(json.loads(cli(home, "jobs", "list", "--json").stdout)) == 1 and list(out.iterdir()) == []
    intent.write_text(dailies.format(size="scale_50"))  # as it was: the retry makes them as the job would have
    assert cli(home, "jobs", "retry", job["job_id"], "--run").returncode == 0


def test_demo_ends_with_a_verified_proxy(tmp_path):
    done = cli(tmp_path / "home", "demo")
    assert done.returncode == 0, done.stderr
    assert "COMPLETED: 1 verified proxy published with 'HD Editorial LT'" in done.stdout
    proxy = Path(done.stdout.split("Proxy:  ")[1].split("\n")[0])
    assert proxy.exists() and proxy.parent.name == "proxies"


def cut_in_half(tmp_path: Path, name: str) -> Path:
    """A clip whose header promises 48 frames and whose data stops half way: it passes validation
    and fails in the render or its verification (class C, that clip only)."""
    from proxx.media.tools import require_tool

    whole = tmp_path / f"whole-{name}"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24",
         "-frames:v", "48", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", str(whole)],
        check=True,
    )  # fmt: skip
    broken = tmp_path / name
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    return broken


def test_a_job_refused_before_it_ran_is_counted_alike_in_the_list_and_alone(tmp_path, clip):
    """A job refused in class B counts every clip failed in `jobs list` (and the API); `jobs show`
    said "0 failed, 2 not run" of the same job. It now says the list's count, and why none ran."""
    out = tmp_path / "out"
    out.mkdir()
    home = tmp_path / "home"
    gone = make_clip(tmp_path / "A001_C002.mov", frames=2)
    assert (
        cli(home, "submit", "--profile", "HD Editorial LT", "--output", str(out), str(clip), str(gone)).returncode == 0
    )
    gone.unlink()  # the card taken out before a worker looked
    assert cli(home, "worker", "--once").returncode == 4  # class B's exit code
    (listed,) = cli(home, "jobs", "list").stdout.splitlines()[1:]
    assert listed.split()[1] == "FAILED" and listed.split()[-3] == "2", listed  # FAILED 2, then its age
    shown = cli(home, "jobs", "show", listed.split()[0]).stdout
    assert "Outcome   0 proxies published, 2 failed: refused before any was run" in shown


def test_a_failed_batch_names_each_failed_clip_and_counts_the_published(tmp_path, clip, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    other = make_clip(tmp_path / "A001_C002.mov", frames=6)
    broken = cut_in_half(tmp_path, "B001_C001.mov")
    home = tmp_path / "home"
    done = cli(home, "run", "--profile", "HD Editorial LT", "--output", str(out), str(clip), str(broken), str(other))
    assert done.returncode == 5, done.stderr
    assert done.stdout.splitlines()[:2] == [f"Proxy:  {out / 'A001_C001.mov'}", f"Proxy:  {out / 'A001_C002.mov'}"]
    failed = [line for line in done.stderr.splitlines() if line.startswith("Failed: ")]
    assert len(failed) == 1 and failed[0].startswith("Failed: B001_C001.mov: ")
    assert "1 of 3 clips failed, 2 proxies published with 'HD Editorial LT'." in done.stderr
    job_id = json.loads(cli(home, "jobs", "list", "--json").stdout)[0]["job_id"]
    shown = cli(home, "jobs", "show", job_id)
    assert "Outcome   2 proxies published, 1 failed, 0 not run" in shown.stdout
    assert f"Output    {out}" in shown.stdout
    assert_no_canonical_detail(operator_text(shown, "HD Editorial LT", str(tmp_path)))

    # A job of more clips than `jobs show` lists (a card): its failed clips, and the others counted.
    from proxx.cli import jobs, main

    monkeypatch.setenv("PROXX_HOME", str(home))
    monkeypatch.setattr(jobs, "LISTED_CLIPS", 2)
    capsys.readouterr()
    assert main(["jobs", "show", job_id]) == 0
    listed = capsys.readouterr().out.split("Clips\n")[1].splitlines()
    assert listed[0] == "  B001_C001.mov  FAILED" and all(line.startswith("      ") for line in listed[1:3])
    assert "  (2 published not listed: --all lists every clip)" in listed
    assert main(["jobs", "show", "--all", job_id]) == 0
    everything = capsys.readouterr().out.split("Clips\n")[1]
    assert everything.count("  published  -> ") == 2 and "not listed" not in everything


def test_every_class_b_problem_is_listed_one_a_line(tmp_path):
    done = cli(tmp_path / "home", "run", "--profile", "HD Editorial LT", "--output", str(tmp_path / "none"),
               str(tmp_path / "a.mov"), str(tmp_path / "b.mov"))  # fmt: skip
    assert done.returncode == 4
    assert "3 problems, nothing was run:\n" in done.stderr
    for missing in ("a.mov", "b.mov"):
        assert f"- Source file '{tmp_path / missing}' does not exist." in done.stderr
    assert f"- Output folder '{tmp_path / 'none'}' does not exist." in done.stderr


def test_a_closed_pipe_is_no_error(tmp_path, clip):
    home = tmp_path / "home"
    out = tmp_path / "out"
    out.mkdir()
    cli(home, "run", "--profile", "Review H.264", "--output", str(out), str(clip))
    env = {**os.environ, "PROXX_HOME": str(home)}
    # `proxx jobs show ID | head -2`: the reader is gone before proxx writes (here: before it starts).
    read, write = os.pipe()
    os.close(read)
    try:
        shown = subprocess.run([*PROXX, "jobs", "show", "--json", _only_job(home)], stdout=write,
                               stderr=subprocess.PIPE, text=True, env=env, timeout=120)  # fmt: skip
    finally:
        os.close(write)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert not (home / "logs").exists()  # no internal error was logged


def _only_job(home: Path) -> str:
    (job,) = json.loads(cli(home, "jobs", "list", "--json").stdout)
    return str(job["job_id"][-8:])


def test_each_command_module_names_the_commands_it_adds_and_a_command_line_builds_its_own():
    import argparse

    from proxx.cli import build_parser, doctor, jobs, openjd, profiles, serve, watch

    modules = (profiles, doctor, jobs, serve, watch, openjd)
    for module in modules:
        sub = argparse.ArgumentParser().add_subparsers()
        module.register(sub, lambda parser: None)
        assert tuple(sub.choices) == module.COMMANDS, module.__name__

    def commands(parser: argparse.ArgumentParser) -> list[str]:
        return [name for action in parser._actions if action.dest == "command" for name in action.choices]  # type: ignore[union-attr]

    assert commands(build_parser(["jobs", "show", "x"])) == list(jobs.COMMANDS)
    assert build_parser(["jobs", "show", "x"]).parse_args(["jobs", "show", "x"]).job_id == "x"
    assert commands(build_parser(["validate"])) == list(profiles.COMMANDS)
    every = commands(build_parser([]))  # the usage lists them all, the plugins' too
    assert set(every) >= {name for module in modules for name in module.COMMANDS}


def test_jobs_list_fits_a_terminal_by_shortening_source_names_in_the_middle():
    from proxx.cli.jobs import _fitted

    table = [
        ("JOB", "STATE", "INTENT", "SOURCE", "PUBLISHED", "FAILED", "AGE"),
        (
            "f9c9c0df",
            "COMPLETED",
            "HD Editorial LT",
            "A001_C001_0101AB_Interview_Take_2.MOV (+12)",
            "13/13",
            "0",
            "1 min",
        ),
    ]
    (_, row) = _fitted(table, 80)
    line = "  ".join(row)
    assert len(line) <= 80 and row[3] == "A001…2.MOV (+12)"  # the reel, the end and the count kept
    assert _fitted(table, 200) == table  # room enough: every name whole


def test_submit_says_a_job_refused_as_it_was_created_failed(tmp_path, clip):
    done = cli(
        tmp_path / "home", "submit", "--profile", "HD Editorial LT", "--output", str(tmp_path / "none"), str(clip)
    )
    said = done.stdout + done.stderr
    assert done.returncode == 4 and "QUEUED" not in said
    assert "FAILED (job validation failure, class B)" in said and "does not exist" in said


def test_a_followed_job_no_worker_takes_is_said_to_wait_and_verbose_names_its_files(
    tmp_path, clip, monkeypatch, capsys
):
    import threading
    import time

    from proxx import Proxx
    from proxx.cli import jobs, main

    monkeypatch.setenv("PROXX_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(jobs, "QUEUED_NOTE_SECONDS", 0.3)
    out = tmp_path / "out"
    out.mkdir()

    def worker_comes_late() -> None:  # a worker that starts well after the job was queued
        proxx = Proxx.open()
        deadline = time.monotonic() + 60
        while not proxx.store.jobs():  # counted from the job's creation, however long creating it took
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.5)
        (row,) = proxx.store.jobs()
        proxx.run_job(row.job_id)

    late = threading.Thread(target=worker_comes_late)
    late.start()
    try:
        code = main(["submit", "--follow", "--verbose", "--profile", "Review H.264", "--output", str(out), str(clip)])
    finally:
        late.join(120)
    said = capsys.readouterr()
    assert code == 0
    assert said.err.count("Still QUEUED after 0.3 s: no worker (`proxx worker`, `proxx serve`) has taken it yet.") == 1
    assert "Result: " in said.out and "Log:    " in said.out  # --verbose, as `proxx run --verbose`


def test_following_a_job_that_completed_draws_its_bar_full(tmp_path, clip, monkeypatch):
    import threading

    from proxx import Proxx
    from proxx.cli.jobs import ProgressBar, _follow

    monkeypatch.setenv("PROXX_HOME", str(tmp_path / "home"))
    (tmp_path / "out").mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("Review H.264", [clip], tmp_path / "out")
    proxx.run_job(spec.job_id)
    drawn = []

    class Drawn(ProgressBar):
        def __call__(self, progress):
            drawn.append(progress.fraction)

    _follow(proxx, spec.job_id, Drawn(), threading.Event())
    assert drawn == [1.0]  # a farm job's last look may have been at 99 %


def test_jobs_show_in_a_terminal_wraps_between_words_under_the_text():
    from proxx.cli.jobs import _wrapped

    problem = "Source file '/cards/B/X.mov' is not a decodable video: it is damaged or not a video file."
    assert _wrapped("          - ", problem, "            ", 60).splitlines() == [
        "          - Source file '/cards/B/X.mov' is not a decodable",
        "            video: it is damaged or not a video file.",
    ]
    long_name = "'/" + "a" * 70 + ".mov'"  # a name longer than the line stays whole
    assert _wrapped("      ", long_name + " is missing.", "      ", 40).splitlines() == [
        f"      {long_name}",
        "      is missing.",
    ]


def test_worker_once_ends_with_the_exit_code_of_the_jobs_that_failed(tmp_path, clip):
    home = tmp_path / "home"
    out = tmp_path / "out"
    out.mkdir()
    assert cli(home, "submit", "--profile", "HD Editorial LT", "--output", str(out), str(clip)).returncode == 0
    done = cli(home, "worker", "--once")
    assert done.returncode == 0 and "worker ran 1 job(s)" in done.stdout
    (tmp_path / "out2").mkdir()
    assert (
        cli(home, "submit", "--profile", "HD Editorial LT", "--output", str(tmp_path / "out2"), str(clip)).returncode
        == 0
    )
    (tmp_path / "out2").rmdir()  # gone before a worker takes the job: refused then, in class B
    done = cli(home, "worker", "--once")
    assert done.returncode == 4 and "worker ran 1 job(s), 1 FAILED" in done.stdout, done.stdout + done.stderr


def test_a_job_is_named_by_its_id_never_by_a_pattern(proxx_home, tmp_path, capsys):
    """An id or its start or end, compared as text: '%', '_' or nothing named the only job (`jobs
    cancel _` cancelled it), and an id of 100,000 characters was an internal error."""
    from proxx import Proxx
    from proxx.cli import main
    from proxx.store import QUEUED

    source = make_clip(tmp_path / "A001.mov", frames=2)
    (tmp_path / "out").mkdir()
    spec = Proxx.open().submit("Review H.264", [source], tmp_path / "out")  # queued: the only job
    for given in ("%", "_", "", "________", "%" + spec.job_id[-4:], "x" * 100_000):
        assert main(["jobs", "cancel", given, "--wait", "0"]) == 2, given[:20]
        assert main(["jobs", "show", given]) != 0, given[:20]
        said = capsys.readouterr().err
        assert "no job matches" in said and "internal error" not in said, said[:200]
    assert Proxx.open().store.job(spec.job_id).state == QUEUED
    assert main(["jobs", "show", spec.job_id[-8:]]) == 0
    assert main(["jobs", "cancel", "a\x1b[31mb", "--wait", "0"]) == 2
    assert "'a\\x1b[31mb'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["jobs", "list", "--limit", "1" + "0" * 24],
        ["jobs", "list", "--limit", "-1"],
        ["jobs", "cancel", "x", "--wait", "nan"],
        ["sign-jobspec", "spec.json", "--inbox", "x", "--output", "out.json", "--hours", "nan"],
        ["sign-jobspec", "spec.json", "--inbox", "x", "--output", "out.json", "--hours", "inf"],
        ["sign-jobspec", "spec.json", "--inbox", "x", "--output", "out.json", "--hours", "-1"],
        ["watch", "in", "--profile", "Review H.264", "--output", "out", "--settle", "nan"],
        ["watch", "in", "--profile", "Review H.264", "--output", "out", "--interval", "-1"],
        ["worker", "--concurrency", "0"],
        ["serve", "--port", "99999"],
        ["serve", "--max-body", "-1"],
    ],
    ids=lambda argv: " ".join(argv[:2] + argv[-2:]),
)
def test_a_number_out_of_range_is_a_usage_error(proxx_home, argv, capsys):
    """A count past SQLite's integers, 'nan' or 'inf' for seconds or hours were internal errors; a
    negative limit listed every job; 'nan' seconds to settle handled a copy at once."""
    from proxx.cli import main

    with pytest.raises(SystemExit) as usage:
        main(argv)
    assert usage.value.code == 2
    said = capsys.readouterr().err
    assert f"error: argument {argv[-2]}:" in said and "internal error" not in said
