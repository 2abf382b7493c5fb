"""Spec section "Operator Mental Model": operators choose intents; what they see and never see.

"What Operators Never See" is checked on every operator surface (`surfaces.py`: the CLI's stdout and
stderr, `jobs list`, `jobs show`, the web's pages, its form's answers, the operator API's JSON and
the log it shows) after failures of every class, with the forbidden words collected from the
registry and the installed engines."""

from __future__ import annotations

import re

import pytest

from proxx import Proxx
from proxx.cli import build_parser, main
from proxx.store import COMPLETED


def _options(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {o for a in sub.choices[command]._actions for o in a.option_strings}  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["run", "submit", "watch"])
def test_1_operators_never_configure_encoding_parameters(command):
    options = _options(command)
    assert "--profile" in options
    encoding = re.compile(r"codec|bitrate|resolution|size|scale|crf|preset|quality|container|format|flag|engine")
    assert not [o for o in options if encoding.search(o)], options


def test_2_operators_never_influence_execution_once_the_job_starts():
    jobs = build_parser()._subparsers._group_actions[0].choices["jobs"]  # type: ignore[union-attr]
    verbs = set(next(a for a in jobs._actions if a.dest and a.choices).choices)  # type: ignore[arg-type]
    # cancel ends a job (FAILED); nothing changes what a job does while it runs
    assert verbs == {"list", "show", "cancel", "hide", "clean", "retry"}


def test_3_operators_select_outcomes_not_methods_a_canonical_id_is_no_intent(proxx_home, clip, out, capsys):
    assert main(["run", "--profile", "proxy_h264_low", "--output", str(out), str(clip)]) == 3
    assert capsys.readouterr().err.strip() == "proxx: Intent 'proxy_h264_low' does not exist."
    assert Proxx.open().store.jobs() == []


def test_4_the_system_determines_how_the_canonical_profile_s_engine_renders(proxx_home, clip, out):
    proxx = Proxx.open()
    spec = proxx.create_job("Review H.264", [clip], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED
    assert result.engine.name == spec.canonical_profile.engine and result.proxy_profile == spec.proxy_profile


def test_5_operators_see_named_intents_with_their_description(proxx_home, capsys):
    assert main(["profiles"]) == 0
    listed = capsys.readouterr().out
    for status in Proxx.open().intents():
        if status.selectable:
            assert status.name in listed and status.description.split(".")[0] in listed


def test_6_operators_see_job_creation_success_or_explicit_failure(proxx_home, clip, out, tmp_path, capsys):
    assert main(["submit", "--profile", "Review H.264", "--output", str(out), str(clip)]) == 0
    (job,) = Proxx.open().store.jobs()
    assert job.job_id in capsys.readouterr().out
    assert main(["submit", "--profile", "Legacy_ProRes_422", "--output", str(out), str(clip)]) == 3
    assert "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs." in capsys.readouterr().err


def test_7_operators_see_output_files_and_verification_results(proxx_home, clip, out, capsys):
    proxx = Proxx.open()
    spec = proxx.create_job("Review H.264", [clip], out)
    proxx.run_job(spec.job_id)
    assert main(["jobs", "show", "--verbose", spec.job_id]) == 0
    shown = capsys.readouterr().out
    assert spec.clips[0].output in shown, shown
    assert "ok   Format: as the intent promises" in shown and "FAIL" not in shown


def test_8_operators_never_see_canonical_profile_identifiers(operator_surfaces):
    ids = {p.id for p in Proxx.open().repository.registry} | {"studio_h264_elsewhere"}
    pattern = re.compile(r"(?<![\w./-])(?:" + "|".join(map(re.escape, ids)) + r")(?![\w/])", re.IGNORECASE)
    assert operator_surfaces.found(pattern) == {}
    assert len(operator_surfaces.texts) > 60  # every surface was reached


def test_9_operators_never_see_command_lines(operator_surfaces):
    from tests.conformance.surfaces import COMMAND_LINE

    assert operator_surfaces.found(re.compile(COMMAND_LINE)) == {}


def test_10_operators_never_see_engine_selection_logic(operator_surfaces):
    engines = "|".join(map(re.escape, operator_surfaces.engines | {"DaVinci", "FFprobe"}))
    assert operator_surfaces.found(re.compile(rf"(?<![\w./-])(?:{engines})(?![\w/])", re.IGNORECASE)) == {}
    shown = "\n".join(operator_surfaces.messages.values())
    assert not re.search(r"\bengines?\b", shown, re.IGNORECASE)  # not even why one was or was not chosen


def test_11_operators_never_see_compilation_rules(proxx_home, capsys):
    assert main(["profiles", "--all"]) == 0
    listed = capsys.readouterr().out
    rules = ("intra_frame_only", "allow_long_gop", "max_resolution", "preferred_codecs", "engine_preference", "codecs:")
    assert not [rule for rule in rules if rule in listed]
