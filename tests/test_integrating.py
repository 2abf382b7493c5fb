"""The integrators' guide: docs/integrating.md gives every documented `Proxx` method's signature
as the code has it, and its example script runs a job end to end from a fresh process."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.testing import make_clip

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "integrating.md"
METHODS = [
    "open",
    "intents",
    "select",
    "expand",
    "create_job",
    "submit",
    "run_job",
    "job",
    "spec",
    "result",
    "cancel",
    "retry",
]


def test_the_guide_gives_each_method_its_real_signature() -> None:
    documented = dict(re.findall(r"^def (\w+)(\(.*\) -> [^:\n]*)$", GUIDE.read_text(encoding="utf-8"), re.MULTILINE))
    assert sorted(documented) == sorted(METHODS)
    for name in METHODS:
        actual = str(inspect.signature(getattr(Proxx, name))).replace("'", "")
        assert documented[name] == actual, name


def test_the_guides_examples_pass_mypy_strict_as_an_integrator_writes_them(tmp_path: Path) -> None:
    """Every example of the guide, in its order, as one program (the signature blocks aside): what
    an integrator type-checked with `mypy --strict` copies must check."""
    from mypy import api

    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    examples = [block for block in blocks if not block.startswith("def ") or "\n    " in block]
    program = tmp_path / "guide.py"
    program.write_text("from pathlib import Path\n\n" + "\n".join(examples), encoding="utf-8")
    out, err, code = api.run(["--strict", "--no-incremental", "--config-file", os.devnull, str(program)])
    assert code == 0, out + err


def test_run_job_given_a_jobspec_says_what_to_pass(proxx_open, proxx_clip, tmp_path) -> None:
    app = proxx_open()
    (tmp_path / "out").mkdir()
    spec = app.create_job("Review H.264", [proxx_clip(frames=6)], tmp_path / "out")
    with pytest.raises(TypeError, match=r"run_job takes a job id .* pass spec\.job_id"):
        app.run_job(spec)  # type: ignore[arg-type]
    assert app.job(spec.job_id).state == "QUEUED" and app.result(spec.job_id) is None


def test_sources_given_as_one_path_say_to_pass_a_list(proxx_open, proxx_clip, tmp_path, monkeypatch) -> None:
    """A str is a sequence of its characters: "/cards/A001" taken for sources would be "/", "c", ...,
    and "/" the whole machine. One path, as str or Path, is refused saying what to pass; nothing is made."""
    app = proxx_open()
    (tmp_path / "out").mkdir()
    clip = proxx_clip(frames=6)
    monkeypatch.chdir(clip.parent)  # the characters of a relative name, were they taken, are beside it
    for source in (clip.name, clip):
        for make in (app.create_job, app.submit, app.expand):
            with pytest.raises(TypeError, match=r"sources is a list of files and folders, not one .*: pass \["):
                make("Review H.264", source, tmp_path / "out")
    assert app.store.jobs() == []


def test_every_method_taking_a_job_id_raises_key_error_for_no_such_job(proxx_open) -> None:
    app = proxx_open()
    for method in (app.job, app.spec, app.result, app.cancel, app.retry, app.run_job):
        with pytest.raises(KeyError):
            method("job-20200101T000000Z-deadbeef")


def test_spec_is_the_stored_jobspec_and_refuses_an_altered_one(proxx_open, proxx_clip, tmp_path) -> None:
    import sqlite3

    from proxx import PreJobError

    app = proxx_open()
    (tmp_path / "out").mkdir()
    spec = app.create_job("Review H.264", [proxx_clip(frames=6)], tmp_path / "out")
    assert app.spec(spec.job_id[-8:]) == spec
    with pytest.raises(KeyError):
        app.spec("job-unknown")
    tampered = spec.to_json().replace(str(tmp_path / "out"), "/elsewhere")
    db = sqlite3.connect(app.store.path)
    db.execute("DROP TRIGGER jobspecs_immutable")  # proxx itself never changes a stored JobSpec
    db.execute("UPDATE jobspecs SET spec_json = ? WHERE job_id = ?", (tampered, spec.job_id))
    db.commit()
    db.close()
    with pytest.raises(PreJobError) as refused:
        app.spec(spec.job_id)
    assert refused.value.reason == "jobspec_altered" and spec.job_id in refused.value.message


def test_the_example_script_runs_a_job_and_prints_progress_and_facts(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "A001.mov", frames=12)
    (tmp_path / "out").mkdir()
    script = ROOT / "docs" / "examples" / "integrate.py"
    env = {**os.environ, "PROXX_HOME": str(tmp_path / "home"), "PROXX_LOAD_PLUGINS": "ffmpeg"}
    command = [sys.executable, str(script), "--intent", "Review H.264", "--output", str(tmp_path / "out"), str(source)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("job job-") and "100.0%  clip 1/1 A001.mov" in done.stdout
    assert lines[-1] == f"{tmp_path / 'out' / 'A001.mp4'}  01:00:00:00  24000/1001 fps  12 frames  160x90"


def test_the_example_script_exits_as_proxx_run_does_when_nothing_is_missing_or_home_is_unusable(
    tmp_path: Path,
) -> None:
    """Run again, the script said "no job was created" as a class A failure (exit 3) where `proxx run`
    exits 0; with a PROXX_HOME that cannot be used it printed a traceback."""
    source = make_clip(tmp_path / "A001.mov", frames=6)
    (tmp_path / "out").mkdir()
    script = ROOT / "docs" / "examples" / "integrate.py"
    command = [sys.executable, str(script), "--intent", "Review H.264", "--output", str(tmp_path / "out"), str(source)]
    env = {**os.environ, "PROXX_HOME": str(tmp_path / "home"), "PROXX_LOAD_PLUGINS": "ffmpeg"}
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert (again.returncode, again.stderr) == (0, ""), again.stdout + again.stderr
    assert again.stdout.startswith("Every source already has its verified proxy in ")
    (tmp_path / "not-a-folder").write_text("")
    unusable = {**env, "PROXX_HOME": str(tmp_path / "not-a-folder")}
    broken = subprocess.run(command, cwd=tmp_path, env=unusable, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 6 and "Traceback" not in broken.stderr, broken.stderr
    assert broken.stderr.startswith("PROXX_HOME ")


def test_run_job_of_a_job_that_already_ran_returns_none_and_its_result_is_read(proxx_open, proxx_clip, tmp_path):
    app = proxx_open()
    (tmp_path / "out").mkdir()
    spec = app.create_job("Review H.264", [proxx_clip(frames=6)], tmp_path / "out")
    first = app.run_job(spec.job_id)
    assert first is not None and first.state == "COMPLETED"
    assert app.run_job(spec.job_id) is None
    assert app.job(spec.job_id).state == "COMPLETED" and app.result(spec.job_id) == first


def test_an_errors_failure_class_is_a_failure_class_whose_value_is_the_records_letter(proxx_open) -> None:
    """As the guide says: an error's `failure_class` is a `FailureClass` (never equal to the letter
    itself), its `.value` the letter a record's `failure_class` holds."""
    from proxx import ConfigurationError, ExecutionError, FailureClass, JobValidationError, PreJobError

    with pytest.raises(PreJobError) as raised:
        proxx_open().select("No Such Intent")
    assert raised.value.failure_class is FailureClass.PRE_JOB and raised.value.failure_class != "A"
    assert raised.value.failure_class.value == "A" == raised.value.as_dict()["failure_class"]
    assert JobValidationError("r", "m").failure_class is FailureClass.VALIDATION
    assert ExecutionError("r", "m").failure_class is FailureClass.EXECUTION
    assert ConfigurationError("r", "m").failure_class is None


