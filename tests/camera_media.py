"""Small files with the STRUCTURE of real camera and broadcast media (issue 12, item 4), made with ffmpeg.

Each `make_<class>(folder) -> Path` writes one file of 0.2 to 2 s from lavfi sources (testsrc2/smptebars +
sine); `CAMERA_MEDIA` names them and `EXPECT` holds, for each, the structural facts a proxy must keep, as
`independent_probe` reads them back (its own ffprobe calls, independent of `proxx.media.probe`). The
session fixture `camera_media` ({name: path}, one generation per run) is imported by tests/conftest.py.

What the toolchain cannot make as a camera would, and how it is made instead:
- ffmpeg's CLI flags every interlaced frame it encodes "tb"/"bt" in MOV (its legacy rule); DV files in
  MOV are therefore remuxed once with `-c copy -field_order bb`, the flag DV cameras write.
- The static 8.1 libx265 is 8-bit only: HEVC 4:2:2 10-bit comes from the `imageio-ffmpeg` wheel's
  ffmpeg (9.0.2, 10/12-bit x265) when the toolchain's own cannot; without either, that one class
  raises `MediaUnavailable`.
- An action cam's GPMF track cannot be synthesized (ffmpeg's `data` demuxer yields codec "none", which
  MP4 refuses); the data track is a tmcd track in MP4 (`-write_tmcd 1`), as GoPro also writes.
- MOV stores a SAR exactly (`pasp`); 128:117 comes back as 93:85 only when a filter rounds it:
  `setsar=128/117` evaluates the ratio as a float and reduces it to `max=100` (93:85); with `max=1000` it
  stays 128:117 in MOV, MKV and raw H.264 alike.
"""

from __future__ import annotations

import functools
import itertools
import json
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs
import pytest

from proxx.media.tools import require_tool

ALPHA_PREFIXES = ("yuva", "gbra", "rgba", "bgra", "argb", "abgr", "ya", "rgba64", "bgra64")


class MediaUnavailable(RuntimeError):
    """The toolchain cannot make this class of file here."""


@attrs.frozen
class Expect:
    """The structural facts of a generated file, as `independent_probe` reads them back."""

    container: str  # one of ffprobe's format_name entries: mxf, dv, mov, mpegts
    video_codec: str
    pix_fmt: str  # what ffprobe reports (the decoder's format)
    width: int  # display size: coded size stretched by the SAR, turned by the rotation
    height: int
    coded_width: int
    coded_height: int
    sar: str
    rotation: int  # Display Matrix rotation as ffprobe prints it (phone portrait: -90)
    frame_rate: str  # exact nominal rate (r_frame_rate)
    vfr: bool
    field_order: str  # progressive | tt | bb (stream flag, or the first frame's flags when the stream has none)
    audio: tuple[tuple[int, int], ...]  # (channels, sample_rate) per audio stream, in order
    audio_layouts: tuple[str | None, ...]  # ffprobe's channel_layout per stream; None = unlabelled
    timecode: str | None
    drop_frame: bool
    start_time: float  # video stream start_time, seconds (within 0.1 s)
    alpha: bool
    data_streams: int = 0
    frames: int = 0  # video frames (packets) in the file
    note: str = ""


# --- running ffmpeg --------------------------------------------------------------------------------


def _ffmpeg_path() -> str:
    return require_tool("ffmpeg").path


def _run(args: list[str], tool: str | None = None) -> None:
    command = [tool or _ffmpeg_path(), "-nostdin", "-hide_banner", "-v", "error", "-y", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")


def _video(spec: str, size: str, rate: str, seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"{spec}=s={size}:r={rate}:d={seconds}"]


def _sine(rate: int, seconds: float, frequency: int = 1000) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=f={frequency}:r={rate}:d={seconds}"]


@functools.cache
def _x265_10bit_ffmpeg() -> str:
    """An ffmpeg whose libx265 encodes yuv422p10le: the toolchain's, else imageio-ffmpeg's."""
    candidates = [_ffmpeg_path()]
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped,import-not-found,unused-ignore]

        candidates.append(str(imageio_ffmpeg.get_ffmpeg_exe()))
    except (ImportError, RuntimeError):
        pass
    for tool in candidates:
        done = subprocess.run([tool, "-hide_banner", "-h", "encoder=libx265"], capture_output=True, text=True)
        if "yuv422p10le" in done.stdout:
            return tool
    raise MediaUnavailable("no ffmpeg with a 10-bit libx265 (the toolchain's is 8-bit; pip install imageio-ffmpeg)")


