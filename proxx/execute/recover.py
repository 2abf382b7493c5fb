"""What a job that did not finish had published, so that its record says so and a retry makes only
what is missing.

A runner records each clip the moment its proxy is published, one JSON line a clip in the job's
folder (`proxx.execute.journal`, appended and synced), with what the published file is (device,
inode, size and modification time: `published_as`). When a job's worker is lost (`proxx run`
killed, a worker's host gone), its result is written from that journal, and a retry makes every
clip the journal does not show published. A clip counts as published only while the file under
its final name is still the very file the journal names: a file someone put there (a copy of
another clip's valid proxy, say) verifies as well as a proxy, so verification alone cannot tell it
from proxx's own. A clip missing from the journal (its worker died between publishing and recording)
is made again, and the file at its name is refused as existing (never replaced), saying so. Every
other clip is recorded failed with the job's failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import attrs

from proxx.converter import converter
from proxx.errors import CANCELLED, FailureClass
from proxx.execute.journal import JOURNAL, journal_lines
from proxx.folders import FolderRefused, open_append
from proxx.home import write_text_atomically
from proxx.jobspec.model import ClipSpec, JobSpec, utc_now
from proxx.jobspec.rerun import identities
from proxx.media.probe import ProbeError, probe
from proxx.result import (
    CLIP_COMPLETED,
    CLIP_FAILED,
    CLIP_NOT_RUN,
    RESULT_VERSION,
    ClipResult,
    EngineRun,
    Failure,
    JobResult,
)
from proxx.store import Store
from proxx.verify.checks import failed
from proxx.verify.facts import clip_facts
from proxx.verify.output import verify_clip

PUBLISHED_AS = "published_as"  # a journal line's record of the published file, beside the clip's result


def file_identity(path: str | Path) -> dict[str, int] | None:
    """What a copy of a file cannot share with it: device, inode, size and modification time of the
    regular file at `path` (never through a link); None for anything else."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return {"device": info.st_dev, "inode": info.st_ino, "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def record_published(job_dir: Path, clip: ClipResult) -> None:
    """Append `clip` (just published) to the job's journal, with the identity of the file now at its
    final name; a journal that cannot be written (a full PROXX_HOME) costs that clip: a recovery or a
    retry makes it again (and its publish refuses the name taken)."""
    document = {**converter.unstructure(clip), PUBLISHED_AS: file_identity(clip.output)}
    line = json.dumps(document, separators=(",", ":")) + "\n"
    with contextlib.suppress(OSError, FolderRefused):  # never through a link, nor into another user's file
        fd = open_append(job_dir / JOURNAL)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


@attrs.define
class Publications:
    """What a running job has published, recorded as each proxy is: a line in the job's journal (so a
    job killed half-way still says which of its proxies exist) and what the proxy and its source are
    (`proxx.jobspec.rerun.identities`, by proxy path), read in the clip's own thread while other clips
    render rather than all after the last, for `remember_published` at the job's end."""

    job_dir: Path
    on_published: Callable[[ClipResult], None] | None = None  # then each clip handed on, as it is published
    read: dict[str, tuple[str, str]] = attrs.field(factory=dict)

    def record(self, clip: ClipResult) -> None:
        record_published(self.job_dir, clip)
        found = identities(clip.source, clip.output)
        if found is not None:
            self.read[clip.output] = found
        if self.on_published is not None:
            self.on_published(clip)


@attrs.frozen
class Journaled:
    """A clip the job's journal records as published, and the identity its file had then (None in a
    journal of an earlier version, which recorded none: such a clip is made again)."""

    clip: ClipResult
    identity: dict[str, int] | None


def journal(job_dir: Path) -> dict[int, Journaled]:
    """The clips a job's journal records as published, by index (a torn last line is skipped)."""
    found: dict[int, Journaled] = {}
    for document in journal_lines(job_dir):
        if not isinstance(document, dict):
            continue
        identity = document.pop(PUBLISHED_AS, None)
        try:
            clip = converter.structure(document, ClipResult)
        except Exception:  # a line cut by the crash: that clip is made again
            continue
        valid = isinstance(identity, dict) and all(isinstance(identity.get(k), int) for k in _IDENTITY_KEYS)
        found[clip.index] = Journaled(clip, identity if valid else None)
    return found


_IDENTITY_KEYS = ("device", "inode", "size", "mtime_ns")


def still_published(entry: Journaled) -> bool:
    """The file under the clip's final name is the one its job published (same device, inode, size
    and modification time as the journal recorded), not one put there since."""
    return entry.identity is not None and file_identity(entry.clip.output) == entry.identity


def published_by_journal(
    spec: JobSpec, job_dir: Path, recorded: Mapping[int, ClipResult] | None = None
) -> dict[int, ClipResult]:
    """The clips of `spec` whose proxy the job's journal records as published and which are still
    that file, by index (as `recorded`, a result's clips, says when it has them; else as the
    journal does). Nothing else counts, however well it verifies: see the module's note."""
    found: dict[int, ClipResult] = {}
    entries = journal(job_dir)
    for clip in spec.clips:
        entry = entries.get(clip.index)
        if entry is not None and entry.clip.output == clip.output and still_published(entry):
            found[clip.index] = (recorded or {}).get(clip.index) or entry.clip
    return found


