"""`proxx export-openjd` (a job template for OpenJD schedulers), `proxx run-spec FILE` (what its
tasks run: one JobSpec file, here, once) and `proxx sign-jobspec FILE` (a JobSpec signed for one
JobSpec inbox)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxx.cli.exits import OneIntent, amount
from proxx.names import safe

#: The commands `register` adds.
COMMANDS = ("export-openjd", "run-spec", "sign-jobspec")


def register(sub: Any, repository_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("export-openjd", help="write an Open Job Description job template (AWS Deadline Cloud)")
    p.add_argument("--profile", action=OneIntent, required=True, metavar="NAME", help="the intent to use")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="folder for the template and JobSpecs")
    p.add_argument("sources", nargs="+", metavar="SRC", help="source media files or folders (a card)")
    p.set_defaults(handler=cmd_export_openjd, profiles=[], bundled=None)

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

    p = sub.add_parser("sign-jobspec", help="sign a JobSpec file for one JobSpec inbox (with PROXX_INBOX_KEY)")
    p.add_argument("file", type=Path, metavar="FILE", help="the JobSpec JSON file")
    p.add_argument(
        "--inbox",
        required=True,
        metavar="NAME",
        help="the inbox it is for: its PROXX_INBOX_NAME, else its folder's path",
    )
    p.add_argument(
        "--hours", type=amount(0.01, 24 * 366), default=24.0, metavar="H", help="how long the signature holds (24)"
    )
    p.add_argument("--output", required=True, type=Path, metavar="OUT", help="the signed file to create")
    p.set_defaults(handler=cmd_sign_jobspec)


def cmd_export_openjd(args: argparse.Namespace) -> int:
    from proxx.app import Proxx
    from proxx.openjd import export_openjd

    proxx = Proxx.open(profiles=args.profiles, bundled=args.bundled)
    export = export_openjd(proxx, args.profile, args.sources, args.output)
    for item in export.skipped:
        print(f"Skipped: {safe(str(item.path))}: {safe(item.why)}", file=sys.stderr)
    for spec in export.specs:
        print(f"JobSpec {spec.job_id}: {safe(spec.clips[0].source)}")
    print(f"Template: {safe(str(export.template))}")
    return 0


def cmd_run_spec(args: argparse.Namespace) -> int:
    from proxx.app import Proxx
    from proxx.cli.jobs import run_and_report
    from proxx.errors import JobValidationError
    from proxx.jobspec.files import read_jobspec
    from proxx.jobspec.origin import check_origin
    from proxx.store import QUEUED

    if not args.digest:  # the file runs only as whole as proxx wrote it
        raise JobValidationError(
            "jobspec_unproven",
            f"JobSpec file '{args.file}' refused: proxx runs a JobSpec file only with the digest recorded "
            "when proxx created it (`--digest`, as the job template from `proxx export-openjd` gives it). "
            "Nothing was run.",
            {"path": str(args.file)},
        )
    proxx = Proxx.open()
    spec = read_jobspec(args.file, args.digest)  # checked as untrusted
    # A digest anyone can compute proves the file whole, not who wrote it: the JobSpec must be what
    # compiling its intent gives here now (class A otherwise), as a JobSpec from the inbox must.
    where = f"file '{args.file}'"
    check_origin(spec, proxx.current_repository(), proxx.engines, where, proxx.invalid_memory)
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


def cmd_sign_jobspec(args: argparse.Namespace) -> int:
    import os

    from proxx.errors import ConfigurationError
    from proxx.jobspec.signing import INBOX, key_from_env, seal
    from proxx.jobspec.untrusted import parse_bounded, read_bounded, structure_untrusted

    key = key_from_env("PROXX_INBOX_KEY")
    if key is None:
        raise ConfigurationError("inbox_key_missing", "Set PROXX_INBOX_KEY to the inbox's key to sign for it.")
    where = f"file '{args.file}'"
    spec = structure_untrusted(parse_bounded(read_bounded(args.file), where), where)
    signed = seal(INBOX, spec.job_id, args.inbox, spec.to_json().encode("utf-8"), key, args.hours * 3600)
    fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)  # never over a file
    with os.fdopen(fd, "wb") as handle:
        handle.write(signed)
    print(f"Signed JobSpec {spec.job_id} for inbox '{args.inbox}': {args.output}")
    return 0
