"""Every active bundled intent on every class of camera-structured media (tests/camera_media.py): one
batch job per intent, each proxy checked against the media policy (README) by an independent probe.

The checks here are the policy restated from the outside, not proxx's verifier run again: display
aspect, upright picture, size against the source and the intent, exact constant frame rate, frame
count for the duration, zero start, field order (kept in ProRes, progressive in H.264), every audio
stream with its channel count and rate, the start timecode, no alpha, and a colour description
that another build's zimg converts.
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from proxx import Proxx
from proxx.media.tools import require_tool
from proxx.store import COMPLETED
from tests.camera_media import EXPECT, Expect, independent_probe
from tests.colour_media import assert_colour_managed

# The bundled intents an operator may choose, with the independent reading of their size policy.
ACTIVE_INTENTS = {
    "HD Editorial LT": "fit_hd",  # ProRes LT, no larger than HD in the picture's orientation
    "Archive ProRes": "source",  # ProRes HQ at the source's size
    "Review H.264": "half",  # H.264 at half size, deinterlaced
}
# Rounding each side to an even number of pixels moves the display aspect by up to 1/w + 1/h.
ASPECT_TOLERANCE = 0.005


def video_duration(path: Path) -> float:
    done = subprocess.run(
        [require_tool("ffprobe").path, "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=duration:format=duration", "-of", "json", f"file:{path}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    document = json.loads(done.stdout)
    streams = document.get("streams") or [{}]
    return float(streams[0].get("duration") or document["format"]["duration"])


def test_every_active_bundled_intent_is_covered() -> None:
    active = {intent.name for intent in Proxx.open().intents() if intent.selectable}
    assert active == set(ACTIVE_INTENTS)


@pytest.fixture(scope="module")
def proxies(camera_media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each active intent run once over every camera file: {intent: (result, {class: output})}."""
    home = tmp_path_factory.mktemp("proxx-home")
    card = tmp_path_factory.mktemp("card")  # one name per class: dropframe_tc.mov and .mxf would share a proxy name
    sources = {name: card / f"{name}{path.suffix}" for name, path in camera_media.items()}
    for name, path in sources.items():
        path.hardlink_to(camera_media[name])
    mp = pytest.MonkeyPatch()
    mp.setenv("PROXX_HOME", str(home))
    try:
        proxx = Proxx.open()
        runs = {}
        for intent in ACTIVE_INTENTS:
            out = tmp_path_factory.mktemp(intent.replace(" ", "_").replace(".", ""))
            names = sorted(camera_media)
            spec = proxx.create_job(intent, [sources[n] for n in names], out)
            result = proxx.run_job(spec.job_id)
            runs[intent] = (result, dict(zip(names, result.clips, strict=True)) if result else {})
    finally:
        mp.undo()
    return runs


@pytest.mark.parametrize("intent", sorted(ACTIVE_INTENTS))
def test_every_camera_class_proxies_under_every_intent(intent: str, proxies: dict[str, Any]) -> None:
    result, clips = proxies[intent]
    failed = [f"{n}: {c.failure.message}" for n, c in clips.items() if c.state != "completed" and c.failure]
    assert result.state == COMPLETED and not failed, "\n".join(failed or [str(result.failure)])
    assert all(check.passed for clip in clips.values() for check in clip.checks)


