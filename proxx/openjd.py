"""Open Job Description export: proxx jobs for AWS Deadline Cloud and other OpenJD schedulers.

`export_openjd` compiles the intent and creates one JobSpec per source, as `proxx submit` would, and
writes them beside a job template (`template.json`, specification jobtemplate-2023-09) whose one step
has a task per JobSpec: `proxx run-spec <file> --digest <digest>` on whichever host the scheduler
picks. The scheduler is then the executor: the JobSpecs are not queued for local workers, and each
host that runs one records it in its own job store.

The template runs as written, with no parameter given. Its `JobSpecDir` parameter is a PATH whose
default is `jobspecs`, relative: OpenJD clients join a relative PATH default to the template's own
folder when they submit it, and refuse an absolute one ("Default paths must be relative"), so the
template and its `jobspecs/` folder can be moved or mounted elsewhere together, and the scheduler's
path mapping applies to the joined path. Before anything is written, the template is decoded and its
parameters preprocessed with openjd-model exactly as a submitting client does (the `farm` extra).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from proxx.app import Proxx
from proxx.errors import ConfigurationError, PreJobError
from proxx.folders import FolderRefused, link_new, own_folder, write_new
from proxx.jobspec.model import JobSpec, create_jobspec, utc_now
from proxx.jobspec.sources import Skipped, expand_sources
from proxx.validate.checks import writes_among_sources

SPECIFICATION = "jobtemplate-2023-09"
TEMPLATE_NAME = "template.json"
JOBSPECS_FOLDER = "jobspecs"  # beside the template; also the JobSpecDir default, relative to it


@attrs.frozen
class Export:
    template: Path
    specs: tuple[JobSpec, ...]
    skipped: tuple[Skipped, ...] = ()


def export_openjd(proxx: Proxx, intent: str, sources: Sequence[str | Path], output: Path) -> Export:
    """Write the template and one JobSpec per source file under `output`, a folder given standing for
    the video files beneath it as for `proxx run` (`Export.skipped`: the files of those folders left
    out). Class A errors, and a template that openjd-model refuses, write nothing."""
    selected_at = utc_now()
    if not sources:
        raise PreJobError("no_sources", "A job needs at least one source file.")
    compiled = proxx.select(intent)
    requires = proxx.requirements(compiled.canonical.engine)
    # A card's folder made one JobSpec whose source was the folder itself, which every host refused.
    expanded = expand_sources(sources, beside_outputs=proxx.beside_outputs)
    # Proxies go where the intent's naming puts them, beside the template's folder by default.
    proxies = output / "proxies"
    specs = tuple(create_jobspec(compiled, [s], proxies, selected_at, requires) for s in expanded.sources)
    # The card rule before anything is written: the template, `jobspecs/` and `proxies/` would all
    # land among the sources, and a camera card is never written to (its jobs would be refused anyway).
    on_a_card = writes_among_sources(output, [clip for spec in specs for clip in spec.clips])
    if on_a_card:
        raise PreJobError(
            on_a_card[0].reason, f"Nothing was exported into '{output}': {on_a_card[0].message}", on_a_card[0].context
        )
    document = job_template(intent, specs)
    check_template(document, output)
    output.mkdir(parents=True, exist_ok=True)
    # An export folder is often shared: its `jobspecs/` is proxx's own (no link followed, no one
    # else may write in it) and each JobSpec is a new file, never written through a planted name.
    try:
        folder = os.open(output, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        raise PreJobError(
            "export_folder_refused",
            f"Nothing was exported into '{output}': it cannot be opened ({error.strerror}; a link is never followed).",
            {"output": str(output)},
        ) from None
    template = output / TEMPLATE_NAME
    try:
        with own_folder(folder, JOBSPECS_FOLDER, output) as into:
            # The template first, never over an existing one (someone else's, or an earlier export's):
            # then nothing else is written when its name is taken.
            link_new(folder, TEMPLATE_NAME, json.dumps(document, ensure_ascii=False).encode("utf-8"))
            with contextlib.suppress(FileExistsError):
                os.mkdir(proxies.name, 0o777, dir_fd=folder)
            for spec in specs:
                write_new(into, f"{spec.job_id}.json", spec.to_json().encode("utf-8"))
    except FileExistsError:
        raise PreJobError(
            "export_template_exists",
            f"Nothing was exported into '{output}': '{template}' already exists, and proxx never replaces a file. "
            "Export into another folder, or move that file away.",
            {"output": str(output)},
        ) from None
    except FolderRefused as refused:
        raise PreJobError(
            "export_folder_refused", f"Nothing was exported into '{output}': {refused}.", {"output": str(output)}
        ) from None
    except OSError as error:  # a folder without hard links (some network shares): no way not to replace
        raise PreJobError(
            "export_folder_refused",
            f"Nothing was exported into '{output}': the template cannot be created there ({error.strerror}).",
            {"output": str(output)},
        ) from None
    finally:
        os.close(folder)
    return Export(template, specs, expanded.skipped)


def check_template(document: dict[str, Any], template_dir: Path) -> None:
    """Decode `document` and instantiate it with no parameter given, as an OpenJD client submitting
    it from `template_dir` would (defaults as written, PATH defaults joined to that folder)."""
    try:
        from openjd.model import DecodeValidationError, create_job, decode_job_template, preprocess_job_parameters
    except ImportError as missing:
        raise ConfigurationError(
            "openjd_model_missing",
            f"proxx export-openjd needs openjd-model (pip install 'proxx-media[openjd]'): {missing}",
        ) from None
    try:
        template = decode_job_template(template=document)
        values = preprocess_job_parameters(
            job_template=template,
            job_parameter_values={},
            job_template_dir=template_dir.absolute(),
            current_working_dir=Path.cwd(),
        )
        create_job(job_template=template, job_parameter_values=values)
    except (DecodeValidationError, ValueError) as refused:
        raise ConfigurationError(
            "openjd_template_refused",
            f"openjd-model refuses the job template proxx made; nothing was written: {refused}",
            {"template_dir": str(template_dir)},
        ) from None


def job_template(intent: str, specs: Sequence[JobSpec]) -> dict[str, Any]:
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
                "default": JOBSPECS_FOLDER,
                "description": "The folder of the JobSpec files; by default the one beside this template.",
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
