"""Spec section "Non-Goals": no per-job overrides, no silent fallbacks."""

from __future__ import annotations

import hashlib

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
