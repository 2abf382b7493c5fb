"""The OpenJD export: the template validates with openjd-model as a client submits it (defaults as
written), runs locally with openjd-sessions, and runs with the reference `openjd run` with no parameter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from openjd.model import (
    ParameterValue,
    ParameterValueType,
    StepParameterSpaceIterator,
    create_job,
    decode_job_template,
    preprocess_job_parameters,
)
from openjd.sessions import ActionState, Session, SessionState

from proxx import Proxx, openjd
from proxx.cli import main
from proxx.errors import ConfigurationError
from proxx.media.samples import make_clip
from proxx.openjd import TEMPLATE_NAME, export_openjd
from proxx.result import load_result
from proxx.store import COMPLETED

INTENT = "Review H.264"
BIN = Path(sys.executable).parent
PROXX = str(BIN / "proxx")


def submitted(template: Path, **given: str) -> Any:
    """The job an OpenJD client makes of the template file: decoded, its parameters preprocessed
    against the template's folder (relative PATH defaults joined to it, absolute ones refused)."""
    decoded = decode_job_template(template=json.loads(template.read_text()))
    values = preprocess_job_parameters(
        job_template=decoded,
        job_parameter_values=given,
        job_template_dir=template.parent.absolute(),
        current_working_dir=Path.cwd(),
    )
    return create_job(job_template=decoded, job_parameter_values=values)


def run_locally(template: Path, home: Path) -> list[ActionState]:
    """Run every task of the template's one step in local OpenJD sessions, as a scheduler would."""
    job = submitted(template, ProxxCommand=PROXX)
    values = {name: ParameterValue(type=ParameterValueType(p.type.value), value=p.value)
              for name, p in job.parameters.items()}  # fmt: skip
    (step,) = job.steps
    states = []
    for n, task in enumerate(StepParameterSpaceIterator(space=step.parameterSpace)):
        # One session per task: a failed task ends its session, and a scheduler would start another.
        environment = {"PROXX_HOME": str(home)}
        with Session(session_id=f"proxx-{n}", job_parameter_values=values, os_env_vars=environment) as session:
            session.run_task(step_script=step.script, task_parameter_values=task)
            deadline = time.monotonic() + 120
            while session.state == SessionState.RUNNING:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert session.action_status is not None
            states.append(session.action_status.state)
    return states


def test_the_exported_template_validates_and_runs_each_jobspec_once(proxx_home, tmp_path):
    sources = [make_clip(tmp_path / "media" / f"A00{n}.mov", frames=4) for n in range(2)]
    export = export_openjd(Proxx.open(), INTENT, sources, tmp_path / "openjd")
    document = json.loads(export.template.read_text())
    assert document["specificationVersion"] == "jobtemplate-2023-09"
    assert len(export.specs) == 2 and all(len(s.clips) == 1 for s in export.specs)

    runner_home = tmp_path / "runner-home"  # the host the scheduler picked
    assert run_locally(export.template, runner_home) == [ActionState.SUCCESS, ActionState.SUCCESS]
    on_host = Proxx.open()
    on_host.home = runner_home
    for spec in export.specs:
        row = on_host.store.job(spec.job_id)
        assert row.state == COMPLETED
        result = load_result(Path(row.result_path))
        assert result.jobspec_digest == spec.digest
        assert Path(result.clips[0].output).exists()
    # Run again (a scheduler retrying a task): refused, never run a second time.
    assert run_locally(export.template, runner_home) == [ActionState.FAILED, ActionState.FAILED]