def _remux_field_order(source: Path, target: Path, field_order: str, timecode: str | None) -> Path:
    # the tmcd track is made anew: copying it turns a drop-frame 01:00:00;00 into 00:59:56:12
    tc = ["-timecode", timecode] if timecode else []
    _run(["-i", str(source), "-map", "0:v", "-map", "0:a", "-c", "copy", "-field_order", field_order, *tc, str(target)])
    source.unlink()
    return target


# --- generators --------------------------------------------------------------------------------------


def make_xdcam_mxf(folder: Path) -> Path:
    """XDCAM HD422-style MXF OP1a: MPEG-2 4:2:2 1080i59.94 tff, 8 separate mono PCM 24-bit tracks, TC 10:00:00:00."""
    out = folder / "xdcam_hd422.mxf"
    tones = [arg for i in range(8) for arg in _sine(48000, 0.5005, 440 + 110 * i)]
    maps = ["-map", "0:v", *[arg for i in range(1, 9) for arg in ("-map", f"{i}:a")]]
    _run([
        *_video("smptehdbars", "1920x1080", "30000/1001", 0.5005), *tones, *maps,
        "-vf", "setfield=tff", "-c:v", "mpeg2video", "-pix_fmt", "yuv422p", "-profile:v", "0", "-level:v", "2",
        "-b:v", "50M", "-minrate", "50M", "-maxrate", "50M", "-bufsize", "17825792", "-g", "15", "-bf", "2",
        "-flags", "+ildct+ilme", "-top", "1", "-c:a", "pcm_s24le", "-timecode", "10:00:00:00", "-f", "mxf", str(out),
    ])  # fmt: skip
    return out


def _dv_ntsc(out: Path, fmt: str) -> Path:
    # the raw DV muxer leaves out the last frame it is given: 31 in, 30 out
    raw = fmt == "dv"
    _run([
        *_video("smptebars", "720x480", "30000/1001", 2), *_sine(48000, 2 if raw else 1.001),
        "-frames:v", "31" if raw else "30",
        "-vf", "setfield=bff", "-c:v", "dvvideo", "-pix_fmt", "yuv411p", "-aspect", "4:3", "-flags", "+ildct",
        "-c:a", "pcm_s16le", "-ac", "2", "-timecode", "01:00:00;00", "-f", fmt, str(out),
    ])  # fmt: skip
    return out


def make_dv_ntsc_dv(folder: Path) -> Path:
    """Raw DV NTSC: 720x480 29.97 4:3 bottom field first, 48 kHz stereo PCM, DV timecode 01:00:00;00."""
    return _dv_ntsc(folder / "dv_ntsc.dv", "dv")


def make_dv_ntsc_mov(folder: Path) -> Path:
    """DV NTSC in MOV, as raw DV, then remuxed to carry the bottom-first flag capture tools write."""
    tmp = _dv_ntsc(folder / "dv_ntsc.tmp.mov", "mov")
    return _remux_field_order(tmp, folder / "dv_ntsc.mov", "bb", "01:00:00;00")


def make_dv_pal_169_mov(folder: Path) -> Path:
    """DV PAL 16:9 in MOV: 720x576 25 fps SAR 64:45, bottom field first, 48 kHz stereo, TC 10:00:00:00."""
    tmp = folder / "dv_pal_169.tmp.mov"
    _run([
        *_video("smptebars", "720x576", "25", 1), *_sine(48000, 1),
        "-vf", "setfield=bff", "-c:v", "dvvideo", "-pix_fmt", "yuv420p", "-aspect", "16:9", "-flags", "+ildct",
        "-c:a", "pcm_s16le", "-ac", "2", str(tmp),
    ])  # fmt: skip
    return _remux_field_order(tmp, folder / "dv_pal_169.mov", "bb", "10:00:00:00")


