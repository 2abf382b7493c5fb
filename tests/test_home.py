"""Facts remembered under PROXX_HOME: a binary's version is asked once, until the binary changes."""

from __future__ import annotations

import os

from proxx.media.tools import Tool


def test_a_tool_version_is_asked_once_until_the_binary_changes(proxx_home, tmp_path):
    calls = tmp_path / "calls"
    binary = tmp_path / "ffmpeg"
    binary.write_text(f'#!/bin/sh\necho x >> "{calls}"\necho "ffmpeg version 9.9-test Copyright"\n')
    binary.chmod(0o755)

    def version() -> str:
        return Tool("ffmpeg", str(binary), "PROXX_FFMPEG").version  # a fresh Tool: no in-process memory

    assert version() == "9.9-test"
    assert version() == "9.9-test"
    assert calls.read_text().count("x") == 1
    stat = binary.stat()
    os.utime(binary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # replaced or rebuilt
    assert version() == "9.9-test"
    assert calls.read_text().count("x") == 2
