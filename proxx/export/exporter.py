"""Exporters: named records that receive every finished job's JobSpec and result. An exporter
that fails is recorded as failed in the result; it never changes the job's outcome."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from proxx.converter import converter
from proxx.errors import ProxxError
from proxx.jobspec.model import JobSpec
from proxx.result import ExportOutcome, JobResult


@attrs.frozen
class Exporter:
    """An exporter, yielded by the `proxx_exporters` hook.

    Fields:
      name: the exporter's name, in the result's `exports` and in messages.
      export: `export(spec, result)`, called once for every finished job; it may return details (a
        JSON-able dict) to record in the result's `exports`.
      beside_outputs: the names of the files and folders the exporter writes in a job's output
        folder, beside the outputs (Fabric: "ascmhl", ".proxx"): its records. They are never taken
        for sources (a folder given as a source, a watch folder, the web page's folders), a job
        whose output folder is or lies inside one is refused (class B, "output_in_records"), and
        tools that check what an engine wrote there (the conformance suite) leave them out.
    """

    name: str
    export: Callable[[JobSpec, JobResult], dict[str, Any] | None]
    beside_outputs: tuple[str, ...] = ()


def export_all(
    exporters: Iterable[Exporter], spec: JobSpec, result: JobResult, log: Callable[[str], None]
) -> tuple[ExportOutcome, ...]:
    """Hand the finished job to every exporter, one after the other in name order (the order
    `proxx_exporters` records are collected in); `log` receives a failing one's traceback. Each
    exporter receives the result with the outcomes of the exporters before it in `result.exports`
    (their details: the files they wrote, say), so a later one builds on an earlier one's work
    instead of doing it again."""
    outcomes: list[ExportOutcome] = []
    for exporter in sorted(exporters, key=lambda e: e.name):
        so_far = attrs.evolve(result, exports=(*result.exports, *outcomes))
        try:
            details = _recordable(exporter.export(spec, so_far) or {})
        except ProxxError as error:  # the exporter's own words, in its failure class
            log(f"exporter {exporter.name} failed:\n{traceback.format_exc()}")
            said = f"{error.failure_class.title}: {error.message}" if error.failure_class else error.message
            outcomes.append(ExportOutcome(exporter.name, False, said))
        except Exception as error:
            log(f"exporter {exporter.name} failed:\n{traceback.format_exc()}")
            outcomes.append(ExportOutcome(exporter.name, False, f"{type(error).__name__}: {error}"))
        else:
            outcomes.append(ExportOutcome(exporter.name, True, None, details))
    return tuple(outcomes)


class UnrecordableDetails(TypeError):
    """An exporter returned details the result JSON cannot hold (not a dict, or not JSON-able)."""


def _recordable(details: object) -> dict[str, Any]:
    """`details` as the result records them, checked here: details the result JSON cannot hold would
    otherwise fail the writing of the whole result, and with it a job whose proxies were published,
    where the exporter alone is at fault."""
    if not isinstance(details, Mapping):
        raise UnrecordableDetails(f"it returned a {type(details).__name__}, where it must return a dict or None")
    try:
        json.dumps(converter.unstructure(dict(details)), ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise UnrecordableDetails(
            f"it returned details that cannot be recorded in the job's result as JSON ({error})"
        ) from error
    return dict(details)
