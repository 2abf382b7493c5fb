"""From a finished job to Fabric records: fingerprints and hashes of its verified proxies, the copy of
its result in the output folder, and the ASC MHL generation that seals them.

The exporter and `proxx fabric ingest` share these steps. Everything measured here also goes into the
exporter's `details` in the job's result (`exports`), so an ingest elsewhere needs neither the
sources nor the outputs.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import xxhash

from proxx.plugin import ClipResult, ClipState, ExecutionError, JobResult, ProbeError, probe
from proxx_fabric import PROXX_FOLDER
from proxx_fabric.fingerprint import FINGERPRINT_VERSION, Intrinsics, fingerprint, intrinsics_of
from proxx_fabric.folder import opened, own_folder, replace
from proxx_fabric.hashing import xxh128_file
from proxx_fabric.index import ProxyRecord
from proxx_fabric.mhl import HashedFile, add_generation, xml_safe

EXPORTER = "fabric"


def measure(result: JobResult, clip: ClipResult, source_hash: Callable[[str], str] = xxh128_file) -> ProxyRecord:
    """Probe the source (the job's own probe, remembered) and hash source and output (each file read
    once; an unchanged source not again, with `source_hash` from the index). A source or proxy that
    cannot be read again is a class C `ExecutionError` saying which, and what to do."""
    try:
        info = probe(clip.source)
        measured = {
            "source_xxh128": source_hash(clip.source),
            "source_bytes": os.path.getsize(clip.source),
            "source_timecode": info.timecode,
            "output_xxh128": xxh128_file(clip.output),
            "output_bytes": os.path.getsize(clip.output),
        }
    except (OSError, ProbeError) as error:
        raise unreadable(clip, error) from error
    intrinsics = intrinsics_of(info)
    return _record(result, clip, fingerprint(result.proxy_profile, intrinsics), intrinsics, measured)


def unreadable(clip: ClipResult, error: Exception) -> ExecutionError:
    """Why a verified clip could not be measured to be recorded: its source gone (the camera card
    removed, a share disconnected, between verification and export), its proxy moved away, or a file
    there that cannot be read now. Its proxy stays published; only Fabric's record of it is missing."""
    missing = "its record is missing from Fabric's index and from its folder's ASC MHL history"
    if not os.path.isfile(clip.source):
        return ExecutionError(
            "source_gone",
            f"Source '{clip.source}' was gone when its verified proxy '{clip.output}' was to be recorded (the "
            f"camera card removed, or its share disconnected): the proxy is published, but {missing}. Put the "
            "source back, then run `proxx fabric ingest` on the job's result.",
            {"source": clip.source, "output": clip.output},
        )
    if not os.path.isfile(clip.output):
        return ExecutionError(
            "output_gone",
            f"Proxy '{clip.output}' was gone when it was to be recorded (moved or removed after it was verified): "
            f"{missing}.",
            {"source": clip.source, "output": clip.output},
        )
    return ExecutionError(
        "unreadable",
        f"Source '{clip.source}' or its proxy '{clip.output}' could not be read again to be recorded ({error}): "
        f"the proxy is published, but {missing}. Run `proxx fabric ingest` on the job's result once they can.",
        {"source": clip.source, "output": clip.output},
    )


def completed(result: JobResult) -> list[ClipResult]:
    return [clip for clip in result.clips if clip.state == ClipState.COMPLETED]


def details_of(records: list[ProxyRecord]) -> dict[str, Any]:
    """What the exporter writes into the result's `exports` entry: the fingerprint inputs and hashes."""
    return {
        "fingerprint_version": FINGERPRINT_VERSION,
        "clips": [
            {
                "index": r.clip_index,
                "fingerprint": r.fingerprint,
                "intrinsics": r.intrinsics.to_dict(),
                "source_xxh128": r.source_xxh128,
                "source_bytes": r.source_bytes,
                "source_timecode": r.source_timecode,
                "output_xxh128": r.output_xxh128,
                "output_bytes": r.output_bytes,
            }
            for r in records
        ],
    }