def make_hdv_m2t(folder: Path) -> Path:
    """HDV 1080i50: MPEG-2 MP@H-14 1440x1080 SAR 4:3 tff in MPEG-TS, MPEG-1 Layer II 384k stereo, GOP timecode."""
    out = folder / "hdv_1080i50.m2t"
    _run([
        *_video("testsrc2", "1440x1080", "25", 0.48), *_sine(48000, 0.48),
        "-vf", "setfield=tff", "-c:v", "mpeg2video", "-pix_fmt", "yuv420p", "-b:v", "25M", "-maxrate", "25M",
        "-bufsize", "9M", "-g", "12", "-bf", "2", "-flags", "+ildct+ilme", "-top", "1", "-aspect", "16:9",
        "-timecode", "01:02:03:04", "-c:a", "mp2", "-b:a", "384k", "-ac", "2", "-f", "mpegts", str(out),
    ])  # fmt: skip
    return out


def make_avchd_mts(folder: Path) -> Path:
    """AVCHD-style: H.264 1080i59.94 (MBAFF tff) in BDAV MPEG-TS (192-byte packets, .MTS), AC-3 stereo."""
    out = folder / "avchd_00001.MTS"
    _run([
        *_video("testsrc2", "1920x1080", "30000/1001", 0.5005), *_sine(48000, 0.5005),
        "-vf", "setfield=tff", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-flags", "+ildct+ilme", "-x264-params", "interlaced=1:tff=1", "-b:v", "17M",
        "-c:a", "ac3", "-b:a", "256k", "-ac", "2", "-mpegts_m2ts_mode", "1", "-f", "mpegts", str(out),
    ])  # fmt: skip
    return out


def make_phone_portrait(folder: Path) -> Path:
    """Phone portrait: H.264 1920x1080 coded, Display Matrix -90, VFR (avg 23 of nominal 30), AAC 44.1k, mp42."""
    tmp, out = folder / "phone.tmp.mp4", folder / "phone_portrait.mp4"
    # every third frame lasts two ticks: 23 frames over 1 s, durations 1/30 and 2/30
    _run([
        *_video("testsrc2", "1920x1080", "30", 1), *_sine(44100, 1),
        "-vf", "setpts=(N+floor(N/3))/30/TB", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-video_track_timescale", "600", "-shortest", str(tmp),
    ])  # fmt: skip
    _run(["-display_rotation", "-90", "-i", str(tmp), "-map", "0", "-c", "copy", "-brand", "mp42", str(out)])
    tmp.unlink()
    return out


def make_actioncam_27k(folder: Path) -> Path:
    """Action cam 2.7K: H.264 2704x1520 59.94 in MP4, AAC 48k stereo, plus a data (tmcd) track; 0.2 s."""
    out = folder / "actioncam_27k.mp4"
    _run([
        *_video("testsrc2", "2704x1520", "60000/1001", 0.2002), *_sine(48000, 0.2002),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2",
        "-timecode", "12:34:56:00", "-write_tmcd", "1", "-video_track_timescale", "60000", str(out),
    ])  # fmt: skip
    return out


def make_prores4444_alpha(folder: Path) -> Path:
    """ProRes 4444 with alpha (yuva444p10le in, 16-bit alpha), MOV 1280x720 24 fps, TC 01:00:00:00; 0.5 s."""
    out = folder / "prores4444_alpha.mov"
    _run([
        *_video("testsrc2", "1280x720", "24", 0.5), *_sine(48000, 0.5),
        "-vf", "format=yuva444p10le", "-c:v", "prores_ks", "-profile:v", "4444", "-pix_fmt", "yuva444p10le",
        "-alpha_bits", "16", "-c:a", "pcm_s24le", "-ac", "2", "-timecode", "01:00:00:00", str(out),
    ])  # fmt: skip
    return out


def make_h264_start_offset(folder: Path) -> Path:
    """H.264 MOV whose video starts at 3 s (empty edit), AAC stereo, TC 01:00:00:00."""
    out = folder / "h264_start_offset.mov"
    _run([
        *_video("testsrc2", "1280x720", "25", 1), *_sine(48000, 1),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2",
        "-output_ts_offset", "3", "-timecode", "01:00:00:00", str(out),
    ])  # fmt: skip
    return out


