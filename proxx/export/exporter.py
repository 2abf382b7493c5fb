"""Exporters: named records that receive every finished job's JobSpec and result. An exporter
that fails is recorded as failed in the result; it never changes the job's outcome."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from proxx.jobspec.model import JobSpec
from proxx.result import ExportOutcome, JobResult


@attrs.frozen
class Exporter:
    """`export(spec, result)` may return details (a dict) to record in the result's `exports`."""

    name: str
    export: Callable[[JobSpec, JobResult], dict[str, Any] | None]


def export_all(
    exporters: Iterable[Exporter], spec: JobSpec, result: JobResult, log: Callable[[str], None]
) -> tuple[ExportOutcome, ...]:
    """Hand the finished job to every exporter, in turn; `log` receives a failing one's traceback."""
    outcomes = []
    for exporter in exporters:
        try:
            details = exporter.export(spec, result) or {}
        except Exception as error:
            log(f"exporter {exporter.name} failed:\n{traceback.format_exc()}")
            outcomes.append(ExportOutcome(exporter.name, False, f"{type(error).__name__}: {error}"))
        else:
            outcomes.append(ExportOutcome(exporter.name, True, None, details))
    return tuple(outcomes)
