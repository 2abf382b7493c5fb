"""Re-runs: a card run again into the same output folder proxies only what is missing.

When a job is created, a source whose proxy is already at its output path is left out of the
JobSpec (untouched: neither rendered again nor linked again) when that proxy is one a job of this
store published for the same canonical profile, from a source with the same content, and is still
intact. Anything else at a proxy's path stays in the job, and validation refuses it in class B
("Output path '...' already exists."): proxx never overwrites a file.

Content is told cheaply, since a card may hold hundreds of gigabytes: a file's size and the SHA-256
of its first and last MiB (a camera file's header and tail carry its timecode, duration and index,
so another take at the same name differs there); a proxy's modification time too, since proxx never
touches a proxy once published. Only regular files are read, never through a link.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import attrs

from proxx.compile.profiles import CanonicalProfile, Naming
from proxx.errors import JobValidationError
from proxx.jobspec.model import JobSpec, SourceFile, output_path
from proxx.media.files import separate_sound

SAMPLE_BYTES = 1024 * 1024
ALREADY_PROXIED = "already proxied: its verified proxy is in the output folder"


def output_key(path: str | Path) -> str:
    """A path as one case-insensitive volume (a camera card's exFAT, macOS, Windows) names one file:
    two names differing only in letter case, or in how an accented letter is composed ('é' as one
    character or as 'e' and its accent: macOS and its file sharing take both for one name), are one
    name, wherever the job runs."""
    return unicodedata.normalize("NFC", os.path.normcase(os.path.abspath(path)).casefold())


def recorded(published: Callable[[str], PublishedLookup | None], output: str | Path) -> PublishedLookup | None:
    """The record of the proxy a job published at `output`: under its `output_key`, or, for a name
    whose accents are written decomposed, under the key proxx recorded it by before keys were
    composed (the store keeps its records)."""
    found = published(output_key(output))
    if found is None and not unicodedata.is_normalized("NFC", str(output)):
        found = published(os.path.normcase(os.path.abspath(output)).casefold())
    return found


def content_identity(path: str | Path, with_mtime: bool = False) -> str | None:
    """A regular file's size and the SHA-256 of its first and last MiB (and its modification time
    with `with_mtime`); None for anything else (missing, a link, a FIFO, unreadable)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        digest = hashlib.sha256(os.pread(fd, SAMPLE_BYTES, 0))
        if st.st_size > SAMPLE_BYTES:
            digest.update(os.pread(fd, SAMPLE_BYTES, max(SAMPLE_BYTES, st.st_size - SAMPLE_BYTES)))
    except OSError:
        return None
    finally:
        os.close(fd)
    identity = f"{st.st_size}:{digest.hexdigest()}"
    return f"{identity}:{st.st_mtime_ns}" if with_mtime else identity


@attrs.frozen
class Proxied:
    """A source left out of a job: its verified proxy, which `job_id` published, is still intact."""

    source: Path
    output: Path
    job_id: str