def make_hevc_10bit_422_uhd(folder: Path) -> Path:
    """HEVC Main 4:2:2 10 (libx265 yuv422p10le) 3840x2160 23.976, 6 frames, hvc1 in MOV, TC 23:59:50:00."""
    out = folder / "hevc_10bit_422_uhd.mov"
    _run([
        *_video("testsrc2", "3840x2160", "24000/1001", 0.25025), *_sine(48000, 0.25025), "-frames:v", "6",
        "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv422p10le",
        "-x265-params", "log-level=error:pools=2:frame-threads=1", "-tag:v", "hvc1",
        "-c:a", "pcm_s24le", "-ac", "2", "-timecode", "23:59:50:00", str(out),
    ], tool=_x265_10bit_ffmpeg())  # fmt: skip
    return out


def make_dropframe_tc(folder: Path) -> Path:
    """29.97 H.264 MOV with drop-frame timecode 01:00:00;00 in a tmcd track."""
    out = folder / "dropframe_tc.mov"
    _run([
        *_video("testsrc2", "1280x720", "30000/1001", 0.5005), *_sine(48000, 0.5005),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", "-ac", "2",
        "-timecode", "01:00:00;00", str(out),
    ])  # fmt: skip
    return out


def make_dropframe_tc_mxf(folder: Path) -> Path:
    """29.97 MPEG-2 4:2:2 720p MXF OP1a with drop-frame timecode 01:00:00;00 in the material package."""
    out = folder / "dropframe_tc.mxf"
    _run([
        *_video("testsrc2", "1280x720", "30000/1001", 0.5005), *_sine(48000, 0.5005),
        "-c:v", "mpeg2video", "-pix_fmt", "yuv422p", "-b:v", "20M", "-c:a", "pcm_s24le",
        "-timecode", "01:00:00;00", "-f", "mxf", str(out),
    ])  # fmt: skip
    return out


def _pcm_mov(out: Path, rate: int) -> Path:
    _run([
        *_video("testsrc2", "1280x720", "25", 1), *_sine(rate, 1),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s24le", "-ac", "2", str(out),
    ])  # fmt: skip
    return out


def make_audio_44k(folder: Path) -> Path:
    """H.264 MOV with 44.1 kHz stereo PCM."""
    return _pcm_mov(folder / "audio_44k.mov", 44100)


def make_audio_96k(folder: Path) -> Path:
    """H.264 MOV with 96 kHz stereo PCM."""
    return _pcm_mov(folder / "audio_96k.mov", 96000)


def make_sar_rounded_mov(folder: Path) -> Path:
    """PAL SD 720x576 25 fps with SAR 128:117 in MOV (stored exactly; see the module note on 93:85)."""
    out = folder / "sar_128_117.mov"
    _run([
        *_video("testsrc2", "720x576", "25", 1), *_sine(48000, 1),
        "-vf", "setsar=sar=128/117:max=1000", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "pcm_s16le", "-ac", "2", str(out),
    ])  # fmt: skip
    return out


def make_ts_broadcast(folder: Path) -> Path:
    """Broadcast: H.264 1280x720 50p in MPEG-TS, AAC stereo 48k (ADTS), PTS starting at ~10 s."""
    out = folder / "broadcast_720p50.ts"
    _run([
        *_video("testsrc2", "1280x720", "50", 0.5), *_sine(48000, 0.5),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
        "-c:a", "aac", "-ac", "2", "-output_ts_offset", "10", "-f", "mpegts", str(out),
    ])  # fmt: skip
    return out


def _expect(**facts: Any) -> Expect:
    defaults: dict[str, Any] = {
        "sar": "1:1", "rotation": 0, "vfr": False, "field_order": "progressive", "timecode": None,
        "drop_frame": False, "start_time": 0.0, "alpha": False, "pix_fmt": "yuv420p", "data_streams": 0,
    }  # fmt: skip
    merged = {**defaults, **facts}
    merged.setdefault("coded_width", merged["width"])
    merged.setdefault("coded_height", merged["height"])
    merged.setdefault("audio_layouts", tuple("stereo" for _ in merged["audio"]))
    return Expect(**merged)


STEREO_48K = ((2, 48000),)

