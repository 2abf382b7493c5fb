"""The kit for plugin authors: pytest fixtures (`proxx.testing.plugin`, loaded by pytest through the
`pytest11` entry point whenever proxx is installed), the engine conformance suite
(`proxx.testing.conformance`), independent ffprobe reads (`proxx.testing.media`), and the helpers
below, for tests only (plugins' own code imports `proxx.plugin`)."""

from __future__ import annotations

from typing import Any

from proxx import vocabulary
from proxx.cli import main
from proxx.compile.profiles import UserProfile
from proxx.converter import converter
from proxx.jobspec.model import create_jobspec
from proxx.media.samples import make_clip
from proxx.pluginmanager import build_plugin_manager
from proxx.resources import bundled_profiles_dir
from proxx.schemas import violations
from proxx.testing.kit import JobOutcome, intent_for, run_job, write_repository


def probed_codec(flavour: str) -> tuple[str, str | None]:
    """(ffprobe codec_name, ffprobe profile or None when not pinned) of a codec flavour, bundled
    or declared by a plugin: what verification expects of an output."""
    codec = vocabulary.codec(flavour)
    return codec.probe_codec, codec.probe_profile


def user_profile(name: str = "Test", version: str = "1.1", **constraints: Any) -> UserProfile:
    """A user profile (an intent) made from data, as a profile file with these constraints reads."""
    document = {"user_profile_version": version, "name": name, "constraints": constraints}
    return converter.structure(document, UserProfile)


__all__ = [
    "JobOutcome",
    "build_plugin_manager",
    "bundled_profiles_dir",
    "create_jobspec",
    "intent_for",
    "main",
    "make_clip",
    "probed_codec",
    "run_job",
    "user_profile",
    "violations",
    "write_repository",
]