class PublishedLookup(Protocol):
    """What `proxx.store.Store.published` answers (`proxx.store.Published`)."""

    @property
    def job_id(self) -> str: ...
    @property
    def proxy_profile(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def source_identity(self) -> str: ...
    @property
    def output_identity(self) -> str: ...


def source_identity(path: str | Path) -> str | None:
    """A source's `content_identity`, with a P2 clip's sound files' (`MediaInfo.sound_files`): a
    sound file copied again changes the clip, and a proxy recorded without them (silent, as proxx
    made P2 proxies before it read them) is not this clip's."""
    identities = [content_identity(path), *(content_identity(f) for f in separate_sound(Path(path)))]
    return None if None in identities else "+".join(i for i in identities if i is not None)


def leave_out_proxied(
    sources: Iterable[SourceFile],
    canonical: CanonicalProfile,
    naming: Naming,
    output_directory: Path,
    published: Callable[[str], PublishedLookup | None],
) -> tuple[list[SourceFile], list[Proxied]]:
    """Split `sources` into those the job still has to proxy and those already proxied."""
    out_dir = Path(os.path.abspath(output_directory))
    remaining: list[SourceFile] = []
    proxied: list[Proxied] = []
    for item in sources:
        source = Path(os.path.abspath(item.path.expanduser()))
        output = output_path(source, out_dir, naming, canonical.container, item.folder)
        done = _proxied(source, output, canonical, published) if os.path.lexists(output) else None
        if done is None:
            remaining.append(item)
        else:
            proxied.append(done)
    return remaining, proxied


def _proxied(
    source: Path, output: Path, canonical: CanonicalProfile, published: Callable[[str], PublishedLookup | None]
) -> Proxied | None:
    record = recorded(published, output)
    if record is None or record.proxy_profile != canonical.id:
        return None
    if content_identity(output, with_mtime=True) != record.output_identity:
        return None  # replaced, altered or truncated since: not the proxy proxx verified
    if source_identity(source) != record.source_identity:
        return None  # another take at the same name (a card reformatted and shot again)
    return Proxied(source, output, record.job_id)


def identities(source: str, output: str) -> tuple[str, str] | None:
    """(source, proxy) identities of a just-published proxy, as `leave_out_proxied` compares them."""
    of_source, of_output = source_identity(source), content_identity(output, with_mtime=True)
    return None if of_source is None or of_output is None else (of_source, of_output)


def being_made(
    spec: JobSpec, problems: Sequence[JobValidationError], in_progress: Mapping[str, tuple[str, str]]
) -> list[JobValidationError]:
    """`problems`, with one more for each output of `spec` that an earlier job still QUEUED or RUNNING
    makes (`in_progress`: `Store.outputs_in_progress`), which replaces its "already exists" (that job
    may have published it already): a job started twice on one card (two terminals, a form sent
    twice, a watch folder beside an operator) rendered every clip twice, and both jobs failed."""
    found: dict[str, JobValidationError] = {}
    for clip in spec.clips:
        making = in_progress.get(output_key(clip.output))
        if making is not None:
            job_id, state = making
            which = "running now" if state == "RUNNING" else "queued"
            found[clip.output] = JobValidationError(
                "output_being_made",
                f"Output path '{clip.output}' is being made by job {job_id}, {which}: two jobs never make one "
                "proxy. Once that job has ended, run the sources again: only what is missing is made.",
                {"output": clip.output, "job_id": job_id},
            )
    kept = [p for p in problems if not (p.reason == "output_exists" and p.context.get("output") in found)]
    return [*kept, *found.values()]


def taken_by_proxy(
    spec: JobSpec, problem: JobValidationError, published: Callable[[str], PublishedLookup | None]
) -> JobValidationError:
    """`problem`, when it is an output already there that a job of this store published (still intact,
    for the same profile), saying whose proxy it is: made from the same source file before that file
    changed (a copy completed after a cut one was proxied), or from another source of the same name.
    Any other problem, and any other file there, is said as it was."""
    clip = next((c for c in spec.clips if c.output == problem.context.get("output")), None)
    if problem.reason != "output_exists" or clip is None:
        return problem
    record = recorded(published, clip.output)
    if record is None or record.proxy_profile != spec.proxy_profile:
        return problem
    if content_identity(clip.output, with_mtime=True) != record.output_identity:
        return problem  # replaced or altered since: not the proxy that job published
    if record.source != clip.source:
        whose = f"'{record.source}', another source of the same name"
    elif source_identity(clip.source) != record.source_identity:
        whose = "this source file as it was then, and the file has changed since (a copy completed or made again)"
    else:
        return problem
    message = (
        f"{problem.message.removesuffix('.')}: it is the proxy job {record.job_id} made from {whose}. "
        "proxx never replaces a file: move that proxy away, then retry this job."
    )
    return JobValidationError(problem.reason, message, {**problem.context, "job_id": record.job_id})
