"""Verification checks in an operator's words (`proxx.visibility`), the technical names kept for
integrators."""

from __future__ import annotations

from proxx.verify.checks import Check
from proxx.visibility import DIFFERS, check_label, describe_failures, operator_checks


def test_every_check_has_operator_words():
    assert [check_label(n) for n in ("dimensions", "display_aspect_ratio", "frame_rate", "duration")] == [
        "Picture size", "Display aspect", "Frame rate", "Duration",
    ]  # fmt: skip
    assert [check_label(n) for n in ("timecode", "audio_streams", "field_order", "audio[1].sample_rate")] == [
        "Timecode", "Audio tracks", "Field order", "Audio track 2 sample rate",
    ]  # fmt: skip
    assert check_label("studio_rule") == "Studio rule"  # a plugin's own check


def test_a_failure_names_what_differs_and_folds_the_format():
    checks = [
        Check("container", "mxf", "mp4", False),
        Check("video_codec", "dnxhd", "h264", False),
        Check("frame_rate", "24/1", "25/1", False),
        Check("timecode", "01:00:00:00", "01:00:00:00", True),
    ]
    assert describe_failures(checks) == "Format: expected mxf dnxhd, got mp4 h264; Frame rate: expected 24/1, got 25/1"
    assert operator_checks(checks) == [
        ("Format", False, DIFFERS),
        ("Frame rate", False, "expected 24/1, actual 25/1"),
        ("Timecode", True, "expected 01:00:00:00, actual 01:00:00:00"),
    ]
