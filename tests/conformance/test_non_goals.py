"""Spec section "Non-Goals": no per-job overrides, no silent fallbacks."""

from __future__ import annotations

import hashlib
import re

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.resources import bundled_profiles_dir


@pytest.mark.parametrize("command", ["run", "submit"])
def test_2_no_per_job_overrides_the_commands_that_create_jobs_take_no_repository(
    proxx_home, tmp_path, clip, out, capsys, command
):
    studio = tmp_path / "studio"
    (studio / "user").mkdir(parents=True)
    (studio / "user" / "hd.yaml").write_text(
        'user_profile_version: "1.1"\nname: HD Editorial LT\noverrides: true\nconstraints:\n  codecs: [h264]\n'
        "  resolution: [scale_25]\n"
    )
    with pytest.raises(SystemExit) as usage:
        main([command, "--profiles", str(studio), "--profile", "HD Editorial LT", "--output", str(out), str(clip)])
    assert usage.value.code == 2 and "unrecognized arguments: --profiles" in capsys.readouterr().err
    assert Proxx.open().store.jobs() == []


def test_2_the_origin_records_the_defining_file_and_its_digest(proxx_home, clip, out):
    spec = Proxx.open().create_job("HD Editorial LT", [clip], out)
    defining = bundled_profiles_dir() / "user" / "hd_editorial_lt.yaml"
    assert spec.proxy_profile_origin.file == str(defining)
    assert spec.proxy_profile_origin.digest == "sha256:" + hashlib.sha256(defining.read_bytes()).hexdigest()
    assert spec.proxy_profile_origin.overrides == ""


def test_6_no_silent_fallback_an_intent_defined_twice_is_no_intent(proxx_home, tmp_path, clip, out, monkeypatch):
    studio = tmp_path / "studio"
    (studio / "user").mkdir(parents=True)
    (studio / "user" / "hd.yaml").write_text(
        'user_profile_version: "1.1"\nname: HD Editorial LT\nconstraints:\n  codecs: [h264]\n  resolution: [scale_25]\n'
    )
    monkeypatch.setenv("PROXX_PROFILES", str(studio))
    proxx = Proxx.open()
    with pytest.raises(Exception, match="is defined in both"):
        proxx.create_job("HD Editorial LT", [clip], out)
    assert proxx.store.jobs() == []


def test_1_no_advanced_settings_in_the_operator_api(proxx_home):
    from proxx.web.models import CreateJob

    settings = {"bitrate", "resolution", "codec", "container", "quality", "size", "preset", "engine"}
    schema = str(CreateJob.model_json_schema()).lower()
    assert not [word for word in settings if f"'{word}" in schema]


def test_2_no_runtime_parameter_injection_a_jobspec_whose_snapshot_differs_is_refused(proxx_home, tmp_path, clip, out):
    import json

    from proxx.jobspec.model import create_jobspec, utc_now
    from proxx.roots import Roots
    from proxx.watch.watcher import JobSpecInbox

    proxx = Proxx.open()
    spec = create_jobspec(proxx.select("Review H.264"), [clip], out, utc_now(), proxx.requirements("ffmpeg"))
    document = json.loads(spec.to_json())
    document["canonical_profile"]["resolution"] = "source"  # "just this once": a full-size proxy
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "spec.json").write_text(json.dumps(document))
    (event,) = JobSpecInbox(proxx, inbox, Roots([tmp_path, clip.parent]), settle=0.0).poll()
    assert event.outcome == "failed" and proxx.store.jobs() == []


def test_3_no_automatic_profile_update_from_source_analysis(proxx_home, tmp_path, clip, out):
    from proxx.media.samples import make_clip

    large = make_clip(tmp_path / "B001_C001.mov", frames=2, size="1280x720")
    proxx = Proxx.open()
    small_job, large_job = (proxx.create_job("HD Editorial LT", [s], out) for s in (clip, large))
    assert small_job.proxy_profile == large_job.proxy_profile == "proxy_prores_lt_hd"


def test_3_no_smart_default_an_intent_must_be_chosen(proxx_home, clip, out, capsys):
    with pytest.raises(SystemExit) as usage:
        main(["run", "--output", str(out), str(clip)])
    assert usage.value.code == 2 and "--profile" in capsys.readouterr().err
    assert Proxx.open().store.jobs() == []


def test_4_no_usage_based_ranking(proxx_home, clip, out, capsys):
    assert main(["profiles"]) == 0
    before = capsys.readouterr().out
    proxx = Proxx.open()
    for _ in range(3):
        proxx.create_job("Review H.264", [clip], out)
    assert main(["profiles"]) == 0
    assert capsys.readouterr().out == before


def test_5_no_inline_profile_creation_the_operator_s_commands_only_read_intents(proxx_home):
    from proxx.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    options = {o for a in sub.choices["profiles"]._actions for o in a.option_strings}  # type: ignore[attr-defined]
    assert options <= {"-h", "--help", "--all", "--json", "--profiles", "--no-bundled-profiles"}
    assert not [name for name in sub.choices if re.search(r"new|create|edit|wizard", name)]  # type: ignore[arg-type]


def test_6_no_did_you_mean(proxx_home, clip, out, capsys):
    assert main(["run", "--profile", "Review H264", "--output", str(out), str(clip)]) == 3
    said = capsys.readouterr().err
    assert said.strip() == "proxx: Intent 'Review H264' does not exist." and "Review H.264" not in said
