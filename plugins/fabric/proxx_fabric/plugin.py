"""The Fabric plugin: the `fabric` exporter, the reuse hook and `proxx fabric ...` commands."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from proxx.plugin import (
    ClipSpec,
    Command,
    ConfigurationError,
    Exporter,
    JobResult,
    JobSpec,
    MediaInfo,
    Reused,
    WebLookup,
    hookimpl,
)
from proxx_fabric import HISTORY_FOLDER, PROXX_FOLDER
from proxx_fabric.fingerprint import fingerprint, intrinsics_of
from proxx_fabric.hashing import xxh128_file
from proxx_fabric.index import FileHash, Index

PROXX_PLUGIN_API = "1.0"


# What any export that failed leaves, and what to do: its proxies stay published as they are.
_LATER = (
    "the job's proxies are published, but not in Fabric's index nor sealed in their folder's ASC MHL history. "
    "Run `proxx fabric ingest` on the job's result once that is fixed"
)


def export(spec: JobSpec, result: JobResult) -> dict[str, Any]:
    """Index every verified proxy of a finished job and seal them in ASC MHL: a FAILED job's too,
    so that the proxies a card's job did publish are never left outside the folder's history. What
    stops it (the index locked or its volume full, the output folder refused or full) is raised in
    words, which the job's result and `jobs show` keep; `proxx fabric ingest` fills the gap later."""
    import errno
    import sqlite3

    from proxx_fabric.folder import FolderRefused

    try:
        return _export(spec, result)
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            why = "Fabric's index was kept busy by another proxx process for too long (PROXX_FABRIC_DB_TIMEOUT)"
        elif "full" in str(error):
            why = "The volume holding Fabric's index (PROXX_HOME) is full"
        else:
            why = f"Fabric's index could not be written ({error})"
        raise ConfigurationError("fabric_index_unusable", f"{why}: {_LATER}.", {"error": str(error)}) from error
    except FolderRefused as refused:
        raise ConfigurationError("fabric_folder_refused", f"{refused}: {_LATER}.") from refused
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        message = f"The output volume of '{spec.output_directory}' is full: {_LATER} (free space there first)."
        raise ConfigurationError("fabric_volume_full", message, {"error": str(error)}) from error


def _export(spec: JobSpec, result: JobResult) -> dict[str, Any]:
    from proxx_fabric.record import completed, details_of, measure, seal, verification_of  # ascmhl: when used

    started = time.monotonic()
    hashed: list[FileHash] = []  # sources hashed for the first time: stored with the records, one commit
    clips = completed(result)
    with Index() as index:
        # Measured first (files read outside the index's write lock) and kept without their checks,
        # which only the index's rows hold, each made as its row is written: a 1,000-clip card's
        # 22,000 checks held here as dicts, then as the rows' JSON text, were its peak memory.
        records = [
            attrs.evolve(measure(result, clip, lambda path: index.source_hash(path, hashed)), verification=())
            for clip in clips
        ]
        index.record(
            (attrs.evolve(r, verification=verification_of(clip)) for r, clip in zip(records, clips, strict=True)),
            hashed,
        )
    details = details_of(records)
    details["output_directory"] = spec.output_directory
    if records:
        details |= seal(Path(spec.output_directory), result, records)
    details["seconds"] = round(time.monotonic() - started, 3)
    return details


@hookimpl
def proxx_exporters() -> Iterator[Exporter]:
    yield Exporter("fabric", export, beside_outputs=(HISTORY_FOLDER, PROXX_FOLDER))


@hookimpl
def proxx_reuse_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None) -> Reused | None:
    """The newest indexed output of the same canonical profile made from a source with exactly this
    clip's content (its xxh128, not only its shape: two clips of one camera share a fingerprint),
    whose bytes still hash as recorded. Where it lies is the asking job's to check (its roots)."""
    if source is None:
        return None
    wanted = fingerprint(spec.proxy_profile, intrinsics_of(source))
    with Index() as index:
        content = index.source_hash(clip.source)
        candidates = index.by_source_hash(content)
    for record in candidates:
        if record.canonical_profile != spec.proxy_profile or record.output_path == clip.output:
            continue
        if record.fingerprint != wanted or record.source_xxh128 != content:
            continue
        path = Path(record.output_path)
        if path.is_symlink() or not path.is_file() or path.stat().st_size != record.output_bytes:
            continue
        if xxh128_file(path) == record.output_xxh128:
            return Reused(record.job_id, record.output_path)
    return None


@hookimpl
def proxx_subcommands() -> Iterator[Command]:
    from proxx_fabric import cli  # argparse wiring only; each command imports what it needs when run

    yield Command("fabric", cli.HELP, cli.configure, cli.run)


def lookup(fingerprint: str) -> dict[str, Any] | None:
    """Fabric's record of a proxy fingerprint for integrators: its canonical id and every proxy."""
    with Index() as index:
        records = index.by_fingerprint(fingerprint)
    if not records:
        return None
    return {
        "fingerprint": fingerprint,
        "proxy_profile": records[0].canonical_profile,
        "proxies": [record.to_dict() for record in records],
    }


@hookimpl
def proxx_web_lookups() -> Iterator[WebLookup]:
    yield WebLookup("fabric", lookup, "a proxy fingerprint -> its canonical id and every indexed proxy")