CAMERA_MEDIA: dict[str, Callable[[Path], Path]] = {
    "xdcam_mxf": make_xdcam_mxf,
    "dv_ntsc_dv": make_dv_ntsc_dv,
    "dv_ntsc_mov": make_dv_ntsc_mov,
    "dv_pal_169_mov": make_dv_pal_169_mov,
    "hdv_m2t": make_hdv_m2t,
    "avchd_mts": make_avchd_mts,
    "phone_portrait": make_phone_portrait,
    "actioncam_27k": make_actioncam_27k,
    "prores4444_alpha": make_prores4444_alpha,
    "h264_start_offset": make_h264_start_offset,
    "hevc_10bit_422_uhd": make_hevc_10bit_422_uhd,
    "dropframe_tc": make_dropframe_tc,
    "dropframe_tc_mxf": make_dropframe_tc_mxf,
    "audio_44k": make_audio_44k,
    "audio_96k": make_audio_96k,
    "sar_rounded_mov": make_sar_rounded_mov,
    "ts_broadcast": make_ts_broadcast,
}

EXPECT: dict[str, Expect] = {
    "xdcam_mxf": _expect(
        container="mxf", video_codec="mpeg2video", pix_fmt="yuv422p", width=1920, height=1080,
        frame_rate="30000/1001", field_order="tt", audio=((1, 48000),) * 8, audio_layouts=(None,) * 8,
        timecode="10:00:00:00", frames=15,
    ),
    "dv_ntsc_dv": _expect(
        container="dv", video_codec="dvvideo", pix_fmt="yuv411p", width=640, height=480, coded_width=720,
        coded_height=480, sar="8:9", frame_rate="30000/1001", field_order="bb", audio=STEREO_48K,
        timecode="01:00:00;00", drop_frame=True, frames=30,
        note="raw DV carries no field-order flag: field_order comes from the first frame's flags",
    ),
    "dv_ntsc_mov": _expect(
        container="mov", video_codec="dvvideo", pix_fmt="yuv411p", width=640, height=480, coded_width=720,
        coded_height=480, sar="8:9", frame_rate="30000/1001", field_order="bb", audio=STEREO_48K,
        timecode="01:00:00;00", drop_frame=True, data_streams=1, frames=30,
    ),
    "dv_pal_169_mov": _expect(
        container="mov", video_codec="dvvideo", width=1024, height=576, coded_width=720, coded_height=576,
        sar="64:45", frame_rate="25/1", field_order="bb", audio=STEREO_48K, timecode="10:00:00:00",
        data_streams=1, frames=25,
    ),
    "hdv_m2t": _expect(
        container="mpegts", video_codec="mpeg2video", width=1920, height=1080, coded_width=1440, sar="4:3",
        frame_rate="25/1", field_order="tt", audio=STEREO_48K, timecode="01:02:03:04", start_time=1.4, frames=12,
        note="timecode only in the MPEG-2 GOP header (first frame side data), not in any tag",
    ),
    "avchd_mts": _expect(
        container="mpegts", video_codec="h264", width=1920, height=1080, frame_rate="30000/1001",
        field_order="tt", audio=STEREO_48K, start_time=1.4, frames=15,
    ),
    "phone_portrait": _expect(
        container="mov", video_codec="h264", width=1080, height=1920, coded_width=1920, coded_height=1080,
        rotation=-90, frame_rate="30/1", vfr=True, audio=((2, 44100),), frames=23,
    ),
    "actioncam_27k": _expect(
        container="mov", video_codec="h264", width=2704, height=1520, frame_rate="60000/1001",
        audio=STEREO_48K, timecode="12:34:56:00", data_streams=1, frames=12,
    ),
    "prores4444_alpha": _expect(
        container="mov", video_codec="prores", pix_fmt="yuva444p12le", width=1280, height=720, frame_rate="24/1",
        audio=STEREO_48K, timecode="01:00:00:00", alpha=True, data_streams=1, frames=12,
    ),
    "h264_start_offset": _expect(
        container="mov", video_codec="h264", width=1280, height=720, frame_rate="25/1", audio=STEREO_48K,
        timecode="01:00:00:00", start_time=3.0, data_streams=1, frames=25,
    ),
    "hevc_10bit_422_uhd": _expect(
        container="mov", video_codec="hevc", pix_fmt="yuv422p10le", width=3840, height=2160,
        frame_rate="24000/1001", audio=STEREO_48K, timecode="23:59:50:00", data_streams=1, frames=6,
    ),
    "dropframe_tc": _expect(
        container="mov", video_codec="h264", width=1280, height=720, frame_rate="30000/1001", audio=STEREO_48K,
        timecode="01:00:00;00", drop_frame=True, data_streams=1, frames=15,
    ),
    "dropframe_tc_mxf": _expect(
        container="mxf", video_codec="mpeg2video", pix_fmt="yuv422p", width=1280, height=720,
        frame_rate="30000/1001", audio=((1, 48000),), audio_layouts=(None,), timecode="01:00:00;00",
        drop_frame=True, frames=15,
    ),
    "audio_44k": _expect(
        container="mov", video_codec="h264", width=1280, height=720, frame_rate="25/1", audio=((2, 44100),), frames=25
    ),
    "audio_96k": _expect(
        container="mov", video_codec="h264", width=1280, height=720, frame_rate="25/1", audio=((2, 96000),), frames=25
    ),
    "sar_rounded_mov": _expect(
        container="mov", video_codec="h264", width=788, height=576, coded_width=720, coded_height=576,
        sar="128:117", frame_rate="25/1", audio=STEREO_48K, frames=25,
        note="MOV keeps 128:117 exactly; setsar's default max=100 is what rounds it to 93:85",
    ),
    "ts_broadcast": _expect(
        container="mpegts", video_codec="h264", width=1280, height=720, frame_rate="50/1", audio=STEREO_48K,
        start_time=11.4, frames=25,
    ),
}  # fmt: skip


