"""What went wrong when ffmpeg failed, told from what it wrote, as one of the reasons proxx words for
operators (`proxx.errors`): the source damaged (and how far it could be read), the output not
writable, the volume full; anything else stays "engine_failed". ffmpeg's own lines stay in the
record for administrators."""

from __future__ import annotations

import re

from proxx.plugin import ExecutionError, RenderTask

# Lines the demuxer or the decoder writes about the input itself: the file ends early or is corrupt.
_DAMAGED_INPUT = re.compile(
    r"partial file|corrupt input packet|Packet corrupt|corrupt decoded frame|Invalid data found when processing input"
    r"|[Ee]rror while decoding|Error during demuxing",
)
# Lines about the output, with what the system answered.
_OUTPUT_ERROR = re.compile(r"(?:output file|writing trailer|muxing|Error opening output|av_interleaved_write_frame)")
_UNWRITABLE = re.compile(r"Permission denied|Read-only file system|Operation not permitted")
_NO_SPACE = "No space left on device"
# Pictures short of the source's end that still count as the whole clip (verification's own tolerance
# is one frame; a reader that stopped well before the end did not reach it).
_SHORT_SECONDS = 0.25


def failure_reason(messages: str) -> str:
    """The reason of an ffmpeg that exited with an error, from what it wrote."""
    if _NO_SPACE in messages:
        return "disk_full"
    if any(_OUTPUT_ERROR.search(line) and _UNWRITABLE.search(line) for line in messages.splitlines()):
        return "output_unwritable"
    if _DAMAGED_INPUT.search(messages):
        return "source_damaged"
    return "engine_failed"


def classified(error: ExecutionError, reached: float | None) -> ExecutionError:
    """`error` ("engine_failed" from `run_process`) under the reason ffmpeg's lines tell; a damaged
    source with how far it was read (`read_up_to`, seconds)."""
    if error.reason != "engine_failed":
        return error
    reason = failure_reason(str(error.context.get("engine_messages", "")))
    context = {**error.context, **({"read_up_to": reached} if reason == "source_damaged" and reached else {})}
    return ExecutionError(reason, error.message, context)


def ended_early(task: RenderTask, messages: str, reached: float | None) -> ExecutionError | None:
    """An ffmpeg that exited 0 but stopped reading a damaged source before its end (a file cut
    short, a corrupt stretch it could not get past): the clip's failure, "source_damaged", or None."""
    expected = task.expected_duration
    if expected is None or reached is None or reached >= expected - _SHORT_SECONDS:
        return None
    damage = [line.strip() for line in messages.splitlines() if _DAMAGED_INPUT.search(line)]
    if not damage:
        return None
    return ExecutionError(
        "source_damaged",
        f"FFmpeg stopped reading the source at {reached:.3f} s of {expected:.3f} s: {damage[-1]}",
        {"source": task.clip.source, "read_up_to": reached, "engine_messages": "\n".join(damage[-20:])},
    )
