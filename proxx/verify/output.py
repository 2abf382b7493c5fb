"""Verifying one rendered clip: probe its output, run the profile's checks and every plugin's, and
say what failed in one message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from proxx.errors import ExecutionError
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media import decoder
from proxx.media.probe import MediaInfo, ProbeError, probe_afresh, probe_with_picture_colour
from proxx.verify.checks import Check, failed, verify_output
from proxx.verify.picture import picture_checks
from proxx.verify.sound import sound_checks
from proxx.visibility import verification_message

# What plugins add: the `proxx_verify_output` hook's checks.
PluginChecks = Callable[[JobSpec, ClipSpec, MediaInfo | None, MediaInfo], list[Check]]


def prepare_verification() -> None:
    """Ready what verification reads pictures and sound with while the clips render: the decoder
    process a first read would otherwise start after the render (0.1 s of a one-clip job)."""
    decoder.warm()


def verify_clip(
    spec: JobSpec,
    clip: ClipSpec,
    source: MediaInfo | None,
    partial: Path,
    plugin_checks: PluginChecks,
) -> tuple[list[Check], MediaInfo | None]:
    """Every check of the output at `partial`: it exists and is not empty, it reads, the canonical
    profile's promises (`verify_output`), and what plugins add; with the output's probe (None when
    it could not be read), from which the clip's facts are taken."""
    size = partial.stat().st_size if partial.exists() else -1
    if size <= 0:
        return [Check("output_exists", "a non-empty file", "missing" if size < 0 else "0 bytes", False)], None
    try:
        # The picture's own colour is checked against the source's: a RAW source (None) has no such check.
        # An output is read once, so its probe is not remembered.
        output, picture_colour = (
            probe_with_picture_colour(str(partial)) if source is not None else (probe_afresh(str(partial)), None)
        )
    except ProbeError as error:
        return [Check("output_readable", "a readable media file", str(error), False)], None
    checks = [Check("output_exists", "a non-empty file", f"{size} bytes", True)]
    checks.extend(verify_output(spec.canonical_profile, source, output, picture_colour))
    if source is not None:
        checks.extend(picture_checks(spec.canonical_profile, source, output))
        checks.extend(sound_checks(source, output))
    checks.extend(plugin_checks(spec, clip, source, output))
    return checks, output


def verification_error(checks: list[Check], partial: Path, clip: ClipSpec) -> ExecutionError | None:
    """The class C failure of a clip whose checks did not all pass."""
    if not failed(checks):
        return None
    return ExecutionError(
        "verification_failed", verification_message(Path(clip.source).name, checks), {"output": str(partial)}
    )
