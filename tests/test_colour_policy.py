"""Colour (issue 21, item 1): every bundled FFmpeg canonical profile over every colour class
(tests/colour_media.py), each proxy read back by another ffmpeg build and converted by zimg, which
honours the tags; and verification failing a proxy whose description breaks the policy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from proxx import Proxx
from proxx.compile.repository import load_repository
from proxx.media.colour import Colour, colour_target, default_colour, source_colour
from proxx.media.probe import first_frame_colour, probe
from proxx.media.tools import require_tool
from proxx.resources import bundled_profiles_dir
from proxx.store import COMPLETED
from proxx.verify.checks import verify_output
from tests.colour_media import (
    COLOUR_EXPECT,
    SAME,
    colour_managed_conversion,
    colour_managed_ffmpeg,
    described_colour,
    generate,
)

needs_zimg = pytest.mark.skipif(
    colour_managed_ffmpeg() is None, reason="no ffmpeg with zscale (sh scripts/install-colour-check.sh)"
)
BUNDLED = load_repository([bundled_profiles_dir()]).registry
FFMPEG_PROFILES = sorted(p.id for p in BUNDLED if p.engine == "ffmpeg")
LIMITED_ONLY = ("prores", "dnxhr")


@pytest.fixture(scope="module")
def colour_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("colour_media"))


@pytest.fixture(scope="module")
def colour_proxies(colour_sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each bundled FFmpeg canonical profile run once over every colour class: {id: (result, {class: clip})}."""
    home, repo = tmp_path_factory.mktemp("proxx-home"), tmp_path_factory.mktemp("intents")
    (repo / "user").mkdir()
    for canonical_id in FFMPEG_PROFILES:
        profile = next(p for p in BUNDLED if p.id == canonical_id)
        constraints = {"codecs": [profile.codec], "resolution": [profile.resolution], "engine_preference": ["ffmpeg"]}
        text = f'user_profile_version: "1.1"\nname: "Colour {canonical_id}"\nconstraints: {json.dumps(constraints)}\n'
        (repo / "user" / f"{canonical_id}.yaml").write_text(text)
    mp = pytest.MonkeyPatch()
    mp.setenv("PROXX_HOME", str(home))
    try:
        proxx = Proxx.open(profiles=[repo])
        names = sorted(colour_sources)
        runs = {}
        for canonical_id in FFMPEG_PROFILES:
            out = tmp_path_factory.mktemp(canonical_id)
            spec = proxx.create_job(f"Colour {canonical_id}", [colour_sources[n] for n in names], out)
            assert spec.proxy_profile == canonical_id
            result = proxx.run_job(spec.job_id)
            runs[canonical_id] = (result, dict(zip(names, result.clips, strict=True)) if result else {})
    finally:
        mp.undo()
    return runs


def _class(kind: str, value: str | None) -> str:
    return SAME[kind].get(value or "unknown", value or "unknown")


@pytest.mark.parametrize("canonical_id", FFMPEG_PROFILES)
def test_every_colour_class_is_proxied_and_verified(canonical_id: str, colour_proxies: dict[str, Any]) -> None:
    result, clips = colour_proxies[canonical_id]
    failed = [f"{n}: {c.failure.message}" for n, c in clips.items() if c.state != "completed" and c.failure]
    assert result.state == COMPLETED and not failed, "\n".join(failed or [str(result.failure)])
    names = {check.name for clip in clips.values() for check in clip.checks}
    assert "colour" in names