def test_roots_come_from_proxx_and_keep_a_job_to_its_folders(proxx_open, proxx_clip, tmp_path) -> None:
    """`create_job(..., roots=...)` as the guide documents it, with only `proxx` imported."""
    from proxx import Roots

    app = proxx_open()
    (tmp_path / "out").mkdir()
    spec = app.create_job(
        "Review H.264", [proxx_clip(frames=6)], tmp_path / "out", roots=Roots([str(tmp_path / "out")])
    )
    row = app.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == ("FAILED", "B", "source_outside_roots")


def test_the_guides_failure_handling_gives_each_class_its_exit_code(
    proxx_open, proxx_clip, tmp_path, monkeypatch, capsys
) -> None:
    """The guide's `proxy` example, run as written: class A is raised, and a job's own failure,
    class B (refused by its checks) or C (the encoder failed), is its outcome, never raised."""
    import proxx as facade
    from proxx.media import tools
    from tests.wrapped_ffmpeg import real_ffmpeg, wrapped_ffmpeg

    (example,) = [
        b
        for b in re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
        if b.startswith("def proxy(")
    ]
    names: dict[str, object] = {name: getattr(facade, name) for name in facade.__all__}
    exec(example, names)
    proxy = names["proxy"]
    app = proxx_open()
    (tmp_path / "out").mkdir()
    source = str(proxx_clip(frames=6))
    assert proxy(app, "No Such Intent", [source], str(tmp_path / "out")) == 3
    assert proxy(app, "Review H.264", [source], str(tmp_path / "missing")) == 4
    assert "does not exist" in capsys.readouterr().out
    wrapper = wrapped_ffmpeg(tmp_path, '" -progress "', f'exec "{real_ffmpeg()}" -no_such_option "$@"')
    monkeypatch.setenv("PROXX_FFMPEG", str(wrapper))
    tools.find_tool.cache_clear()
    try:
        assert proxy(app, "Review H.264", [source], str(tmp_path / "out")) == 5
    finally:
        monkeypatch.delenv("PROXX_FFMPEG")
        tools.find_tool.cache_clear()
    assert proxy(app, "Review H.264", [source], str(tmp_path / "out")) == 0
    assert proxy(app, "Review H.264", [source], str(tmp_path / "out")) == 0  # nothing missing: no job
