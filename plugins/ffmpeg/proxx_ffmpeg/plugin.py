"""Registers the `ffmpeg` engine."""

from __future__ import annotations

from collections.abc import Iterator

from proxx.plugin import Engine, hookimpl
from proxx_ffmpeg.engine import FFmpegEngine


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield FFmpegEngine()