# --- the independent probe ---------------------------------------------------------------------------


def _ffprobe(*args: str) -> dict[str, Any]:
    command = [require_tool("ffprobe").path, "-v", "error", "-of", "json", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def _ratio(text: str | None) -> Fraction | None:
    if not text or (":" not in text and "/" not in text):
        return None
    num, den = text.replace(":", "/").split("/")
    return Fraction(int(num), int(den)) if int(den) and int(num) else None


def _variable(r_rate: Fraction | None, avg_rate: Fraction | None, durations: list[float]) -> bool:
    """VFR: frame durations spread by over 5 %, or an average rate clearly below the nominal one.

    (Raw DV reports avg_frame_rate 60000/1: an average above the nominal rate is ignored.)
    """
    spread = len(durations) > 1 and (durations[-1] - durations[0]) > 0.05 * max(durations[0], 1e-6)
    slow = bool(r_rate and avg_rate and avg_rate < r_rate * Fraction(99, 100))
    return spread or slow


def independent_probe(path: Path | str, count_frames: bool = False) -> dict[str, Any]:
    """The relink-relevant facts of ANY media file, from ffprobe directly (never `proxx.media.probe`).

    Keys: container, format_names, video_codec, pix_fmt, coded_width/height, sar, rotation, width/height
    (display), dar, r_frame_rate, avg_frame_rate, frame_durations (distinct, s), vfr, frames, field_order,
    audio [(channels, rate)], audio_layouts, audio_codecs, data_streams, timecode, timecode_source,
    drop_frame, start_time (video), format_start_time, duration, alpha; nb_read_frames with count_frames.
    """
    target = f"file:{path}"
    doc = _ffprobe("-show_format", "-show_streams", target)
    streams, fmt = doc["streams"], doc["format"]
    video = next((s for s in streams if s["codec_type"] == "video"), None)
    audio = [s for s in streams if s["codec_type"] == "audio"]
    facts: dict[str, Any] = {
        "format_names": fmt["format_name"].split(","),
        "container": fmt["format_name"].split(",")[0],
        "audio": [(int(s.get("channels", 0)), int(s.get("sample_rate", 0))) for s in audio],
        "audio_layouts": [s.get("channel_layout") for s in audio],
        "audio_codecs": [s.get("codec_name") for s in audio],
        "data_streams": sum(1 for s in streams if s["codec_type"] == "data"),
        "format_start_time": float(fmt.get("start_time", 0.0)),
        "duration": float(fmt.get("duration", 0.0)),
    }
    timecode, source = None, None
    for holder, where in [*((s, f"stream {s['index']} tag") for s in streams), (fmt, "format tag")]:
        if holder.get("tags", {}).get("timecode"):
            timecode, source = str(holder["tags"]["timecode"]), where
            break
    if video is not None:
        # two packets: from one, an MPEG-2 frame comes back without its GOP timecode
        first = _ffprobe(
            "-select_streams", "v:0", "-read_intervals", "%+#2", "-show_entries",
            "frame=interlaced_frame,top_field_first:frame_side_data_list", target,
        )["frames"]  # fmt: skip
        frame = first[0] if first else {}
        sides = [side for each in first for side in each.get("side_data_list", []) if side.get("timecode")]
        if timecode is None and sides:
            timecode, source = str(sides[0]["timecode"]), f"frame side data ({sides[0].get('side_data_type')})"
        packets = _ffprobe(
            "-select_streams", "v:0", "-show_entries", "packet=pts_time,dts_time", "-show_packets", target
        )
        times = sorted(float(p.get("pts_time", p.get("dts_time", "nan"))) for p in packets["packets"])
        durations = sorted({round(b - a, 4) for a, b in itertools.pairwise(times)})
        rotation = 0
        for side in video.get("side_data_list", []):
            if "rotation" in side:
                rotation = int(side["rotation"])
        sar = _ratio(video.get("sample_aspect_ratio")) or Fraction(1)
        coded_w, coded_h = int(video["width"]), int(video["height"])
        width, height = round(coded_w * sar), coded_h
        if rotation % 180:
            width, height = height, width
        r_rate, avg_rate = _ratio(video.get("r_frame_rate")), _ratio(video.get("avg_frame_rate"))
        field_order = video.get("field_order")
        if field_order in (None, "unknown"):
            interlaced = frame.get("interlaced_frame", 0)
            field_order = ("tt" if frame.get("top_field_first", 0) else "bb") if interlaced else "progressive"
        pix_fmt = str(video.get("pix_fmt", ""))
        facts |= {
            "video_codec": video["codec_name"],
            "pix_fmt": pix_fmt,
            "coded_width": coded_w,
            "coded_height": coded_h,
            "sar": f"{sar.numerator}:{sar.denominator}",
            "rotation": rotation,
            "width": width,
            "height": height,
            "dar": width / height,
            "r_frame_rate": video.get("r_frame_rate"),
            "avg_frame_rate": video.get("avg_frame_rate"),
            "frame_durations": durations,
            "vfr": _variable(r_rate, avg_rate, durations),
            "frames": len(times),
            "field_order": field_order,
            "start_time": float(video.get("start_time", facts["format_start_time"])),
            "alpha": pix_fmt.startswith(ALPHA_PREFIXES),
        }
        if count_frames:
            counted = _ffprobe(
                "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames", target
            )
            facts["nb_read_frames"] = int(counted["streams"][0]["nb_read_frames"])
    facts |= {"timecode": timecode, "timecode_source": source, "drop_frame": bool(timecode and ";" in timecode)}
    return facts


# --- generation of them all, and the session fixture ----------------------------------------------------


def generate_all(folder: Path, workers: int = 2) -> tuple[dict[str, Path], dict[str, str]]:
    """Every class into `folder`: ({name: path}, {name: why it could not be made})."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    missing: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(maker, folder) for name, maker in CAMERA_MEDIA.items()}
        for name, future in futures.items():
            try:
                made[name] = future.result()
            except MediaUnavailable as unavailable:
                missing[name] = str(unavailable)
    return made, missing


@pytest.fixture(scope="session")
def camera_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One generation of every camera-structured file per session: {class name: path}.

    A class the toolchain cannot make here (see `MediaUnavailable`) is absent; `camera_media_missing`
    says why.
    """
    started = time.monotonic()
    made, missing = generate_all(tmp_path_factory.mktemp("camera_media"))
    print(f"\ncamera media: {len(made)} files in {time.monotonic() - started:.1f} s; unavailable: {missing or 'none'}")
    _MISSING.update(missing)
    return made


_MISSING: dict[str, str] = {}


@pytest.fixture(scope="session")
def camera_media_missing(camera_media: dict[str, Path]) -> dict[str, str]:
    return dict(_MISSING)
