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
    ExecutionError,
    JobSpec,
    JobValidationError,
    MediaInfo,
    RenderReport,
    RenderTask,
    file_url,
    find_tool,
    hookimpl,
    input_restrictions,
    proxy_target,
    require_tool,
)

PROXX_PLUGIN_API = "1.0"  # the plugin API (proxx.plugin.API_VERSION) this plugin was built for
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
        picture += [f"scale={target.width}:{target.height}", f"setsar=sar={sar.numerator}/{sar.denominator}:max=100000"]
        command = [
            ffmpeg.path, "-hide_banner", "-nostdin", "-n", "-loglevel", "error",
            *input_restrictions(source), "-i", file_url(source.path),  # local file, validated demuxer
            "-map", "0:v:0", "-map", "0:a?", "-map_metadata", "0",
            "-fps_mode", "cfr", "-r", f"{rate.numerator}/{rate.denominator}", "-vf", ",".join(picture),
            "-c:v", "libx265", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p",
            "-x265-params", "log-level=error", "-tag:v", "hvc1",  # hvc1: QuickTime plays it
            "-c:a", "aac", "-b:a", "192k",
        ]  # fmt: skip
        if source.timecode:  # editing systems relink on the start timecode
            command += ["-timecode", source.timecode]
        if task.threads:  # other clips render beside this one: its share of the cores
            command += ["-threads", str(task.threads)]
        command += ["-f", "mp4", file_url(task.partial_path)]
        with open(task.log_path, "a", encoding="utf-8") as log:
            log.write(f"$ {subprocess.list2cmdline(command)}\n")
            try:  # run() kills ffmpeg when the timeout expires
                done = subprocess.run(
                    command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=task.timeout
                )
            except subprocess.TimeoutExpired:
                raise ExecutionError(
                    "timeout", f"Inhouse timed out after {task.timeout:g} seconds", {"source": task.clip.source}
                ) from None
            log.write(done.stderr)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no error message"])[-1]
            raise ExecutionError(
                "engine_failed",
                f"Inhouse exited with code {done.returncode}: {last}",
                {"source": task.clip.source, "exit_code": done.returncode},
            )
        task.progress(1.0)
        return RenderReport(engine_version=f"inhouse 1.0, ffmpeg {ffmpeg.version}")


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield InhouseEngine()


@hookimpl
def proxx_canonical_profiles() -> Iterable[Path]:
    return [PROFILES]
