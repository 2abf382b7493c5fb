"""What ffmpeg wrote, told as one of proxx's reasons: a full volume, an output it could not write,
a damaged source (with how far it was read), anything else its own error."""

from __future__ import annotations

import pytest

from proxx.plugin import ExecutionError
from proxx_ffmpeg.failures import classified, failure_reason


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ("[out#0/mov @ 0x55] Error writing trailer: No space left on device", "disk_full"),
        ("[vost#0:0 @ 0x55] av_interleaved_write_frame(): No space left on device", "disk_full"),
        ("[out#0/mp4 @ 0x55] Error opening output file /x/A.mp4.\nError opening output files: Permission denied",
         "output_unwritable"),
        ("[out#0/mp4 @ 0x55] Error opening output file /x/A.mp4: Permission denied", "output_unwritable"),
        ("av_interleaved_write_frame(): Read-only file system", "output_unwritable"),
        ("[in#0/mov @ 0x55] stream 1, offset 0x56001: partial file", "source_damaged"),
        ("[h264 @ 0x55] Invalid NAL unit size.\n[vist#0:0/h264] Decoding error: Invalid data found when processing "
         "input", "source_damaged"),
        ("Stream map '0:s' matches no streams.", "engine_failed"),
        ("Error opening output files: Invalid argument", "engine_failed"),
        ("/media/Permission denied/A.mov: Permission denied", "engine_failed"),  # a source, not the output
    ],
)  # fmt: skip
def test_ffmpeg_s_lines_tell_the_reason(lines: str, reason: str) -> None:
    assert failure_reason(lines) == reason


def test_a_damaged_source_says_how_far_it_was_read_and_keeps_ffmpeg_s_words() -> None:
    error = ExecutionError(
        "engine_failed",
        "FFmpeg exited with code 1: Error during demuxing: Invalid data found when processing input",
        {"source": "/m/A.mov", "exit_code": 1, "engine_messages": "[in#0] Error during demuxing: Invalid data"},
    )
    told = classified(error, 12.5)
    assert (told.reason, told.message) == ("source_damaged", error.message)
    assert told.context["read_up_to"] == 12.5 and told.context["exit_code"] == 1
    timeout = ExecutionError("timeout", "FFmpeg timed out after 3 seconds")
    assert classified(timeout, 1.0) is timeout  # only "engine_failed" is told apart