@needs_zimg
@pytest.mark.parametrize("name", sorted(COLOUR_EXPECT))
@pytest.mark.parametrize("canonical_id", FFMPEG_PROFILES)
def test_proxy_states_the_policy_colour_and_converts(canonical_id: str, name: str, colour_proxies: dict[str, Any]):
    clip = colour_proxies[canonical_id][1][name]
    assert clip.state == "completed", clip.failure
    primaries, transfer, matrix, colour_range = COLOUR_EXPECT[name]
    if canonical_id.split("_")[1] in LIMITED_ONLY:
        colour_range = "tv"  # converted: ProRes and DNxHR are limited range
        transfer = "bt709" if transfer == "iec61966-2-1" else transfer  # and state no sRGB curve
    described = described_colour(clip.output)
    places = ["stream"] if "dnxhr" in canonical_id else ["stream", "frame"]  # DNxHR's header states none
    for place in places:
        got = described[place]
        assert _class("primaries", got.get("color_primaries")) == _class("primaries", primaries), (place, got)
        assert _class("transfer", got.get("color_transfer")) == _class("transfer", transfer), (place, got)
        assert _class("matrix", got.get("color_space")) == matrix, (place, got)
        assert got.get("color_range") == colour_range, (place, got)
    done = colour_managed_conversion(clip.output)
    assert done.returncode == 0, done.stderr


def test_a_full_range_source_is_converted_to_limited_for_prores(colour_proxies: dict[str, Any]) -> None:
    # The same picture: white in the full-range source (255) is white in the limited proxy (940 of 1023).
    clip = colour_proxies["proxy_prores_hq"][1]["full_range"]
    done = subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-i", f"file:{clip.output}", "-frames:v", "1",
         "-vf", "crop=8:8:0:0", "-f", "rawvideo", "-pix_fmt", "yuv422p10le", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    luma = int.from_bytes(done.stdout[:2], "little")
    assert 16 * 4 <= luma <= 235 * 4


def test_a_proxy_with_an_rgb_matrix_on_yuv_fails_verification(colour_sources: dict[str, Path], tmp_path: Path):
    # What the FFmpeg engine wrote before this policy: ProRes from a BT.601-only source, header matrix 0.
    broken = tmp_path / "broken.mov"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-i", f"file:{colour_sources['bt601_only_sd']}",
         "-c:v", "prores_aw", "-profile:v", "1", "-pix_fmt", "yuv422p10le", f"file:{broken}"],
        check=True,
    )  # fmt: skip
    profile = next(p for p in BUNDLED if p.id == "proxy_prores_lt")
    source, output = probe(str(colour_sources["bt601_only_sd"])), probe(str(broken))
    checks = {c.name: c for c in verify_output(profile, source, output, first_frame_colour(str(broken)))}
    assert not checks["colour"].passed and not checks["picture_colour"].passed
    assert "RGB matrix" in checks["picture_colour"].actual
    assert "SMPTE 170M primaries" in checks["colour"].expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), Colour("bt709", "bt709", "bt709", "tv")),
        ((1280, 720), Colour("bt709", "bt709", "bt709", "tv")),
        ((720, 576), Colour("bt470bg", "smpte170m", "bt470bg", "tv")),
        ((720, 486), Colour("smpte170m", "smpte170m", "smpte170m", "tv")),
        ((720, 480), Colour("smpte170m", "smpte170m", "smpte170m", "tv")),
    ],
)
def test_the_default_follows_the_picture_size(size: tuple[int, int], expected: Colour) -> None:
    assert default_colour(*size) == expected


def test_stated_properties_are_kept_and_only_equal_names_change() -> None:
    # SMPTE 170M and BT.470BG are one matrix: ProRes has a code for the first only.
    picture = source_colour(Colour(matrix="bt470bg"), 720, 576, "yuv420p")
    target = colour_target("prores", picture, 720, 576)
    assert target.output == Colour("bt470bg", "bt709", "smpte170m", "tv") and not target.converts
    # An RGB matrix on a YUV picture is no statement: the size's default.
    assert source_colour(Colour(matrix="gbr"), 1920, 1080, "yuv422p10le").matrix == "bt709"
    # H.264 states everything: nothing changes, full range included.
    full = Colour("bt709", "bt709", "bt709", "pc")
    assert colour_target("h264", full, 1280, 720).output == full
    # A gamma 2.2 curve has no ProRes code: converted, both sides named.
    gamma = colour_target("prores", Colour("bt709", "bt470m", "bt709", "tv"), 1280, 720)
    assert gamma.converts and gamma.output.transfer == "bt709"
