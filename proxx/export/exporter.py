"""Exporters: named records that receive every finished job's JobSpec and result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from proxx.jobspec.model import JobSpec
from proxx.result import JobResult


@attrs.frozen
class Exporter:
    """`export(spec, result)` may return details (a dict) to record in the result's `exports`."""

    name: str
    export: Callable[[JobSpec, JobResult], dict[str, Any] | None]
