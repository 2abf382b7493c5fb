"""The OpenJD export: the template validates with openjd-model and runs locally with openjd-sessions."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from openjd.model import (
    ParameterValue,
    ParameterValueType,
    StepParameterSpaceIterator,
    create_job,
    decode_job_template,
)
from openjd.sessions import ActionState, Session, SessionState

from proxx import Proxx
from proxx.cli import main
from proxx.media.samples import make_clip
from proxx.openjd import export_openjd
from proxx.result import load_result
from proxx.store import COMPLETED

INTENT = "Review H.264"
PROXX = str(Path(sys.executable).parent / "proxx")


def run_locally(template: Path, home: Path) -> list[ActionState]:
    """Run every task of the template's one step in local OpenJD sessions, as a scheduler would."""
    job = create_job(
        job_template=decode_job_template(template=json.loads(template.read_text())),
        job_parameter_values={"ProxxCommand": ParameterValue(type=ParameterValueType.STRING, value=PROXX)},
    )
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


def test_export_with_an_unknown_intent_writes_nothing(proxx_home, tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        export_openjd(Proxx.open(), "No Such Intent", [tmp_path / "a.mov"], tmp_path / "openjd")
    assert not (tmp_path / "openjd").exists()
