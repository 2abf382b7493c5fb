"""Exporters: named records that receive every finished job's JobSpec and result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from proxx.jobspec.model import JobSpec
from proxx.result import JobResult


@attrs.frozen
class Exporter:
    """An exporter, yielded by the `proxx_exporters` hook.

    Fields:
      name: the exporter's name, in the result's `exports` and in messages.
      export: `export(spec, result)`, called once for every finished job; it may return details (a
        JSON-able dict) to record in the result's `exports`.
      beside_outputs: the names of the files and folders the exporter writes in a job's output
        folder, beside the outputs (Fabric: "ascmhl", ".proxx"). Tools that check what an engine
        wrote there (the conformance suite) leave these out.
    """

    name: str
    export: Callable[[JobSpec, JobResult], dict[str, Any] | None]
    beside_outputs: tuple[str, ...] = ()
