"""JobSpec JSON files: read one, with the checks that make it safe to run (schema, digest)."""

from __future__ import annotations

import json
from pathlib import Path

from proxx.converter import converter
from proxx.errors import JobValidationError
from proxx.jobspec.model import JobSpec
from proxx.schemas import JOBSPEC, violations


def read_jobspec(path: Path, digest: str | None = None) -> JobSpec:
    """The JobSpec in `path`, valid against the JobSpec schema and, when `digest` is given, exactly
    the JobSpec that digest was made of. Raises a class B `JobValidationError` otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise JobValidationError(
            "invalid_jobspec", f"JobSpec file '{path}' is not readable JSON: {error}", {"path": str(path)}
        ) from error
    found = violations(document, JOBSPEC)
    if found:
        where = "; ".join(f"{'/'.join(map(str, v.path)) or '(top)'}: {v.message}" for v in found)
        raise JobValidationError(
            "invalid_jobspec", f"JobSpec file '{path}' is not a valid JobSpec: {where}", {"path": str(path)}
        )
    spec = converter.structure(document, JobSpec)
    if digest is not None and spec.digest != digest:
        raise JobValidationError(
            "JobSpec digest mismatch",
            f"JobSpec file '{path}' does not match its digest: it was altered after creation. "
            "Nothing was executed; create a new job.",
            {"path": str(path), "expected": digest, "actual": spec.digest},
        )
    return spec
