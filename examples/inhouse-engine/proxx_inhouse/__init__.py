"""The inhouse engine: HEVC review proxies at quarter size, rendered by ffmpeg's x265 encoder."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from proxx.plugin import (
    Availability,
    ClipSpec,
    Engine,
    JobSpec,
    JobValidationError,
    MediaInfo,
    RenderReport,
    RenderTask,
    find_tool,
    hookimpl,
    proxy_target,
    require_tool,
    run_process,
)
from proxx_ffmpeg.argv import colour_filters, colour_options, file_url, input_options

PROXX_PLUGIN_API = "1.1"  # the plugin API (proxx.plugin.API_VERSION) this plugin was built for
PROFILES = Path(__file__).parent / "profiles"


@functools.cache  # availability() runs before every job: ask each ffmpeg binary once
def has_x265(ffmpeg: str) -> bool:
    listing = subprocess.run([ffmpeg, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30)
    return " libx265 " in listing.stdout


class InhouseEngine(Engine):
    name = "inhouse"
    display_name = "Inhouse"

    def availability(self) -> Availability:
        ffmpeg = find_tool("ffmpeg")  # PROXX_FFMPEG, the bundled build, or PATH
        if ffmpeg is None:
            return Availability(False, "ffmpeg not found")
        if not has_x265(ffmpeg.path):
            return Availability(False, f"{ffmpeg.path} has no libx265 encoder")
        return Availability(True, version=ffmpeg.version)

    def validate_clip(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo) -> Iterable[JobValidationError]:
        profile = spec.canonical_profile
        if (profile.codec, profile.container) != ("hevc", "mp4"):
            yield JobValidationError(
                "profile_unsupported", f"The Inhouse engine renders HEVC in MP4 only, not {profile.codec}.", {}
            )
        if source.video is None:
            yield JobValidationError("no_video", f"Source file '{clip.source}' has no video.", {"source": clip.source})

    def render(self, task: RenderTask) -> RenderReport:
        ffmpeg = require_tool("ffmpeg")
        source = task.source
        assert source is not None and source.video is not None  # validate_clip saw to it
        # The media policy's target: what the core verifies the output against (size, SAR, rate, scan).
        target = proxy_target(task.spec.canonical_profile, source)
        sar, rate = target.sample_aspect_ratio, target.rate
        picture = ["bwdif=mode=send_frame"] if target.deinterlace else []  # HEVC review proxies are progressive
        picture += [f"scale={target.width}:{target.height}", *colour_filters(target.colour, "yuv420p")]
        picture += [f"setsar=sar={sar.numerator}/{sar.denominator}:max=100000"]
        command = [
            ffmpeg.path, "-hide_banner", "-nostdin", "-n", "-loglevel", "error",
            *input_options(source),  # local file, validated demuxer
            "-map", "0:v:0", "-map", "0:a?", "-map_metadata", "0",
            "-fps_mode", "cfr", "-r", f"{rate.numerator}/{rate.denominator}", "-vf", ",".join(picture),
            "-c:v", "libx265", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p",
            *colour_options(target.colour),  # the colour description the proxy states
            "-x265-params", "log-level=error", "-tag:v", "hvc1",  # hvc1: QuickTime plays it
            "-c:a", "aac", "-b:a", "192k",
        ]  # fmt: skip
        if source.timecode:  # editing systems relink on the start timecode
            command += ["-timecode", source.timecode]
        if task.threads:  # clips beside this one: the decoder's share of the cores (x265 keeps its own
            command[1:1] = ["-threads", str(task.threads)]  # thread count: its bytes depend on it)
        command += ["-progress", "pipe:1", "-f", "mp4", file_url(task.partial_path)]
        # run_process starts ffmpeg in a process group that dies with the worker, reports progress,
        # stops it on cancel and timeout, copies its messages to the job log, and raises the
        # ExecutionError proxx expects when it fails.
        run_process(
            command,
            task,
            label="Inhouse",
            parse_progress=functools.partial(progress, source.video_duration or 0.0),
            progress_stream="stdout",
        )
        return RenderReport(engine_version=f"inhouse 1.0, ffmpeg {ffmpeg.version}")


def progress(duration: float, line: str) -> float | None:
    """The fraction done, from a line of ffmpeg's `-progress` report ("out_time_us=1200000")."""
    key, _, value = line.partition("=")
    if key == "out_time_us" and value.isdigit() and duration > 0:
        return min(1.0, int(value) / 1e6 / duration)
    return None


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield InhouseEngine()


@hookimpl
def proxx_canonical_profiles() -> Iterable[Path]:
    return [PROFILES]
