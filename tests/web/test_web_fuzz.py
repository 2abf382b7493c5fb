"""Schemathesis fuzzes every operation of /openapi.json (operator and integrator, Fabric included
through a real in-memory index on the integration point): no 5xx, every status, content type and
body as documented. Bounded: a few examples per operation, the whole run well under a minute."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web_helpers import ARTIFACTS, create, run

from proxx.plugin import WebLookup
from proxx.web.app import create_app
from proxx.web.service import WebService

MAX_EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _lookup(fingerprint: str) -> Mapping[str, Any] | None:
    return {"fingerprint": fingerprint, "job_id": "job-1"} if fingerprint.startswith("fp") else None


def _fuzz(strategy: Any, label: str, cases: dict[str, int]) -> None:
    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def fuzz(case: Any) -> None:
        cases[label] += 1
        case.call_and_validate(checks=CHECKS)

    fuzz()


def test_api_conforms_to_its_openapi_document(service: WebService, media: Path) -> None:
    service.lookups = {"fabric": WebLookup("fabric", _lookup)}  # an in-memory index, for 200s as well as 404s
    app = create_app(service)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    jobs = [create(TestClient(app), "media/day1/A001_C001.mov"), create(TestClient(app), "media/day1/broken.mov")]
    for job_id in jobs:
        run(service, job_id)
    cases: dict[str, int] = {}
    schema_operations: set[str] = set()
    started, cpu_started = time.monotonic(), time.process_time()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        schema_operations.add(label)
        cases[label] = 0

        _fuzz(operation.as_strategy(), label, cases)
        # Invalid requests too (wrong types, out-of-range values): refused as documented problems.
        negative = f"{label} (invalid)"
        cases[negative] = 0
        try:
            _fuzz(operation.as_strategy(GenerationMode.NEGATIVE), negative, cases)
        except Unsatisfiable:
            del cases[negative]  # nothing to get wrong: the operation takes no input
        # Random ids never name a real job: every job operation also answers for real ones.
        for job_id in jobs if "{job_id}" in operation.path else ():
            operation.Case(path_parameters={"job_id": job_id}).call_and_validate(checks=CHECKS)
            cases[label] += 1
    body = {"intent": "Review H.264", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/out"}
    creation = schema["/api/jobs"]["POST"]
    creation.Case(body=body, media_type="application/json").call_and_validate(checks=CHECKS)
    cases["POST /api/jobs"] += 1
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    total = sum(cases.values())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = (
        f"schemathesis: {total} cases, {len(schema_operations)} operations ({len(cases)} valid/invalid runs), {elapsed:.1f} s\n"
        + "".join(f"  {count:3d}  {label}\n" for label, count in sorted(cases.items()))
    )
    (ARTIFACTS / "fuzz.txt").write_text(report, encoding="utf-8")
    print("\n" + report)
    assert len(cases) >= 10 and all(cases.values())
    # The budget is this process's CPU (the API runs in it): wall time says more of the machine's load.
    assert cpu < 60
