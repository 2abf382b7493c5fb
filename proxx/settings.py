"""Execution settings from the environment, as one public record (engines read the timeout rules)."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from proxx.home import proxx_home
from proxx.media.probe import MediaInfo

#: A RUNNING job whose worker has not renewed its lease for this long is lost (PROXX_LEASE_SECONDS).
DEFAULT_LEASE_SECONDS = 30.0


@attrs.frozen
class Settings:
    """How long a render may take and how long a job's lease lasts, read from the environment.

    Fields:
      timeout_factor: PROXX_TIMEOUT_FACTOR (default 10): a clip's timeout is this many times its
        source's duration ...
      timeout_minimum: PROXX_TIMEOUT_MIN (default 120): ... but never less than this many seconds.
      lease_seconds: PROXX_LEASE_SECONDS (default 30): a RUNNING job without a heartbeat for this
        long is declared lost.
    """

    timeout_factor: float = 10.0
    timeout_minimum: float = 120.0
    lease_seconds: float = DEFAULT_LEASE_SECONDS

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment asks for now (the defaults for unset variables)."""
        defaults = cls()
        return cls(
            timeout_factor=float(os.environ.get("PROXX_TIMEOUT_FACTOR", defaults.timeout_factor)),
            timeout_minimum=float(os.environ.get("PROXX_TIMEOUT_MIN", defaults.timeout_minimum)),
            lease_seconds=float(os.environ.get("PROXX_LEASE_SECONDS", defaults.lease_seconds)),
        )

    def timeout_for(self, source: MediaInfo | None) -> float:
        """The render timeout, in seconds, of a clip made from `source` (None: an unprobed RAW file)."""
        return self.timeout_of(duration_of(source))

    def timeout_of(self, seconds: float) -> float:
        """The render timeout, in seconds, of a clip `seconds` long."""
        return max(self.timeout_minimum, self.timeout_factor * seconds)

    @property
    def home(self) -> Path:
        """PROXX_HOME, created if missing: where proxx keeps its store, logs and results."""
        return proxx_home()


def duration_of(info: MediaInfo | None) -> float:
    """Seconds of a probed source's video; 0 when unknown (a RAW source no probe reads)."""
    return (info.video_duration if info else None) or 0.0
