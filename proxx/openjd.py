"""Open Job Description export: proxx jobs for AWS Deadline Cloud and other OpenJD schedulers.

`export_openjd` compiles the intent and creates one JobSpec per source, as `proxx submit` would, and
writes them beside a job template (`template.json`, specification jobtemplate-2023-09) whose one step
has a task per JobSpec: `proxx run-spec <file> --digest <digest>` on whichever host the scheduler
picks. The scheduler is then the executor: the JobSpecs are not queued for local workers, and each
host that runs one records it in its own job store. The template's `JobSpecDir` parameter is a PATH,
so the scheduler's own path mapping applies to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from proxx.app import Proxx
from proxx.errors import PreJobError
from proxx.jobspec.model import JobSpec, create_jobspec, utc_now
from proxx.result import write_json_atomically

SPECIFICATION = "jobtemplate-2023-09"
TEMPLATE_NAME = "template.json"


@attrs.frozen
class Export:
    template: Path
    specs: tuple[JobSpec, ...]


def export_openjd(proxx: Proxx, intent: str, sources: Sequence[str | Path], output: Path) -> Export:
    """Write the template and one JobSpec per source under `output` (class A errors write nothing)."""
    selected_at = utc_now()
    if not sources:
        raise PreJobError("no_sources", "A job needs at least one source file.")
    compiled = proxx.select(intent)
    requires = proxx.requirements(compiled.canonical.engine)
    # Proxies go where the intent's naming puts them, beside the template's folder by default.
    proxies = output / "proxies"
    specs = tuple(create_jobspec(compiled, [Path(s)], proxies, selected_at, requires) for s in sources)
    folder = output / "jobspecs"
    folder.mkdir(parents=True, exist_ok=True)
    proxies.mkdir(exist_ok=True)
    for spec in specs:
        (folder / f"{spec.job_id}.json").write_text(spec.to_json(), encoding="utf-8")
    template = output / TEMPLATE_NAME
    write_json_atomically(template, job_template(intent, specs, folder.resolve()))
    return Export(template, specs)


def job_template(intent: str, specs: Sequence[JobSpec], jobspec_dir: Path) -> dict[str, Any]:
    run = ["run-spec", "{{Param.JobSpecDir}}/{{Task.Param.JobId}}.json", "--digest", "{{Task.Param.Digest}}"]
    return {
        "specificationVersion": SPECIFICATION,
        "name": f"proxx: {intent} ({len(specs)} source(s))"[:128],
        "description": "Proxies made by proxx from immutable JobSpecs; each task runs one JobSpec, once.",
        "parameterDefinitions": [
            {
                "name": "JobSpecDir",
                "type": "PATH",
                "objectType": "DIRECTORY",
                "dataFlow": "IN",
                "default": str(jobspec_dir),
                "description": "The folder of the JobSpec files, as the worker hosts see it.",
            },
            {
                "name": "ProxxCommand",
                "type": "STRING",
                "default": "proxx",
                "description": "The proxx command on the worker hosts.",
            },
        ],
        "steps": [
            {
                "name": "Proxies",
                "parameterSpace": {
                    "taskParameterDefinitions": [
                        {"name": "JobId", "type": "STRING", "range": [s.job_id for s in specs]},
                        {"name": "Digest", "type": "STRING", "range": [s.digest for s in specs]},
                    ],
                    "combination": "(JobId, Digest)",
                },
                "script": {"actions": {"onRun": {"command": "{{Param.ProxxCommand}}", "args": run}}},
            }
        ],
    }
