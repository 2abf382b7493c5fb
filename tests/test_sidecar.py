"""A Sony camera's clip states its start timecode only in the XML beside it (`C0001M01.XML`): its
proxy carries that timecode, as editing systems show the clip with it and relink by it."""

from __future__ import annotations

import os
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxx import Proxx
from proxx.media.probe import probe
from proxx.media.sidecar import sidecar_timecode
from proxx.media.tools import require_tool
from proxx.store import COMPLETED

PAL = Fraction(25)
NTSC = Fraction(30000, 1001)


def nrt(value: str, fps: int = 25, frames: int = 25, half_step: str = "false") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<NonRealTimeMeta xmlns="urn:schemas-professionalDisc:nonRealTimeMeta:ver.2.20" lastUpdate="2026-12-07T10:00:00+01:00">
  <TargetMaterial umidRef="060A2B340101010501010D4313000000C20AA47F479805C59C50D1FFFEAC3B63"/>
  <Duration value="{frames}"/>
  <LtcChangeTable tcFps="{fps}" halfStep="{half_step}">
    <LtcChange frameCount="0" value="{value}" status="increment"/>
    <LtcChange frameCount="{frames - 1}" value="00000000" status="end"/>
  </LtcChangeTable>
  <Device manufacturer="Sony" modelName="ILME-FX3" serialNo="1234567"/>
