"""MPEG-4 Part 2 review proxies in Matroska, rendered by ffmpeg."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from proxx.plugin import (
    AudioPolicy,
    Availability,
    ClipSpec,
    Codec,
    Container,
    Engine,
    JobSpec,
    JobValidationError,
    MediaInfo,
    RenderReport,
    RenderTask,
    cannot_render,
    find_tool,
    hookimpl,
    proxy_target,
    require_tool,
    run_process,
)
from proxx_ffmpeg.argv import colour_filters, colour_options, file_url, input_options

PROXX_PLUGIN_API = "1.1"
PROFILES = Path(__file__).parent / "profiles"


def progress(duration: float, line: str) -> float | None:
    key, _, value = line.partition("=")
    if key == "out_time_us" and value.isdigit() and duration > 0:
        return min(1.0, int(value) / 1e6 / duration)
    return None


class MPEG4Engine(Engine):
    name = "mpeg4"
    display_name = "MPEG4"

    def availability(self) -> Availability:
        ffmpeg = find_tool("ffmpeg")
        return Availability(True, version=ffmpeg.version) if ffmpeg else Availability(False, "ffmpeg not found")

    def validate_clip(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo) -> Iterable[JobValidationError]:
        if (spec.canonical_profile.codec, spec.canonical_profile.container) != ("mpeg4_review", "mkv"):
            yield cannot_render(clip, "the MPEG4 engine renders MPEG-4 Part 2 in Matroska only")
        if source.video is None:
            yield cannot_render(clip, "it has no picture")

    def render(self, task: RenderTask) -> RenderReport:
        ffmpeg = require_tool("ffmpeg")
        source = task.source
        assert source is not None and source.video is not None
        target = proxy_target(task.spec.canonical_profile, source)
        sar, rate = target.sample_aspect_ratio, target.rate
        picture = ["bwdif=mode=send_frame"] if target.deinterlace else []
        picture += [f"scale={target.width}:{target.height}", *colour_filters(target.colour, "yuv420p")]
        picture += [f"setsar=sar={sar.numerator}/{sar.denominator}:max=100000"]
        command = [
            ffmpeg.path, "-hide_banner", "-nostdin", "-n", "-loglevel", "error",
            *input_options(source),
            "-map", "0:v:0", "-map", "0:a?", "-map_metadata", "-1",
            "-fps_mode", "cfr", "-r", f"{rate.numerator}/{rate.denominator}", "-vf", ",".join(picture),
            "-c:v", "mpeg4", "-q:v", "5", "-pix_fmt", "yuv420p", *colour_options(target.colour),
            "-c:a", "aac", "-b:a", "192k",
        ]  # fmt: skip
        if source.timecode:  # Matroska keeps it as the video track's TIMECODE tag
            command += ["-metadata:s:v:0", f"timecode={source.timecode}"]
        if task.threads:
            command += ["-threads", str(task.threads)]
        command += ["-progress", "pipe:1", "-f", "matroska", file_url(task.partial_path)]
        duration = task.expected_duration or 0.0
        run_process(
            command, task, label="MPEG4", parse_progress=lambda line: progress(duration, line), progress_stream="stdout"
        )
        return RenderReport(engine_version=f"mpeg4 0.3, ffmpeg {ffmpeg.version}")


@hookimpl
def proxx_vocabulary() -> Iterator[Codec | Container | AudioPolicy]:
    yield Codec(
        "mpeg4_review", family="mpeg4", probe_codec="mpeg4", probe_profile=None, long_gop=True, bits_per_pixel=0.5
    )
    yield Container("mkv", extension=".mkv", probe_format="matroska,webm")


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield MPEG4Engine()


@hookimpl
def proxx_canonical_profiles() -> Iterable[Path]:
    return [PROFILES]
