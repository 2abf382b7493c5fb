"""The FFmpeg engine: renders canonical profiles whose `engine` is `ffmpeg`."""

from __future__ import annotations

from collections.abc import Iterable
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
    cannot_render,
    find_tool,
    proxy_target,
    require_tool,
    run_process,
)
from proxx_ffmpeg.failures import classified, ended_early
from proxx_ffmpeg.fields import FieldOrderError, set_field_order
from proxx_ffmpeg.recipes import build_args, encoder_thread_count, unsupported

# stderr lines that say nothing about why ffmpeg failed
_NOISE = ("Press [q]", "Conversion failed!", "frame=", "size=", "video:", "    ")


def last_meaningful_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith(_NOISE)]
    return lines[-1] if lines else "no error message"


class FFmpegEngine(Engine):
    name = "ffmpeg"
    display_name = "FFmpeg"

    def availability(self) -> Availability:
        ffmpeg, ffprobe = find_tool("ffmpeg"), find_tool("ffprobe")
        if ffmpeg is None or ffprobe is None:
            missing = " and ".join(n for n, t in (("ffmpeg", ffmpeg), ("ffprobe", ffprobe)) if t is None)
            return Availability(False, f"{missing} not found")
        return Availability(True, version=ffmpeg.version)

    def validate_clip(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo) -> Iterable[JobValidationError]:
        why = unsupported(spec.canonical_profile, source)
        if why:
            yield cannot_render(clip, why)

    def render(self, task: RenderTask) -> RenderReport:
        ffmpeg = require_tool("ffmpeg")
        assert task.source is not None  # ffmpeg never takes RAW: validation refused it
        command = build_args(ffmpeg.path, task.source, task.partial_path, task.spec.canonical_profile, task.threads)
        progress = ProgressReader(task.source.video_duration or 0.0)
        try:
            run = run_process(
                command,
                task,
                label="FFmpeg",
                parse_progress=progress,
                progress_stream="stdout",  # `-progress pipe:1`; its messages come on stderr
                failure_line=last_meaningful_line,
            )
        except ExecutionError as error:
            raise classified(error, progress.reached) from None
        damaged = ended_early(task, run.messages, progress.reached)
        if damaged is not None:
            raise damaged
        target = proxy_target(task.spec.canonical_profile, task.source)
        if target.interlaced and task.spec.canonical_profile.container == "mov":
            try:
                set_field_order(Path(task.partial_path), target.field_order)
            except (OSError, FieldOrderError) as error:
                raise ExecutionError(
                    "engine_failed",
                    f"FFmpeg's output could not be marked with the source's field order: {error}",
                    {"source": task.clip.source},
                ) from error
        return RenderReport(
            engine_version=ffmpeg.version,
            details={
                "binary": ffmpeg.path,
                "binary_origin": ffmpeg.origin,
                "seconds": round(run.seconds, 3),
                # What could matter to the bytes is recorded: the toolchain above, and the thread
                # counts (None: ffmpeg's own choice); only the encoder's could change them, and it
                # never depends on load where it would (`recipes.encoder_thread_count`).
                "threads": {
                    "decoder": task.threads,
                    "encoder": encoder_thread_count(task.spec.canonical_profile, task.threads),
                },
            },
        )


class ProgressReader:
    """Reads `-progress pipe:1`: blocks of key=value lines ending with progress=continue|end; the
    fraction comes from out_time_us, and `reached` is how far the output got, in seconds."""

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self.reached: float | None = None  # the last output time reported, in seconds

    def __call__(self, line: str) -> float | None:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            self.reached = max(0.0, int(value) / 1e6)
            return min(1.0, self.reached / self.duration) if self.duration > 0 else None
        return None  # "progress=end" comes after a failed encode too: proxx reports 1.0 once verified
