"""A test plugin for a format outside the bundled vocabulary: VP9 in WebM with Opus audio, rendered
by ffmpeg (libvpx-vp9, libopus). It declares the three terms through `proxx_vocabulary` and ships the
canonical profile that uses them; it imports nothing from proxx but the public plugin API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from proxx.plugin import (
    AudioPolicy,
    Availability,
    Codec,
    Container,
    Engine,
    RenderReport,
    RenderTask,
    find_tool,
    hookimpl,
    proxy_target,
    require_tool,
    run_process,
)
from proxx_ffmpeg.argv import colour_filters, colour_options, file_url, input_options

PROXX_PLUGIN_API = "1.1"
PROFILES = Path(__file__).parent / "profiles"


class VP9WebMEngine(Engine):
    name = "vp9webm"
    display_name = "VP9/WebM"

    def availability(self) -> Availability:
        ffmpeg = find_tool("ffmpeg")
        return Availability(True, version=ffmpeg.version) if ffmpeg else Availability(False, "ffmpeg not found")

    def render(self, task: RenderTask) -> RenderReport:
        ffmpeg = require_tool("ffmpeg")
        source = task.source
        assert source is not None and source.video is not None  # validation refuses sources without video
        target = proxy_target(task.spec.canonical_profile, source)  # what verification checks
        sar, rate = target.sample_aspect_ratio, target.rate
        picture = ["bwdif=mode=send_frame"] if target.deinterlace else []
        picture += [f"scale={target.width}:{target.height}", *colour_filters(target.colour, "yuv420p")]
        picture += [f"setsar=sar={sar.numerator}/{sar.denominator}:max=100000"]
        command = [
            ffmpeg.path, "-hide_banner", "-nostdin", "-n", "-loglevel", "error",
            *input_options(source),
            "-map", "0:v:0", "-map", "0:a?", "-map_metadata", "-1",
            "-fps_mode", "cfr", "-r", f"{rate.numerator}/{rate.denominator}", "-vf", ",".join(picture),
            "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-crf", "40",
            "-pix_fmt", "yuv420p", *colour_options(target.colour), "-c:a", "libopus", "-b:a", "96k",
        ]  # fmt: skip
        if source.timecode:  # Matroska keeps it as the video track's TIMECODE tag
            command += ["-metadata:s:v:0", f"timecode={source.timecode}"]
        command += ["-f", "webm", file_url(task.partial_path)]
        run_process(command, task, label="VP9/WebM")
        task.progress(1.0)
        return RenderReport(engine_version=f"vp9webm 1.0, ffmpeg {ffmpeg.version}")


@hookimpl
def proxx_vocabulary() -> Iterator[Codec | Container | AudioPolicy]:
    yield Codec("vp9", family="vp9", probe_codec="vp9", probe_profile="Profile 0", long_gop=True, bits_per_pixel=0.2)
    yield Container("webm", extension=".webm", probe_format="matroska,webm")
    yield AudioPolicy("opus", probe_codecs=("opus",))


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield VP9WebMEngine()


@hookimpl
def proxx_canonical_profiles() -> Iterable[Path]:
    return [PROFILES]
