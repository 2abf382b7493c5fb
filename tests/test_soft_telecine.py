"""Soft telecine (issue 21, item 2): film coded at 23.976 and shown at 29.97 through MPEG-2
repeat-first-field flags (DVD VOB, broadcast, some HDV) is told from the stream itself and proxied
at 23.976 with the pulldown removed, every film frame once and the same duration; never 59.94.

ffmpeg's MPEG-2 encoder writes no pulldown flags, so `soft_telecine` sets them the way a DVD
authoring tool does: a 23.976 progressive stream gets frame_rate_code 29.97, progressive_sequence 0,
and the 2:3 pattern of top_field_first / repeat_first_field on its progressive frames."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.media.probe import probe
from proxx.media.tools import require_tool
from proxx.store import COMPLETED
from tests.camera_media import independent_probe
from tests.colour_media import assert_colour_managed

ACTIVE_INTENTS = ("HD Editorial LT", "Archive ProRes", "Review H.264")
FILM = Fraction(24000, 1001)
PULLDOWN = ((1, 1), (0, 0), (0, 1), (1, 0))  # (top_field_first, repeat_first_field): 2:3
FRAMES = 12


def ffmpeg(*args: str) -> None:
    subprocess.run([require_tool("ffmpeg").path, "-v", "error", "-y", *args], check=True)


def soft_telecine(elementary: bytes) -> bytes:
    """The same pictures, flagged for 2:3 pulldown (MPEG-2 sequence header, sequence extension and
    picture coding extensions)."""
    data, at, picture = bytearray(elementary), 0, 0
    while (at := data.find(b"\x00\x00\x01", at)) >= 0:
        code = data[at + 3]
        if code == 0xB3:  # sequence header: frame_rate_code 4 (30000/1001)
            data[at + 7] = (data[at + 7] & 0xF0) | 4
        elif code == 0xB5 and data[at + 4] >> 4 == 1:  # sequence extension: progressive_sequence 0
            data[at + 5] &= ~0x08
        elif code == 0xB5 and data[at + 4] >> 4 == 8:  # picture coding extension
            top, repeat = PULLDOWN[picture % len(PULLDOWN)]
            data[at + 7] = (data[at + 7] & ~0x82) | (top << 7) | (repeat << 1)
            data[at + 8] |= 0x80  # progressive_frame
            picture += 1
        at += 4
    return bytes(data)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("telecine")
    film = folder / "film.m2v"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=720x480:r=24000/1001", "-frames:v", str(FRAMES), "-c:v", "mpeg2video",
           "-g", "12", "-bf", "0", "-b:v", "6M", "-f", "mpeg2video", str(film))  # fmt: skip
    flagged = folder / "flagged.m2v"
    flagged.write_bytes(soft_telecine(film.read_bytes()))
    made = {"dvd.vob": ["-f", "vob"], "broadcast.ts": ["-f", "mpegts"], "elementary_in.mov": ["-f", "mov"]}
    for name, muxer in made.items():
        ffmpeg("-fflags", "+genpts", "-r", "30000/1001", "-i", str(flagged), "-c", "copy", *muxer, str(folder / name))
    return {name: folder / name for name in made}


def test_soft_telecine_is_told_from_the_stream(sources: dict[str, Path]) -> None:
    for path in sources.values():
        video = probe(str(path)).video
        assert video is not None and video.repeat_fields
        assert video.rate.rate == FILM and not video.rate.variable  # the base rate says 59.94


@pytest.mark.parametrize("intent", ACTIVE_INTENTS)
def test_soft_telecine_is_proxied_at_the_film_rate(
    intent: str, sources: dict[str, Path], tmp_path: Path, proxx_home: Path
) -> None:
    proxx = Proxx.open()
    spec = proxx.create_job(intent, list(sources.values()), tmp_path)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED, result and result.failure
    for clip in result.clips:
        out = independent_probe(clip.output, count_frames=True)
        assert Fraction(out["r_frame_rate"]) == FILM and out["field_order"] == "progressive"
        assert FRAMES - 1 <= out["nb_read_frames"] <= FRAMES  # each film frame once, no 3:2 repeats
        source = independent_probe(clip.source)
        assert abs(out["duration"] - FRAMES / float(FILM)) <= 1 / float(FILM) + 0.001
        assert source["r_frame_rate"] == "60000/1001"
        assert_colour_managed(clip.output)