def verified_output(spec: JobSpec, clip: ClipSpec) -> ClipResult | None:
    """The clip as COMPLETED when a regular file under its final name passes verification against the
    JobSpec. It does not prove proxx made the file (a copy of another clip's valid proxy passes too):
    only the farm's mirror, which holds no journal, relies on it (`published`)."""
    output = Path(clip.output)
    try:
        info = os.lstat(output)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    try:
        source = probe(clip.source)
    except (ProbeError, OSError):
        source = None
    checks, probed = verify_clip(spec, clip, source, output, lambda *args: [])
    if failed(checks) or source is None or probed is None:
        return None
    return ClipResult(
        clip.index, clip.source, clip.output, CLIP_COMPLETED, None, tuple(checks), None, None, info.st_size, None,
        clip_facts(source, probed),
    )  # fmt: skip


def published(spec: JobSpec, recorded: Mapping[int, ClipResult]) -> dict[int, ClipResult]:
    """`recorded` and every other clip whose output is there and verifies: for the farm's mirror only,
    which holds no journal of the worker's (a job of this machine uses `published_by_journal`)."""
    found = {i: c for i, c in recorded.items() if c.state == CLIP_COMPLETED and os.path.lexists(c.output)}
    for clip in spec.clips:
        if clip.index not in found:
            verified = verified_output(spec, clip)
            if verified is not None:
                found[clip.index] = verified
    return found


def recovered_result(
    spec: JobSpec,
    digest: str,
    failure: Failure,
    clips: Mapping[int, ClipResult],
    started_at: str | None,
    worker_id: str | None,
    log_path: str,
) -> JobResult:
    """The result of a job that did not finish: `clips` published, every other clip failed with the
    job's `failure` (not run, when the job never started). COMPLETED when every clip was published
    (nothing was lost but the record). A refusal before anything ran (class B, a render farm
    worker's, not an operator's cancel) is its one validation problem, as a local refusal lists its own."""
    results = tuple(
        clips.get(c.index)
        or (
            ClipResult(c.index, c.source, c.output, CLIP_FAILED, failure=failure)
            if started_at
            else ClipResult(c.index, c.source, c.output, CLIP_NOT_RUN)
        )
        for c in spec.clips
    )
    complete = all(r.state == CLIP_COMPLETED for r in results)
    refused = failure.failure_class == FailureClass.VALIDATION.value and failure.reason != CANCELLED
    return JobResult(
        result_version=RESULT_VERSION, job_id=spec.job_id, jobspec_digest=digest,
        proxy_profile=spec.proxy_profile, proxy_profile_origin=spec.proxy_profile_origin,
        selected_at=spec.selected_at, state="COMPLETED" if complete else "FAILED", created_at=spec.created_at,
        started_at=started_at or spec.created_at, finished_at=utc_now(), timings={}, engine=EngineRun(spec.engine),
        clips=results, log_path=log_path, worker_id=worker_id, retry_of=spec.retry_of,
        failure=None if complete else failure,
        validation_problems=(failure,) if refused and not complete else (),
    )  # fmt: skip


def write_recovered(job_dir: Path, result: JobResult) -> Path | None:
    """Write a recovered result beside the job's log; None when it cannot be written."""
    path = job_dir / "result.json"
    try:
        write_text_atomically(path, result.json_text())
    except OSError:
        return None
    return path


def remember_published(store: Store, result: JobResult, read: Mapping[str, tuple[str, str]] | None = None) -> None:
    """Record each proxy the job published, so that a re-run of its sources into the same output
    folder leaves them out (`proxx.jobspec.rerun`); `read`: the (source, proxy) identities read as
    each was published, by proxy path (`proxx.jobspec.rerun.identities`). Nothing here can fail the
    job: a proxy not recorded is only proxied again (or refused as existing) by a later re-run."""
    published = [(c.source, c.output) for c in result.clips if c.state == CLIP_COMPLETED]
    with contextlib.suppress(sqlite3.Error):
        store.remember_published(result.job_id, result.proxy_profile, published, read)


def recover_lost(store: Store, home: Path, job_ids: Iterable[str]) -> list[JobResult]:
    """Write the result of each job just declared lost (`Store.reap_lost`) from its journal and its
    verified outputs, and count its published proxies in the store. The store's state decides: a
    result the worker wrote before it died, its ending never recorded, is replaced, so that the
    result says what the store says (FAILED, and which proxies were published)."""
    results = []
    for job_id in job_ids:
        row = store.job(job_id)
        spec = store.spec_unchecked(job_id)
        job_dir = Path(row.log_path).parent if row.log_path else home / "jobs" / job_id
        failure = Failure(row.failure_class or "C", row.reason or "worker lost", row.message or "")
        clips = published_by_journal(spec, job_dir)
        result = recovered_result(
            spec, store.stored_digest(job_id), failure, clips, row.started_at, row.worker_id, str(job_dir / "job.log")
        )
        result = attrs.evolve(result, state="FAILED", failure=failure)  # the job's own state stays as declared
        path = write_recovered(job_dir, result)
        if path is not None:
            store.set_paths(job_id, result_path=str(path))
        store.set_outcome(job_id, *result.outcome())
        remember_published(store, result)
        results.append(result)
    return results
