"""The FFmpeg engine against the engine conformance suite every engine plugin runs."""

from __future__ import annotations

import pytest

from proxx import Proxx
from proxx.plugin import find_tool
from proxx.testing import bundled_profiles_dir
from proxx.testing.conformance import EngineConformance


class TestFFmpegConformance(EngineConformance):
    engine = "ffmpeg"
    canonical_profile = "proxy_prores_proxy"

    def make_unavailable(self, app: Proxx, monkeypatch: pytest.MonkeyPatch) -> None:
        # The real cause: the configured ffmpeg binary is not there. find_tool caches its answer.
        monkeypatch.setenv("PROXX_FFMPEG", "/nonexistent/ffmpeg")
        find_tool.cache_clear()

    @pytest.fixture(autouse=True)
    def _fresh_tool_cache(self):
        yield
        find_tool.cache_clear()  # forget the missing binary once PROXX_FFMPEG is restored


class TestFFmpegH264Conformance(EngineConformance):
    """A second profile, given as a file: a scaled, long-GOP output with coded audio."""

    engine = "ffmpeg"
    canonical_profile = bundled_profiles_dir() / "canonical" / "proxy_h264_low.yaml"