</NonRealTimeMeta>
"""


def sony_clip(
    folder: Path, rate: str = "25", seconds: float = 1.0, timecode: str | None = None, brand: str = "isom"
) -> Path:
    clip = folder / "PRIVATE" / "M4ROOT" / "CLIP" / "C0001.MP4"
    clip.parent.mkdir(parents=True)
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-nostdin", "-f", "lavfi",
         "-i", f"testsrc=size=320x180:rate={rate}:duration={seconds}", "-f", "lavfi", "-i", f"sine=duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *(["-timecode", timecode] if timecode else []),
         "-brand", brand, str(clip)],
        check=True,
    )  # fmt: skip
    return clip


def embed(clip: Path, document: str) -> None:
    """The sidecar's copy a Sony camera keeps inside the MP4, near its end: here a box of its own
    after the others, which readers of the file skip."""
    data = document.encode()
    with clip.open("ab") as file:
        file.write(struct.pack(">I4s", 8 + 16 + len(data), b"uuid") + bytes(16) + data)


def written_timecode(path: Path) -> str | None:
    """The proxy's start timecode as FFmpeg's libraries read it (PyAV: not the ffprobe proxx uses)."""
    with av.open(str(path)) as container:
        return container.streams.video[0].metadata.get("timecode")


def test_a_sony_clip_s_proxy_carries_the_timecode_its_sidecar_states(tmp_path, proxx_home):
    card = tmp_path / "CARD"
    clip = sony_clip(card)
    (clip.parent / "C0001M01.XML").write_text(nrt("12100510"))  # frames 12, seconds 10, minutes 05, hours 10
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", [card], out)
    proxx.run_job(spec.job_id)
    row = proxx.store.job(spec.job_id)
    assert row.state == COMPLETED, row.message
    assert written_timecode(out / "CARD" / "PRIVATE" / "M4ROOT" / "CLIP" / "C0001.mov") == "10:05:10:12"


def test_a_sony_clip_copied_without_its_sidecar_keeps_the_timecode_embedded_in_it(tmp_path):
    clip = sony_clip(tmp_path, brand="XAVC")
    embed(clip, nrt("12100510"))
    assert probe(str(clip)).timecode == "10:05:10:12"
    assert written_timecode(clip) is None  # the file states none of its own: ffprobe and PyAV see none
    other = sony_clip(tmp_path / "other")  # another maker's MP4 is not searched
    embed(other, nrt("12100510"))
    assert probe(str(other)).timecode is None


def test_the_file_s_own_timecode_comes_before_its_sidecar_s(tmp_path):
    clip = sony_clip(tmp_path, timecode="01:00:00:00")
    (clip.parent / "C0001M01.XML").write_text(nrt("12100510"))
    assert probe(str(clip)).timecode == "01:00:00:00"


@pytest.mark.parametrize(
    ("value", "rate", "fps", "timecode"),
    [
        ("12100510", PAL, 25, "10:05:10:12"),
        ("00000010", PAL, 25, "10:00:00:00"),
        ("55595909", NTSC, 30, "09:59:59;15"),  # the frames' 0x40: drop frame
        ("15595909", NTSC, 30, "09:59:59:15"),
        ("23:59:59:24", PAL, 25, "23:59:59:24"),  # as some Alpha bodies write it
        ("01:00:00;02", NTSC, 30, "01:00:00;02"),
        ("25100510", PAL, 25, None),  # frame 25 at 25 fps
        ("1A100510", PAL, 25, None),  # not a decimal digit
        ("12600510", PAL, 25, None),  # second 60
        ("12100524", PAL, 25, None),  # hour 24
        ("52100510", PAL, 25, None),  # drop frame at 25 fps
        ("12100510", PAL, 30, None),  # a timecode counting at another rate than the pictures'
        ("1210051", PAL, 25, None),
        ("+2100510", PAL, 25, None),
        ("\uff11\uff12100510", PAL, 25, None),  # full-width digits
    ],
)
def test_a_sidecar_s_start_timecode_is_read_as_smpte_packs_it(tmp_path, value, rate, fps, timecode):
    clip = tmp_path / "C0001.MP4"
    clip.write_bytes(b"")
    (tmp_path / "C0001M01.XML").write_text(nrt(value, fps=fps, frames=25))
    assert sidecar_timecode(str(clip), rate, 25) == timecode


def test_a_sidecar_is_believed_only_of_a_clip_it_describes(tmp_path):
    clip = tmp_path / "C0001.MP4"
    clip.write_bytes(b"")
    sidecar = tmp_path / "C0001M01.XML"
    sidecar.write_text(nrt("12100510", frames=250))
    assert sidecar_timecode(str(clip), PAL, 250) == "10:05:10:12"
    assert sidecar_timecode(str(clip), PAL, 251) == "10:05:10:12"  # a picture either way: a stated length's rounding
    assert sidecar_timecode(str(clip), PAL, 25) is None  # another recording's, or a clip cut short
    sidecar.write_text(nrt("12100510", frames=250, half_step="true"))  # 50p counted in pairs, at 25
    assert sidecar_timecode(str(clip), Fraction(50), 250) == "10:05:10:24"
    assert sidecar_timecode(str(clip), Fraction(50), 500) == "10:05:10:24"  # its length counted in pairs
    assert sidecar_timecode(str(clip), PAL, 250) is None  # pairs of pictures at 25: not this clip's
    sidecar.write_text(nrt("55595909", fps=30, frames=600, half_step="true"))
    assert sidecar_timecode(str(clip), Fraction(60000, 1001), 600) == "09:59:59;30"
    sidecar.write_text(nrt("12100510", frames=250, half_step="maybe"))
    assert sidecar_timecode(str(clip), Fraction(50), 250) is None
    sidecar.write_text(nrt("12100510").replace("NonRealTimeMeta", "OtherMeta"))
    assert sidecar_timecode(str(clip), PAL, 25) is None


def test_a_sidecar_named_in_lower_case_is_read_and_none_beside_another_clip(tmp_path):
    clip = tmp_path / "c0001.mp4"
    clip.write_bytes(b"")
    (tmp_path / "c0001m01.xml").write_text(nrt("12100510"))
    assert sidecar_timecode(str(clip), PAL, 25) == "10:05:10:12"
    assert sidecar_timecode(str(tmp_path / "c0002.mp4"), PAL, 25) is None


def test_a_hostile_sidecar_is_not_read(tmp_path):
    clip = tmp_path / "C0001.MP4"
    clip.write_bytes(b"")
    sidecar = tmp_path / "C0001M01.XML"
    laughs = '<!DOCTYPE x [<!ENTITY a "12100510">]>' + nrt("&a;").split("?>", 1)[1]
    sidecar.write_text(laughs)  # entities: never expanded
    assert sidecar_timecode(str(clip), PAL, 25) is None
    sidecar.write_text(nrt("12100510") + " " * 300_000)  # far larger than any camera writes
    assert sidecar_timecode(str(clip), PAL, 25) is None
    sidecar.write_text("<NonRealTimeMeta><LtcChangeTable")  # cut short
    assert sidecar_timecode(str(clip), PAL, 25) is None
    sidecar.unlink()
    os.mkfifo(sidecar)  # a pipe nobody writes: never waited on
    assert sidecar_timecode(str(clip), PAL, 25) is None
    sidecar.unlink()
    sidecar.mkdir()
    assert sidecar_timecode(str(clip), PAL, 25) is None
    sidecar.rmdir()
    elsewhere = tmp_path / "elsewhere.xml"
    elsewhere.write_text(nrt("12100510"))
    sidecar.symlink_to(elsewhere)  # a link planted on the card: not followed
    assert sidecar_timecode(str(clip), PAL, 25) is None


@settings(max_examples=200, deadline=None)
@given(document=st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: nrt(t).encode("utf-8", "surrogatepass")))
def test_any_sidecar_gives_a_timecode_or_none_and_never_raises(tmp_path_factory, document):
    folder = tmp_path_factory.mktemp("sidecar")
    (folder / "C0001M01.XML").write_bytes(document)
    timecode = sidecar_timecode(str(folder / "C0001.MP4"), PAL, 25)
    assert timecode is None or len(timecode) == 11
