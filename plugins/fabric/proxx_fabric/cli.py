"""`proxx fabric lookup | show | verify | export | ingest`.

Operator output names intents, files and jobs; canonical ids appear only in `--json` (integrator)
output, as everywhere in proxx. Exit codes: 2 for an unknown source, job or fingerprint (as `proxx
jobs show`); 5 when `verify` finds a recorded proxy missing or modified (an output failed
verification) or `ingest` could not read a result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxx.plugin import safe  # names from cards and result files, shown on one line, never driving a terminal

EXIT_USAGE = 2
EXIT_FAILED = 5


HELP = "what proxx knows about finished proxies: lookup, verify, export"


def configure(fabric: argparse.ArgumentParser) -> None:
    """`proxx fabric`'s subcommands, each naming its function in `fabric_handler`."""
    commands = fabric.add_subparsers(dest="fabric_command", required=True, metavar="COMMAND")

    p = commands.add_parser("lookup", help="has this source been proxied? by which intents, where")
    p.add_argument("source", metavar="SRC")
    p.add_argument("--json", action="store_true", help="integrator output (with canonical ids)")
    p.set_defaults(fabric_handler=cmd_lookup)

    p = commands.add_parser("show", help="the proxies of a fingerprint or of a job")
    p.add_argument("key", metavar="FINGERPRINT|JOB")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fabric_handler=cmd_show)

    p = commands.add_parser("verify", help="re-hash recorded proxies; non-zero exit if any is missing or modified")
    p.add_argument("target", nargs="?", metavar="DIR|JOB", help="an output folder or a job (default: everything)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fabric_handler=cmd_verify)

    p = commands.add_parser("export", help="the index as JSON lines or an OpenTimelineIO collection")
    p.add_argument("--format", choices=("jsonl", "otio"), default="jsonl")
    p.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of standard output")
    p.set_defaults(fabric_handler=cmd_export)

    p = commands.add_parser("ingest", help="add result JSON files (e.g. from another machine) to the index")
    p.add_argument("results", nargs="+", type=Path, metavar="RESULT.json")
    p.set_defaults(fabric_handler=cmd_ingest)


def run(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = args.fabric_handler
    return handler(args)


def _usage(message: str) -> int:
    print(f"proxx: {safe(message)}", file=sys.stderr)
    return EXIT_USAGE


def _index() -> Any:
    from proxx_fabric.index import Index

    return Index()


def _operator_line(record: Any) -> str:
    reused = f", copied from {record.reused_from}" if record.reused_from else ""
    shown = f"'{safe(record.intent)}' -> {safe(record.output_path)}"
    return f"  {shown}  (job {record.job_id}, {record.job_finished_at}{reused})"


def cmd_lookup(args: argparse.Namespace) -> int:
    from proxx.plugin import ProbeError, probe
    from proxx_fabric.fingerprint import fingerprint, intrinsics_of
    from proxx_fabric.hashing import xxh128_file

    source = Path(args.source)
    if not source.is_file():
        return _usage(f"Source file '{source}' does not exist.")
    content = xxh128_file(source)
    with _index() as index:
        found = {(r.job_id, r.clip_index): (r, "same bytes") for r in index.by_source_hash(content)}
        try:
            intrinsics = intrinsics_of(probe(str(source)))
        except ProbeError:
            intrinsics = None
        if intrinsics is not None:
            # A copy re-wrapped or re-written elsewhere still matches by fingerprint, per canonical id known.
            for canonical in index.canonical_ids():
                for r in index.by_fingerprint(fingerprint(canonical, intrinsics)):
                    found.setdefault((r.job_id, r.clip_index), (r, "same fingerprint"))
    matches = sorted(found.values(), key=lambda m: m[0].job_finished_at, reverse=True)
    if args.json:
        print(json.dumps({"source": str(source), "source_xxh128": content,
                          "proxies": [{**r.to_dict(), "match": how} for r, how in matches]}, indent=2))  # fmt: skip
        return 0
    if not matches:
        print(f"'{safe(str(source))}' has not been proxied (no record in the Fabric index).")
        return 0
    print(f"'{safe(str(source))}' has {len(matches)} proxy(ies):")
    for record, how in matches:
        print(f"{_operator_line(record)} [{how}]")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _index() as index:
        if args.key.startswith("fp"):
            records = index.by_fingerprint(args.key)
        else:
            jobs = index.job_ids(args.key)
            if len(jobs) > 1:
                return _usage(f"'{args.key}' matches {len(jobs)} jobs; give more of the id.")
            records = index.by_job(jobs[0]) if jobs else []
        checks = [index.last_check(r) for r in records]
    if not records:
        return _usage(f"Fabric knows no proxy for '{args.key}'.")
    if args.json:
        documents = [{**r.to_dict(), "last_check": c and {"checked_at": c[0], "outcome": c[1]}}
                     for r, c in zip(records, checks, strict=True)]  # fmt: skip
        print(json.dumps(documents, indent=2))
        return 0
    for r, check in zip(records, checks, strict=True):
        i = r.intrinsics
        audio = ", ".join(i.audio) or "none"
        print(f"Proxy     {safe(r.output_path)}  ({r.output_bytes} bytes, xxh128 {r.output_xxh128})")
        print(f"  Intent  '{safe(r.intent)}'   Job {r.job_id} clip {r.clip_index}, finished {r.job_finished_at}")
        print(f"  Source  {safe(r.source_path)}  (xxh128 {r.source_xxh128})")
        print(f"          {i.width}x{i.height} {i.video_codec} at {i.frame_rate} fps, {i.frames} frames, audio {audio}")
        print(f"  Print   {r.fingerprint}")
        passed = sum(1 for c in r.verification if c["passed"])
        reused = f"; copied from job {r.reused_from}" if r.reused_from else ""
        print(f"  Checks  {passed}/{len(r.verification)} passed{reused}")
        if check:
            print(f"  Hashed  {check[0]}: {check[1]}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from proxx_fabric.hashing import xxh128_file

    with _index() as index:
        if args.target is None:
            records = index.all()
        elif Path(args.target).is_dir():
            records = index.under(Path(os.path.abspath(args.target)))  # as JobSpecs record output paths
        else:
            jobs = index.job_ids(args.target)
            records = [r for job in jobs for r in index.by_job(job)]
            if not jobs:
                return _usage(f"'{args.target}' is neither a folder nor a job Fabric knows.")
        outcomes = []
        for record in records:
            path = Path(record.output_path)
            if not path.is_file():
                outcome = "missing"
            else:
                outcome = "ok" if xxh128_file(path) == record.output_xxh128 else "modified"
            index.record_check(record, outcome)
            outcomes.append((record, outcome))
    bad = [(r, o) for r, o in outcomes if o != "ok"]
    if args.json:
        print(json.dumps([{"job_id": r.job_id, "clip_index": r.clip_index, "output": r.output_path, "outcome": o}
                          for r, o in outcomes], indent=2))  # fmt: skip
    else:
        for record, outcome in bad:
            print(f"{outcome.upper():9} {safe(record.output_path)}  (job {record.job_id})")
        missing = sum(o == "missing" for _, o in bad)
        print(f"{len(outcomes)} proxy(ies) checked: {len(outcomes) - len(bad)} intact, "
              f"{missing} missing, {len(bad) - missing} modified.")  # fmt: skip
    return EXIT_FAILED if bad else 0


def cmd_export(args: argparse.Namespace) -> int:
    with _index() as index:
        records = index.all()
    if args.format == "jsonl":
        text = "".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in records)
    else:
        from proxx_fabric.otio import collection

        text = collection(records).to_json_string()
    if args.output:  # a new file, never an existing one, never through a link
        try:
            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            print(
                f"proxx fabric: '{safe(str(args.output))}' cannot be created ({error.strerror}): name a new file.",
                file=sys.stderr,
            )
            return EXIT_USAGE
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from proxx.plugin import ProxxError
    from proxx_fabric.ingest import ingest

    failures = 0
    with _index() as index:
        for path in args.results:
            try:
                done = ingest(path, index)
            except ProxxError as error:  # a source or proxy gone: said in words
                failures += 1
                print(f"FAILED    {safe(str(path))}: {safe(error.message)}", file=sys.stderr)
                continue
            except Exception as error:  # one unreadable result must not stop the others
                failures += 1
                print(f"FAILED    {safe(str(path))}: {type(error).__name__}: {safe(str(error))}", file=sys.stderr)
                continue
            how = "re-measured from the files" if done.measured else "from its export details"
            sealed = f"; sealed in {done.sealed}" if done.sealed else ""
            print(f"Ingested  {safe(str(path))}: job {done.job_id}, {done.proxies} proxy(ies) {how}{safe(sealed)}")
    return EXIT_FAILED if failures else 0
