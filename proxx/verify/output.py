"""Verifying one rendered clip: probe its output (beside the next render when a job has several
clips), run the profile's checks and every plugin's, and say what failed in one message."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from proxx.errors import ExecutionError
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media.probe import MediaInfo, ProbeError, probe
from proxx.verify.checks import Check, failed, verify_output
from proxx.visibility import describe_failures

# What plugins add: the `proxx_verify_output` hook, one list of checks per plugin.
PluginChecks = Callable[[JobSpec, ClipSpec, MediaInfo | None, MediaInfo], Iterable[Iterable[Check] | None]]


class Prober:
    """Probes outputs: on a thread beside the next render when a job has several clips (the probe
    is most of a short clip's overhead), at once when it has one (no thread to start)."""

    def __init__(self, clips: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="proxx-probe") if clips > 1 else None

    def probe(self, path: Path) -> Future[MediaInfo]:
        if self._pool is not None:
            return self._pool.submit(probe, str(path))
        future: Future[MediaInfo] = Future()
        try:
            future.set_result(probe(str(path)))
        except ProbeError as error:
            future.set_exception(error)
        return future

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def verify_clip(
    spec: JobSpec,
    clip: ClipSpec,
    source: MediaInfo | None,
    partial: Path,
    probed: Future[MediaInfo],
    plugin_checks: PluginChecks,
) -> list[Check]:
    """Every check of the output at `partial`: it exists and is not empty, it reads, the canonical
    profile's promises (`verify_output`), and what plugins add."""
    size = partial.stat().st_size if partial.exists() else -1
    if size <= 0:
        return [Check("output_exists", "a non-empty file", "missing" if size < 0 else "0 bytes", False)]
    try:
        output = probed.result()
    except ProbeError as error:
        return [Check("output_readable", "a readable media file", str(error), False)]
    checks = [Check("output_exists", "a non-empty file", f"{size} bytes", True)]
    checks.extend(verify_output(spec.canonical_profile, source, output))
    for extra in plugin_checks(spec, clip, source, output):
        checks.extend(extra or ())
    return checks


def verification_error(checks: list[Check], partial: Path) -> ExecutionError | None:
    """The class C failure of a clip whose checks did not all pass."""
    if not failed(checks):
        return None
    return ExecutionError(
        "verification_failed",
        f"Output file generated but failed verification: {describe_failures(checks)}",
        {"output": str(partial)},
    )
