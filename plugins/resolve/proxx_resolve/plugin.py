"""Registers the `resolve` engine, and the verification it adds for RAW sources."""

from __future__ import annotations

from collections.abc import Iterator

from proxx import Engine, hookimpl
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media.probe import MediaInfo
from proxx.verify.checks import Check, verify_output
from proxx_resolve.engine import ResolveEngine

# The core checks that compare the output with the profile alone, not with the source.
SOURCE_FREE_CHECKS = ("container", "video_stream", "video_codec", "codec_profile", "even_dimensions")


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield ResolveEngine()


@hookimpl
def proxx_verify_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, output: MediaInfo) -> list[Check]:
    """A RAW source ffprobe cannot read leaves the core nothing to compare with, so it checks only
    that the output exists and is readable. What needs no source is still checked: the core's own
    checks are run with the output standing in for the source, keeping only those that never
    consult the source (size against the source, rate, duration, timecode and audio stay unchecked)."""
    if spec.engine != ResolveEngine.name or source is not None:
        return []
    return [c for c in verify_output(spec.canonical_profile, output, output) if c.name in SOURCE_FREE_CHECKS]
