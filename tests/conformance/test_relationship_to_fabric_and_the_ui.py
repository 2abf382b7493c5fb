"""Spec sections "Relationship to Fabric" (1-2, 4) and "What the UI Must Never Do" (7)."""

from __future__ import annotations

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.store import COMPLETED


def _fingerprint(result) -> str:
    (fabric,) = [e for e in result.exports if e.exporter == "fabric"]
    assert fabric.ok, fabric.error
    (clip,) = fabric.details["clips"]
    return str(clip["fingerprint"])


def test_1_fingerprints_key_off_the_canonical_profile_never_the_intent(proxx_home, tmp_path, clip, monkeypatch):
    # A second intent of another name that compiles to the same canonical profile: same fingerprint.
    studio = tmp_path / "studio"
    (studio / "user").mkdir(parents=True)
    (studio / "user" / "dailies.yaml").write_text(
        'user_profile_version: "1.1"\nname: Dailies Review\nconstraints:\n  codecs: [h264]\n'
        "  resolution: [scale_50]\n  engine_preference: [ffmpeg]\n"
    )
    monkeypatch.setenv("PROXX_PROFILES", str(studio))
    proxx = Proxx.open()
    if "fabric" not in proxx.exporters:
        pytest.skip("the Fabric plugin is not installed")
    results = []
    for intent in ("Review H.264", "Dailies Review"):
        out = tmp_path / intent.replace(" ", "_")
        out.mkdir()
        result = proxx.run_job(proxx.create_job(intent, [clip], out).job_id)
        assert result is not None and result.state == COMPLETED
        results.append(result)
    assert results[0].proxy_profile == results[1].proxy_profile
    assert _fingerprint(results[0]) == _fingerprint(results[1])


def test_7_the_operator_s_intent_list_never_shows_canonical_ids_or_codecs(proxx_home, capsys):
    assert main(["profiles", "--all"]) == 0
    listed = capsys.readouterr().out
    assert "HD Editorial LT" in listed
    proxx = Proxx.open()
    for canonical in proxx.repository.registry:
        assert canonical.id not in listed
    assert "ffmpeg" not in listed.lower() and "resolve" not in listed.lower()  # nor the engine
