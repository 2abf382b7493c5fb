"""Execution settings from the environment (documented in the README), for the core and for
plugins that need the same timeouts."""

from __future__ import annotations

import os

import attrs

from proxx.media.probe import MediaInfo


@attrs.frozen
class Settings:
    """Execution knobs.

    timeout_factor: PROXX_TIMEOUT_FACTOR; an engine gets this many times the source's duration...
    timeout_minimum: PROXX_TIMEOUT_MIN; ...but never fewer seconds than this.
    lease_seconds: PROXX_LEASE_SECONDS; a RUNNING job without a heartbeat for this long is lost.
    """

    timeout_factor: float = 10.0
    timeout_minimum: float = 120.0
    lease_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> Settings:
        defaults = cls()
        return cls(
            timeout_factor=float(os.environ.get("PROXX_TIMEOUT_FACTOR", defaults.timeout_factor)),
            timeout_minimum=float(os.environ.get("PROXX_TIMEOUT_MIN", defaults.timeout_minimum)),
            lease_seconds=float(os.environ.get("PROXX_LEASE_SECONDS", defaults.lease_seconds)),
        )

    def timeout_for(self, source: MediaInfo | None) -> float:
        return max(self.timeout_minimum, self.timeout_factor * duration_of(source))


def duration_of(info: MediaInfo | None) -> float:
    """Seconds of a probed source's video; 0 when unknown (a RAW source no probe reads)."""
    return (info.video_duration if info else None) or 0.0
