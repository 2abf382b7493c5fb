"""Registers the `resolve` engine."""

from __future__ import annotations

from collections.abc import Iterator

from proxx.plugin import Check, ClipSpec, Engine, JobSpec, MediaInfo, hookimpl
from proxx_resolve.engine import ResolveEngine
from proxx_resolve.rawfacts import raw_checks, recall

PROXX_PLUGIN_API = "1.1"  # the plugin API (proxx.plugin.API_VERSION) this plugin was built for


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield ResolveEngine()


@hookimpl
def proxx_verify_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, output: MediaInfo) -> Iterator[Check]:
    """A RAW source no probe reads: the output against Resolve's own clip properties (frame size,
    frame rate, duration, audio channels), beside the core's format checks."""
    if source is not None or not isinstance(output, MediaInfo) or spec.engine != "resolve":
        return  # a probed source: the core's checks cover it
    facts = recall(output.path)
    if facts is not None:
        yield from raw_checks(spec.canonical_profile, facts, output)
