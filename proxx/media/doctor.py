"""`proxx doctor`: which ffmpeg and ffprobe proxx runs, and proof that they read the containers a
facility feeds it. Each sample is made on the spot with the ffmpeg in use, probed with the ffprobe in
use, decoded whole, and its first picture read by verification's decoder (PyAV's FFmpeg,
`proxx.media.decoder`); a build that crashes on MPEG-TS (as the static 6.0 build did on Debian 12)
is caught here, before an operator's card is blamed for it."""

from __future__ import annotations

import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

import attrs

from proxx.media import decoder
from proxx.media.allowlist import demuxer_options
from proxx.media.probe import ProbeError, file_url, probe
from proxx.media.tools import Tool, find_tool

# name, file name, ffmpeg output arguments: the structures cameras and broadcast write.
SAMPLES = (
    ("MPEG-TS (AVCHD, HDV, broadcast)", "sample.ts",
     ["-c:v", "libx264", "-preset", "ultrafast", "-flags", "+ildct+ilme", "-c:a", "ac3", "-f", "mpegts"]),
    ("MXF OP1a (XDCAM, camera)", "sample.mxf",
     ["-c:v", "mpeg2video", "-pix_fmt", "yuv422p", "-c:a", "pcm_s24le", "-timecode", "01:00:00:00", "-f", "mxf"]),
    ("QuickTime MOV (ProRes, phones)", "sample.mov",
     ["-c:v", "prores_aw", "-c:a", "pcm_s16le", "-timecode", "01:00:00:00", "-f", "mov"]),
)  # fmt: skip


@attrs.frozen
class ToolReport:
    name: str
    path: str | None
    origin: str | None
    version: str | None


@attrs.frozen
class SampleReport:
    name: str
    ok: bool
    detail: str  # what was read back, or the step that failed and why
    seconds: float


@attrs.frozen
class DoctorReport:
    tools: tuple[ToolReport, ...]
    samples: tuple[SampleReport, ...]
    decoder: str | None = None  # "PyAV 18.1.0": what decodes verification's pictures; None: not installed

    @property
    def ok(self) -> bool:
        versions = {t.version for t in self.tools if t.path}
        return all(t.path for t in self.tools) and all(s.ok for s in self.samples) and len(versions) <= 1

    @property
    def mismatch(self) -> str | None:
        """Why ffmpeg and ffprobe are not one build, or None: what ffprobe reads of a proxy must be
        what that ffmpeg wrote (one release's stream and field-order readings differ from another's)."""
        return build_mismatch(self.tools)


def build_mismatch(tools: tuple[ToolReport, ...]) -> str | None:
    """ffmpeg and ffprobe of different versions, or taken from different places (one set by
    PROXX_FFMPEG, the other bundled), are not the same build."""
    found = {t.name: t for t in tools if t.path}
    ffmpeg, ffprobe = found.get("ffmpeg"), found.get("ffprobe")
    if ffmpeg is None or ffprobe is None:
        return None
    if ffmpeg.version != ffprobe.version:
        return (
            f"ffmpeg {ffmpeg.version} and ffprobe {ffprobe.version} are not the same build: "
            "set PROXX_FFMPEG and PROXX_FFPROBE to the two programs of one build."
        )
    if ffmpeg.origin != ffprobe.origin and Path(ffmpeg.path or "").parent != Path(ffprobe.path or "").parent:
        return (
            f"ffmpeg comes from {ffmpeg.origin} and ffprobe from {ffprobe.origin}: they may not be the same build; "
            "set PROXX_FFMPEG and PROXX_FFPROBE to the two programs of one build."
        )
    return None


def _tool_report(name: str, tool: Tool | None) -> ToolReport:
    if tool is None:
        return ToolReport(name, None, None, None)
    return ToolReport(name, tool.path, tool.origin, tool.version)


def _run(command: list[str]) -> str | None:
    """None on success, else why: the exit code or signal and ffmpeg's last line."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode == 0:
        return None
    how = f"crashed (signal {-done.returncode})" if done.returncode < 0 else f"exited with code {done.returncode}"
    last = (done.stderr.strip().splitlines() or [""])[-1]
    return f"{how}{': ' + last if last else ''}"


def _check_sample(ffmpeg: Tool, name: str, filename: str, output_args: list[str], folder: Path) -> SampleReport:
    started = time.monotonic()
    path = folder / filename
    make = [
        ffmpeg.path, "-hide_banner", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.4",
        "-f", "lavfi", "-i", "sine=sample_rate=48000:duration=0.4", *output_args, file_url(str(path)),
    ]  # fmt: skip
    why = _run(make)
    if why:
        return SampleReport(name, False, f"making it: ffmpeg {why}", time.monotonic() - started)
    try:
        info = probe(str(path))
    except ProbeError as error:
        return SampleReport(name, False, f"probing it: {error}", time.monotonic() - started)
    why = _run([ffmpeg.path, "-hide_banner", "-nostdin", "-v", "error", "-i", file_url(str(path)), "-f", "null", "-"])
    if why:
        return SampleReport(name, False, f"decoding it: ffmpeg {why}", time.monotonic() - started)
    try:
        decoder.read(file_url(str(path)), demuxer_options(), 1, 16)
    except (OSError, ValueError) as error:
        return SampleReport(name, False, f"reading its picture for verification: {error}", time.monotonic() - started)
    video = info.video
    read = f"{video.codec} {video.width}x{video.height}" if video else "no video"
    timecode = info.timecode or "none"
    detail = f"{read}, {len(info.audio)} audio, timecode {timecode}: made, probed, decoded, its picture read"
    return SampleReport(name, video is not None, detail, time.monotonic() - started)


def _decoder() -> str | None:
    try:
        return f"PyAV {metadata.version('av')}"
    except metadata.PackageNotFoundError:
        return None


def examine() -> DoctorReport:
    ffmpeg, ffprobe = find_tool("ffmpeg"), find_tool("ffprobe")
    tools = (_tool_report("ffmpeg", ffmpeg), _tool_report("ffprobe", ffprobe))
    if ffmpeg is None or ffprobe is None:
        return DoctorReport(tools, (), _decoder())
    with tempfile.TemporaryDirectory(prefix="proxx-doctor-") as folder:
        samples = tuple(_check_sample(ffmpeg, *sample, Path(folder)) for sample in SAMPLES)
    return DoctorReport(tools, samples, _decoder())
