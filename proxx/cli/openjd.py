"""`proxx export-openjd` (a job template for OpenJD schedulers) and `proxx run-spec FILE` (what its
tasks run: one JobSpec file, here, once)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxx.cli.exits import OneIntent


def register(sub: Any, repository_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("export-openjd", help="write an Open Job Description job template (AWS Deadline Cloud)")
    repository_options(p)
    p.add_argument("--profile", action=OneIntent, required=True, metavar="NAME", help="the intent to use")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="folder for the template and JobSpecs")
    p.add_argument("sources", nargs="+", metavar="SRC", help="source media files")
    p.set_defaults(handler=cmd_export_openjd)

    p = sub.add_parser("run-spec", help="run one JobSpec JSON file here (what OpenJD tasks run)")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "--digest",
        metavar="SHA256",
        help="the digest proxx recorded in the job template when it created the JobSpec (required: "
        "the file runs only if it is exactly that JobSpec)",
    )
    p.add_argument("--json", action="store_true", help="integrator output")
    p.set_defaults(handler=cmd_run_spec, profiles=[], bundled=None)


def cmd_export_openjd(args: argparse.Namespace) -> int:
    from proxx.app import Proxx
    from proxx.openjd import export_openjd

    proxx = Proxx.open(profiles=args.profiles, bundled=args.bundled)
    export = export_openjd(proxx, args.profile, args.sources, args.output)
    for spec in export.specs:
        print(f"JobSpec {spec.job_id}: {spec.clips[0].source}")
    print(f"Template: {export.template}")
    return 0


def cmd_run_spec(args: argparse.Namespace) -> int:
    from proxx.app import Proxx
    from proxx.cli.jobs import run_and_report
    from proxx.errors import JobValidationError
    from proxx.jobspec.files import read_jobspec
    from proxx.store import QUEUED

    if not args.digest:  # a hand-written file never runs: no compilation made it
        raise JobValidationError(
            "jobspec_unproven",
            f"JobSpec file '{args.file}' refused: proxx runs a JobSpec file only with the digest recorded "
            "when proxx created it (`--digest`, as the job template from `proxx export-openjd` gives it). "
            "Nothing was run.",
            {"path": str(args.file)},
        )
    proxx = Proxx.open()
    spec = read_jobspec(args.file, args.digest, proxx.repository.registry)  # checked as untrusted
    try:
        row = proxx.store.job(spec.job_id)
    except KeyError:
        proxx.store.add(spec)
    else:
        # A JobSpec runs once: a second delivery of the same task never runs it again.
        if (
            row.state != QUEUED
            or spec.job_id in proxx.store.dispatched()
            or proxx.store.stored_digest(spec.job_id) != spec.digest
        ):
            raise JobValidationError(
                "already_run",
                f"Job {spec.job_id} is already {row.state} on this host; a JobSpec runs once. "
                "Retry it to create a new job.",
                {"job_id": spec.job_id, "state": row.state},
            )
    return run_and_report(proxx, spec.job_id, args.json)
