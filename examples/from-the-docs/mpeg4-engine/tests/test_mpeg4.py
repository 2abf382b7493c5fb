from proxx.plugin import probe
from proxx.testing.conformance import EngineConformance


class TestMPEG4Conformance(EngineConformance):
    engine = "mpeg4"
    canonical_profile = "mpeg4_mkv_half"


def test_a_review_intent_renders_motion_jpeg_in_matroska(proxx_profiles, proxx_open, proxx_clip, proxx_run):
    intent = {"user_profile_version": "1.2", "name": "Old suite", "constraints": {"containers": ["mkv"]}}
    app = proxx_open(profiles=[proxx_profiles({"user/old.yaml": intent})])
    outcome = proxx_run(app, "Old suite", [proxx_clip(size="320x180", frames=12)])
    assert outcome.row.state == "COMPLETED", outcome.row.message
    assert outcome.outputs[0].suffix == ".mkv"
    video = probe(str(outcome.outputs[0])).video
    assert video is not None and (video.codec, video.width, video.height) == ("mpeg4", 160, 90)
