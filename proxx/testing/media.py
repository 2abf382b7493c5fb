"""Independent ffprobe reads for tests: they check outputs without going through proxx's own probe."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from proxx.plugin import require_tool


def ffprobe(path: str) -> dict[str, Any]:
    done = subprocess.run(
        [require_tool("ffprobe").path, "-v", "error", "-of", "json", "-show_format", "-show_streams", f"file:{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def video(document: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in document["streams"] if s["codec_type"] == "video")


def audio(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in document["streams"] if s["codec_type"] == "audio"]


def timecode(document: dict[str, Any]) -> str | None:
    for holder in [*document["streams"], document["format"]]:
        value = holder.get("tags", {}).get("timecode")
        if value:
            return str(value)
    return None


def count_frames(path: str) -> int:
    done = subprocess.run(
        [require_tool("ffprobe").path, "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", f"file:{path}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(done.stdout.strip().split(",")[0])
