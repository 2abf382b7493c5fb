"""The inhouse engine, tested with proxx's kit: the fixtures and the engine conformance suite."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxx import Proxx
from proxx.plugin import probe
from proxx.testing import JobOutcome, intent_for
from proxx.testing.conformance import EngineConformance

# The kit's fixtures, as a test checked with mypy --strict annotates them.
Profiles = Callable[[dict[str, Any]], Path]
Open = Callable[..., Proxx]
Clip = Callable[..., Path]
Run = Callable[..., JobOutcome]


class TestInhouseConformance(EngineConformance):
    engine = "inhouse"
    canonical_profile = "inhouse_hevc_quarter"  # shipped by the plugin itself


def test_an_intent_asking_for_hevc_renders_a_quarter_size_proxy(
    proxx_profiles: Profiles, proxx_open: Open, proxx_clip: Clip, proxx_run: Run
) -> None:
    intent = {"user_profile_version": "1.1", "name": "Review HEVC", "constraints": {"codecs": ["hevc"]}}
    app = proxx_open(profiles=[proxx_profiles({"user/review_hevc.yaml": intent})])
    outcome = proxx_run(app, "Review HEVC", [proxx_clip(size="640x360", frames=12)])
    assert outcome.row.state == "COMPLETED", outcome.why
    assert outcome.spec.engine == "inhouse"
    video = probe(str(outcome.outputs[0])).video
    assert video is not None and (video.codec, video.width, video.height) == ("hevc", 160, 90)


def test_a_profile_it_cannot_render_fails_class_b(
    proxx_profiles: Profiles, proxx_open: Open, proxx_clip: Clip, proxx_run: Run
) -> None:
    canonical = {"canonical_profile_version": "1.0", "id": "inhouse_prores", "engine": "inhouse",
                 "codec": "prores_proxy", "container": "mov", "resolution": "source", "audio": "copy"}  # fmt: skip
    intent = intent_for("inhouse_prores", "Inhouse ProRes")  # a user profile meaning exactly that id
    app = proxx_open(profiles=[proxx_profiles({"canonical/p.yaml": canonical, "user/p.yaml": intent})])
    outcome = proxx_run(app, "Inhouse ProRes", [proxx_clip(size="160x90", frames=6)])
    assert (outcome.row.state, outcome.row.failure_class, outcome.row.reason) == ("FAILED", "B", "profile_unsupported")