@pytest.mark.parametrize("name", sorted(EXPECT))
@pytest.mark.parametrize("intent", sorted(ACTIVE_INTENTS))
def test_proxy_follows_the_media_policy(intent: str, name: str, proxies: dict[str, Any], camera_media: dict[str, Path]):
    clip = proxies[intent][1][name]
    assert clip.state == "completed", clip.failure
    source, expect = camera_media[name], EXPECT[name]
    out = independent_probe(clip.output)

    # Geometry: upright, the source's display aspect, sized as the intent says.
    assert out["rotation"] == 0
    tolerance = max(ASPECT_TOLERANCE, 1 / out["width"] + 1 / out["height"])
    source_aspect = expect.width / expect.height
    assert out["dar"] == pytest.approx(source_aspect, rel=tolerance), (out["width"], out["height"], out["sar"])
    _check_size(ACTIVE_INTENTS[intent], expect, out)
    assert out["coded_width"] % 2 == 0 and out["coded_height"] % 2 == 0

    # Time: the source's exact rate, constant, the same duration, from zero.
    rate = _nominal_rate(expect)
    assert Fraction(out["r_frame_rate"]) == rate and Fraction(out["avg_frame_rate"]) == rate
    assert len(out["frame_durations"]) == 1 and not out["vfr"]
    # within a frame: MPEG-TS states a stream's duration without its last frame
    gap = abs(Fraction(video_duration(Path(clip.output))) - Fraction(video_duration(source)))
    assert gap <= 1 / rate + Fraction(1, 1000)
    assert out["start_time"] <= 1 / rate
    if not expect.vfr:  # a constant-rate source keeps every frame, no more
        assert out["frames"] == expect.frames

    # Scan: ProRes keeps the field order, H.264 review proxies are progressive.
    review = ACTIVE_INTENTS[intent] == "half"
    assert out["field_order"] == ("progressive" if review else expect.field_order)

    # Sound: every stream, its channels and rate; an unlabelled stream reads back with its default label.
    assert [channels for channels, _ in out["audio"]] == [channels for channels, _ in expect.audio]
    assert [rate for _, rate in out["audio"]] == [rate for _, rate in expect.audio]
    for want, got, (channels, _) in zip(expect.audio_layouts, out["audio_layouts"], expect.audio, strict=True):
        assert got == want or (want is None and got in (None, {1: "mono", 2: "stereo"}.get(channels)))

    # Timecode (drop frame included), and no alpha in an editorial proxy.
    assert out["timecode"] == expect.timecode
    assert out["alpha"] is False

    # Colour: a definite description, which a colour-managed conversion honours.
    assert_colour_managed(clip.output)


def _nominal_rate(expect: Expect) -> Fraction:
    return Fraction(expect.frame_rate)


def _check_size(policy: str, expect: Expect, out: dict[str, Any]) -> None:
    """The intent's size rule, read independently: never larger than the source; HD Editorial LT fits
    its picture within HD turned to the picture's orientation, keeping an HD-or-smaller one as it is."""
    upright_coded = (expect.coded_width, expect.coded_height)
    if expect.rotation % 180:
        upright_coded = upright_coded[::-1]
    coded = (out["coded_width"], out["coded_height"])
    if policy == "source":
        assert all(abs(a - b) <= 1 for a, b in zip(coded, upright_coded, strict=True))
    elif policy == "half":
        assert all(abs(a - b / 2) <= 1 for a, b in zip(coded, upright_coded, strict=True))
    else:
        box = (1920, 1080) if expect.width >= expect.height else (1080, 1920)
        assert out["width"] <= box[0] + 1 and out["height"] <= box[1]
        if expect.width <= box[0] and expect.height <= box[1]:
            assert all(abs(a - b) <= 1 for a, b in zip(coded, upright_coded, strict=True))
        else:
            assert out["width"] >= box[0] - 2 or out["height"] >= box[1] - 2  # fitted, not shrunk further


def test_what_an_engine_cannot_keep_is_refused_before_rendering(camera_media: dict[str, Path], tmp_path, proxx_home):
    # FFmpeg's DNxHR encoder codes progressive pictures only: an interlaced XDCAM clip is refused in
    # class B, naming why, rather than rendered and then failed (or passed) with its fields lost.
    repo = tmp_path / "repo" / "user"
    repo.mkdir(parents=True)
    (repo / "avid.yaml").write_text(
        'user_profile_version: "1.1"\nname: Avid DNxHR LB\nconstraints:\n  codecs: [dnxhr_lb]\n'
        "  engine_preference: [ffmpeg]\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open(profiles=[repo.parent])
    spec = proxx.create_job("Avid DNxHR LB", [camera_media["xdcam_mxf"]], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert (result.failure.failure_class, result.failure.reason) == ("B", "profile_unsupported_for_source")
    assert "interlaced" in result.failure.message and result.engine.version == ""
    assert [p for p in out.iterdir() if not p.name.startswith(".")] == []  # no proxy (exporters may write notes)
