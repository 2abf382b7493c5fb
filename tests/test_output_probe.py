"""Verification reads a proxy once: its streams and its first picture's colour and scan come from one
ffprobe run, and say exactly what a probe and a separate read of the first picture say."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest

from proxx.compile.repository import load_repository
from proxx.media import probe as probing
from proxx.media.tools import require_tool
from proxx.resources import bundled_profiles_dir
from proxx.testing import make_clip
from proxx_ffmpeg.recipes import build_args

PROXIES = ("proxy_prores_lt", "proxy_dnxhr_lb", "proxy_h264_low")


def ffmpeg(*args: str) -> None:
    subprocess.run([require_tool("ffmpeg").path, "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("outputs")
    source = make_clip(folder / "A001_C001.mov", size="320x180", frames=3, timecode="01:00:00:00")
    registry = load_repository([bundled_profiles_dir()]).registry
    made: dict[str, Path] = {}
    for canonical_id in PROXIES:  # as the engine writes them: a timecode or an audio packet, then a picture
        profile = registry.get(canonical_id)
        assert profile is not None
        made[canonical_id] = folder / f"{canonical_id}.{profile.container}"
        command = build_args(require_tool("ffmpeg").path, probing.probe(str(source)), str(made[canonical_id]), profile)
        subprocess.run(command, check=True, capture_output=True)
    picture = ["-f", "lavfi", "-i", "testsrc2=s=64x36:r=25:d=0.2"]
    # Two pictures first (no audio, no timecode track); then a second of audio before any picture.
    ffmpeg(*picture, "-c:v", "prores_ks", str(folder / "pictures_first.mov"))
    made["pictures_first"] = folder / "pictures_first.mov"
    made["audio_first"] = folder / "audio_first.mov"
    ffmpeg(*picture, "-f", "lavfi", "-i", "sine=d=0.2", "-map", "1:a", "-map", "0:v", "-c:v", "prores_ks",
           "-c:a", "pcm_s16le", "-audio_preload", "1000000", str(made["audio_first"]))  # fmt: skip
    # The first picture's bytes overwritten: it does not decode.
    damaged = folder / "damaged.mov"
    ffmpeg(*picture, "-c:v", "prores_ks", "-movflags", "+faststart", str(damaged))
    data = bytearray(damaged.read_bytes())
    start = data.index(b"mdat") + 8
    data[start : start + 600] = b"\xff" * 600
    damaged.write_bytes(data)
    made["damaged"] = damaged
    return made


def read_apart(path: str) -> tuple[probing.MediaInfo, probing.Colour | None]:
    """A probe, and the first picture read on its own: its colour, and the scan it states."""
    info, picture = probing._probe(path, 60), probing._first_frame(path, 60)
    if picture is None or info.video is None:
        return info, None
    scan = probing._frame_scan({"frames": [picture]}) or ""
    assert scan in ("progressive", "tt", "bb")
    return attrs.evolve(info, video=attrs.evolve(info.video, picture_field_order=scan)), probing.first_frame_colour(
        path
    )


def counted(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    runs: list[list[str]] = []
    real = probing._ffprobe

    def counting(path: str, what: list[str], timeout: float) -> dict[str, Any]:
        runs.append(what)
        return real(path, what, timeout)

    monkeypatch.setattr(probing, "_ffprobe", counting)
    return runs


@pytest.mark.parametrize("name", [*PROXIES, "pictures_first", "audio_first", "damaged"])
def test_one_read_says_what_a_probe_and_a_first_picture_read_say(name, outputs, monkeypatch):
    path = str(outputs[name])
    apart = read_apart(path)
    runs = counted(monkeypatch)
    together = probing.probe_with_picture_colour(path)
    assert together == apart
    assert together[0].video is not None
    if name in PROXIES:  # what proxx writes is read once
        assert len(runs) == 1 and together[1] is not None
    if name == "damaged":  # no picture decodes: nothing to compare, as before (read apart to be sure)
        assert together[1] is None and len(runs) == 2
    # An output is verified once: its probe is not remembered, a second read reads it again alike.
    first = list(runs)
    runs.clear()
    assert probing.probe_with_picture_colour(path) == apart
    assert runs == first and not probing.remembered(path)