def test_openjd_run_runs_the_exported_template_with_no_parameter(proxx_home, tmp_path):
    src = make_clip(tmp_path / "media" / "A001.mov", frames=4)
    output = tmp_path / "openjd"
    assert main(["export-openjd", "--profile", INTENT, "--output", str(output), str(src)]) == 0
    template = output / TEMPLATE_NAME
    # As a client submits it, with no parameter: JobSpecDir defaults to the folder beside the template.
    job = submitted(template)
    assert job.parameters["JobSpecDir"].value == str(output / "jobspecs")
    assert job.parameters["ProxxCommand"].value == "proxx"

    runner_home = tmp_path / "runner-home"
    elsewhere = tmp_path / "cwd"  # not the template's folder: the default must not lean on the cwd
    elsewhere.mkdir()
    env = {**os.environ, "PROXX_HOME": str(runner_home), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(BIN / "openjd"), "run", str(template)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (spec_file,) = (output / "jobspecs").iterdir()
    on_host = Proxx.open()
    on_host.home = runner_home
    row = on_host.store.job(spec_file.stem)
    assert row.state == COMPLETED
    result = load_result(Path(row.result_path))
    (clip,) = result.clips
    assert clip.checks and all(check.passed for check in clip.checks)
    assert Path(clip.output) == output / "proxies" / "A001.mp4" and Path(clip.output).stat().st_size > 0


def test_run_spec_refuses_an_altered_file(proxx_home, tmp_path, capsys):
    src = make_clip(tmp_path / "A001.mov", frames=4)
    export = export_openjd(Proxx.open(), INTENT, [src], tmp_path / "openjd")
    (spec,) = export.specs
    path = tmp_path / "openjd" / "jobspecs" / f"{spec.job_id}.json"
    altered = json.loads(path.read_text())
    altered["clips"][0]["output"] = str(tmp_path / "elsewhere.mov")
    path.write_text(json.dumps(altered))
    assert main(["run-spec", str(path), "--digest", spec.digest]) == 4
    assert "does not match its digest" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere.mov").exists()


def test_run_spec_runs_only_what_compiling_its_intent_gives_here(proxx_home, tmp_path, capsys):
    # A digest anyone can compute: a file written by hand, naming a deprecated intent, is refused
    # as choosing that intent is (class A), and no job is created.
    src = make_clip(tmp_path / "A001.mov", frames=4)
    (spec,) = export_openjd(Proxx.open(), INTENT, [src], tmp_path / "openjd").specs
    origin = attrs.evolve(spec.proxy_profile_origin, name="Legacy_ProRes_422")
    forged = attrs.evolve(spec, proxy_profile_origin=origin)
    path = tmp_path / "forged.json"
    path.write_text(forged.to_json())
    assert main(["run-spec", str(path), "--digest", forged.digest]) == 3
    assert "'Legacy_ProRes_422' is deprecated and cannot be used for new jobs" in capsys.readouterr().err
    assert Proxx.open().store.jobs() == [] and not Path(spec.clips[0].output).exists()


def test_export_never_writes_through_a_link_planted_at_its_jobspecs_folder(proxx_home, tmp_path, capsys):
    src = make_clip(tmp_path / "A001.mov", frames=4)
    export, victim = tmp_path / "export", tmp_path / "victim"
    export.mkdir()
    victim.mkdir()
    (export / "jobspecs").symlink_to(victim)
    argv = ["export-openjd", "--profile", INTENT, "--output", str(export), str(src)]
    assert main(argv) == 3
    assert "is not a folder proxx can use" in capsys.readouterr().err
    assert list(victim.iterdir()) == [] and not (export / "template.json").exists()


def test_export_with_an_unknown_intent_writes_nothing(proxx_home, tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        export_openjd(Proxx.open(), "No Such Intent", [tmp_path / "a.mov"], tmp_path / "openjd")
    assert not (tmp_path / "openjd").exists()


def test_a_template_openjd_model_refuses_is_never_written(proxx_home, tmp_path, monkeypatch):
    src = make_clip(tmp_path / "A001.mov", frames=4)
    written = openjd.job_template

    def absolute_default(intent, specs):  # the template proxx used to write
        document = written(intent, specs)
        document["parameterDefinitions"][0]["default"] = str(tmp_path / "openjd" / "jobspecs")
        return document

    monkeypatch.setattr(openjd, "job_template", absolute_default)
    with pytest.raises(ConfigurationError, match="PATH parameter JobSpecDir is an absolute path") as refused:
        export_openjd(Proxx.open(), INTENT, [src], tmp_path / "openjd")
    assert refused.value.reason == "openjd_template_refused"
    assert not (tmp_path / "openjd").exists()


@pytest.mark.parametrize("planted", ["file", "link"])
def test_export_never_replaces_a_template_json_already_there(proxx_home, tmp_path, capsys, planted):
    src = make_clip(tmp_path / "A001.mov", frames=3)
    export, victim = tmp_path / "export", tmp_path / "victim.json"
    export.mkdir()
    victim.write_text("another user's file\n")
    if planted == "file":
        (export / TEMPLATE_NAME).write_text("another user's file\n")
    else:
        (export / TEMPLATE_NAME).symlink_to(victim)
    argv = ["export-openjd", "--profile", INTENT, "--output", str(export), str(src)]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert f"'{export / TEMPLATE_NAME}' already exists, and proxx never replaces a file" in err
    assert "Traceback" not in err
    assert (export / TEMPLATE_NAME).read_text() == "another user's file\n"  # through a link: the victim's
    assert victim.read_text() == "another user's file\n"
    assert (export / TEMPLATE_NAME).is_symlink() == (planted == "link")
    assert sorted(p.name for p in export.iterdir()) == ["jobspecs", TEMPLATE_NAME]
    assert list((export / "jobspecs").iterdir()) == []


def test_export_openjd_shows_each_source_escaped(proxx_home, tmp_path, capsys):
    """The line per JobSpec named its source as it is: a name with an escape sequence recoloured the
    operator's terminal."""
    clip = make_clip(tmp_path / "e\x1b[31mRED\x1b]0;TITLE\x07.mov", frames=4)
    assert main(["export-openjd", "--profile", "Review H.264", "--output", str(tmp_path / "export"), str(clip)]) == 0
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown
    assert "e\\x1b[31mRED\\x1b]0;TITLE\\x07.mov" in shown


def test_a_card_folder_exports_one_jobspec_per_clip_beneath_it(proxx_home, tmp_path, capsys):
    """A folder given to `export-openjd` stands for its video files, as it does for `proxx run`: it was
    one JobSpec whose source was the folder, which every host refused ("not a regular file")."""
    card = tmp_path / "A001"
    clips = [make_clip(card / "CLIP" / f"C000{n}.MP4", frames=4) for n in range(2)]
    (card / "CLIP" / "C0000.THM").write_bytes(b"thumbnail")
    output = tmp_path / "openjd"
    assert main(["export-openjd", "--profile", INTENT, "--output", str(output), str(card)]) == 0
    assert f"Skipped: {card / 'CLIP' / 'C0000.THM'}: a thumbnail, not a camera clip" in capsys.readouterr().err
    specs = sorted((output / "jobspecs").iterdir())
    documents = [json.loads(path.read_text()) for path in specs]
    assert sorted(d["clips"][0]["source"] for d in documents) == [str(c) for c in clips]
    assert sorted(d["clips"][0]["output"] for d in documents) == [
        str(output / "proxies" / "A001" / "CLIP" / f"C000{n}.mp4") for n in range(2)
    ]
    runner_home = tmp_path / "runner-home"
    assert run_locally(output / TEMPLATE_NAME, runner_home) == [ActionState.SUCCESS, ActionState.SUCCESS]
    assert all((output / "proxies" / "A001" / "CLIP" / f"C000{n}.mp4").stat().st_size > 0 for n in range(2))