def records_from_details(result: JobResult, details: dict[str, Any]) -> list[ProxyRecord]:
    """The records an earlier export measured, read back from its result (no file is touched)."""
    if details.get("fingerprint_version") != FINGERPRINT_VERSION:
        raise ValueError(f"fingerprint version {details.get('fingerprint_version')!r} is not {FINGERPRINT_VERSION}")
    by_index = {clip.index: clip for clip in result.clips}
    records = []
    for entry in details["clips"]:
        intrinsics = Intrinsics.from_dict(entry["intrinsics"])
        computed = fingerprint(result.proxy_profile, intrinsics)
        if computed != entry["fingerprint"]:  # the inputs and the stored value must agree
            raise ValueError(f"clip {entry['index']}: stored fingerprint does not match its inputs")
        measured = {key: entry[key] for key in ("source_xxh128", "source_bytes", "source_timecode")}
        measured |= {key: entry[key] for key in ("output_xxh128", "output_bytes")}
        records.append(_record(result, by_index[entry["index"]], computed, intrinsics, measured))
    return records


def _record(
    result: JobResult, clip: ClipResult, fp: str, intrinsics: Intrinsics, measured: dict[str, Any]
) -> ProxyRecord:
    return ProxyRecord(
        job_id=result.job_id,
        clip_index=clip.index,
        fingerprint=fp,
        fingerprint_version=FINGERPRINT_VERSION,
        canonical_profile=result.proxy_profile,
        intent=result.proxy_profile_origin.name,
        intrinsics=intrinsics,
        source_path=clip.source,
        output_path=clip.output,
        verification=verification_of(clip),
        reused_from=clip.reused_from.job_id if clip.reused_from else None,
        job_started_at=result.started_at,
        job_finished_at=result.finished_at,
        **measured,
    )


def verification_of(clip: ClipResult) -> tuple[dict[str, Any], ...]:
    """A clip's checks as its record holds them."""
    return tuple(attrs.asdict(check) for check in clip.checks)


def result_copy_path(output_directory: Path, job_id: str) -> Path:
    """Where the job's result is copied beside its proxies: <output folder>/.proxx/<job id>.result.json."""
    return output_directory / PROXX_FOLDER / f"{job_id}.result.json"


# How much of the result's copy is encoded and written at once (characters).
WRITTEN_AT_ONCE = 64 * 1024


class _HashedJSON:
    """A result's JSON text (indented), made, hashed and counted a piece at a time as it is written,
    each clip unstructured only when its turn comes (`JobResult.json_text`): the result of a
    1,000-clip card is megabytes, and held whole (its document, its text, its bytes) it was most of
    the job's peak memory."""

    def __init__(self, result: JobResult) -> None:
        self.result = result
        self.hash = xxhash.xxh3_128()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        batch: list[str] = []
        size = 0
        for piece in itertools.chain(self.result.json_text(indent=2), ["\n"]):
            batch.append(piece)
            size += len(piece)
            if size >= WRITTEN_AT_ONCE:  # by size: 256 pieces were 256 clips, 1.3 MB of text and its bytes
                yield self._counted("".join(batch))
                batch.clear()
                size = 0
        yield self._counted("".join(batch))

    def _counted(self, text: str) -> bytes:
        data = text.encode("utf-8")
        self.hash.update(data)
        self.size += len(data)
        return data


def seal(output_directory: Path, result: JobResult, records: list[ProxyRecord]) -> dict[str, Any]:
    """Copy the result into the output folder and add an ASC MHL generation with it and the proxies
    (every write through the output folder's descriptor, `proxx_fabric.folder`). A proxy whose name
    XML cannot hold is left out of the generation, and said so, rather than making the folder's
    history unreadable."""
    copy = result_copy_path(output_directory, result.job_id)
    document = _HashedJSON(result)
    with opened(output_directory) as out, own_folder(out, PROXX_FOLDER, output_directory) as own:
        replace(own, copy.name, document)
    sealable = [r for r in records if xml_safe(os.path.relpath(r.output_path, output_directory))]
    files = [HashedFile(r.output_path, r.output_bytes, r.output_xxh128) for r in sealable]
    files.append(HashedFile(str(copy), document.size, document.hash.hexdigest()))
    comment = f"proxx job {result.job_id} ({len(sealable)} proxy(ies))"
    sealed: dict[str, Any] = {
        "result_copy": str(copy),
        "ascmhl_generation": add_generation(output_directory, files, comment),
    }
    left_out = [r.output_path for r in records if r not in sealable]
    if left_out:
        sealed["not_sealed"] = {"outputs": left_out, "why": "a name ASC MHL (XML 1.0) cannot hold"}
    return sealed
