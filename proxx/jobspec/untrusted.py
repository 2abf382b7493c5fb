"""A JobSpec that arrives from outside this machine's job store (a JobSpec inbox, a farm task, an
OpenJD task) is untrusted: its digest is an unkeyed sha256 anyone can recompute. Before it is stored
or run it must be, besides schema-valid:

* bounded: at most MAX_JOBSPEC_BYTES, nested at most MAX_DEPTH deep, read only from a regular file;
* consistent: `proxy_profile` and `engine` are its snapshot's, and the snapshot is exactly the
  registry's definition of that canonical id (a job whose id and definition disagree could poison
  Fabric's reuse index);
* named by the rule: every output is the path the intent's naming gives for its source inside
  `output_directory` (`proxx.jobspec.model.output_path`), all paths absolute and normalised;
* inside the roots of the entry point it came through: sources and the output folder, links resolved;
* not asking to reuse earlier outputs (`reuse`), unless signed by a farm submitter.

Every refusal is a class B `JobValidationError` naming the file or task and the rule.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from proxx.compile.profiles import Registry
from proxx.converter import converter
from proxx.errors import JobValidationError
from proxx.jobspec.model import JobSpec, output_path
from proxx.roots import Roots
from proxx.schemas import JOBSPEC, violations

MAX_JOBSPEC_BYTES = 1024 * 1024  # a JobSpec of 1,000 clips is ~400 KB
MAX_DEPTH = 16  # a JobSpec nests 4 deep
# One token at a time, each matched once: a string (its closing quote optional, so an unterminated
# one ends the scan instead of being retried from every later quote, which made the scan quadratic
# on a run of escaped quotes) or a bracket. No alternative can fail after consuming input.
_TOKENS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?|[\[\]{}]', re.DOTALL)  # possessive: nothing to backtrack


def _refused(where: str, reason: str, why: str) -> JobValidationError:
    return JobValidationError(reason, f"JobSpec {where} refused: {why}. Nothing was queued or run.", {"source": where})


def read_bounded(path: Path, max_bytes: int = MAX_JOBSPEC_BYTES) -> bytes:
    """The bytes of `path` if it is a regular file (not a link, a FIFO or a device) of at most
    `max_bytes`; never blocks and never reads more than `max_bytes` + 1."""
    return read_identified(path, max_bytes)[0]


FileIdentity = tuple[int, int, int, int, int]  # device, inode, size, modification and change times (ns)


def identity(info: os.stat_result) -> FileIdentity:
    """What changes when a file is replaced, written or renamed over: a file compared by it before
    and after is the same file with the same bytes."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def read_identified(path: Path, max_bytes: int = MAX_JOBSPEC_BYTES) -> tuple[bytes, FileIdentity]:
    """`read_bounded`, with the identity of the file as it was read (`identity`)."""
    where = f"file '{path}'"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        why = "it is a symbolic link" if error.errno == 40 else f"it cannot be opened ({error.strerror})"
        raise _refused(where, "jobspec_not_a_file", why) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refused(where, "jobspec_not_a_file", "it is not a regular file")
        if info.st_size > max_bytes:
            raise _refused(where, "jobspec_too_large", f"it is {info.st_size} bytes, more than {max_bytes}")
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        read = identity(os.fstat(fd))
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise _refused(where, "jobspec_too_large", f"it is more than {max_bytes} bytes")
    return data, read


def parse_bounded(data: bytes | str, where: str) -> Any:
    """JSON of at most MAX_JOBSPEC_BYTES nested at most MAX_DEPTH deep (checked before parsing)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if len(text) > MAX_JOBSPEC_BYTES:
        raise _refused(where, "jobspec_too_large", f"it is more than {MAX_JOBSPEC_BYTES} bytes")
    if nesting_exceeds(text, MAX_DEPTH):
        raise _refused(where, "jobspec_too_deep", f"it nests more than {MAX_DEPTH} levels deep")
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        repeated.extend(key for n, key in enumerate(keys) if key in keys[:n])
        return dict(items)

    try:
        document = json.loads(text, object_pairs_hook=pairs)
    except (json.JSONDecodeError, RecursionError) as error:
        raise _refused(where, "invalid_jobspec", f"it is not readable JSON: {error}") from None
    except ValueError:  # Python's own words named its setting: a number of more than 4,300 digits
        raise _refused(where, "invalid_jobspec", "it holds a number too long to be read") from None
    if repeated:  # "the last one wins" here, the first in another reader (or a signer's): one meaning only
        raise _refused(where, "jobspec_repeated_key", f"it gives '{repeated[0][:60]}' more than once")
    return document


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether JSON `text` nests arrays and objects more than `limit` deep, brackets inside strings
    not counted; one pass, linear in `text` whatever it holds."""
    depth = 0
    for token in _TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


def check_untrusted(
    document: Any, where: str, registry: Registry | None, roots: Roots | None, reuse: bool = False
) -> JobSpec:
    """The JobSpec in `document` if it passes every rule above, else a class B refusal. `registry`
    None: the snapshot is checked only for consistency (a farm worker has no profile repository; its
    tasks are signed instead). `roots` None: no roots for this entry point. `reuse`: whether it
    may ask to reuse earlier outputs (only a signed farm task may; an inbox or OpenJD file never)."""
    spec = structure_untrusted(document, where)
    check_spec(spec, where, registry, roots, reuse)
    return spec


def structure_untrusted(document: Any, where: str) -> JobSpec:
    """The JobSpec of a schema-valid `document`, else a class B refusal."""
    found = violations(document, JOBSPEC)
    if found:
        detail = "; ".join(v.message for v in found[:5])  # each names its field
        raise _refused(where, "invalid_jobspec", f"it is not a valid JobSpec: {detail}")
    return converter.structure(document, JobSpec)


def check_spec(spec: JobSpec, where: str, registry: Registry | None, roots: Roots | None, reuse: bool = False) -> None:
    """The rules above for a structured JobSpec: consistent, named by the rule, inside `roots`, and
    asking for reuse only where `reuse` allows it."""
    if spec.reuse and not reuse:
        raise _refused(
            where,
            "jobspec_reuse_refused",
            "it asks to reuse earlier outputs, which only an operator's own job may (an earlier output is "
            "another job's file)",
        )
    profile = spec.canonical_profile
    if spec.proxy_profile != profile.id or spec.engine != profile.engine:
        raise _refused(
            where,
            "jobspec_profile_mismatch",
            f"its canonical id '{spec.proxy_profile}' and engine '{spec.engine}' are not those of its profile "
            f"snapshot ('{profile.id}', '{profile.engine}')",
        )
    if registry is not None:
        known = registry.get(profile.id)
        if known is None or known != profile:
            what = "is not in this machine's canonical registry" if known is None else "differs from the registry's"
            raise _refused(
                where, "jobspec_profile_mismatch", f"its profile snapshot of canonical id '{profile.id}' {what}"
            )
    _check_paths(spec, where)
    check_roots(spec, roots, where)


def check_roots(
    spec: JobSpec, roots: Roots | None, where: str, roots_of: str = "the roots of this entry point"
) -> None:
    """Sources and the output folder of `spec` lie inside `roots` (links resolved); `roots_of` names
    them for the operator told otherwise."""
    if roots is None:
        return
    outside = [c.source for c in spec.clips if not roots.contains(c.source)]
    if not roots.contains(spec.output_directory):
        outside.append(spec.output_directory)
    if outside:
        raise _refused(
            where,
            "jobspec_outside_roots",
            f"'{outside[0]}' is not inside {roots_of} (links resolved)",
        )


def _normal(path: str) -> bool:
    return os.path.isabs(path) and os.path.normpath(path) == path and "\x00" not in path


def _relative(folder: str) -> bool:
    """A sub-folder a clip keeps: relative, normal, no '..', nothing but folder names."""
    parts = folder.split("/")
    return (
        not os.path.isabs(folder)
        and "\x00" not in folder
        and "\\" not in folder
        and all(part not in ("", ".", "..") for part in parts)
    )


def _check_paths(spec: JobSpec, where: str) -> None:
    if not _normal(spec.output_directory):
        raise _refused(
            where, "jobspec_bad_path", f"its output folder '{spec.output_directory}' is not an absolute, normal path"
        )
    out_dir = Path(spec.output_directory)
    for position, clip in enumerate(spec.clips):
        if clip.index != position:
            raise _refused(where, "jobspec_bad_clip", f"clip {position} has index {clip.index}")
        if not _normal(clip.source):
            raise _refused(where, "jobspec_bad_path", f"source '{clip.source}' is not an absolute, normal path")
        if clip.folder and not _relative(clip.folder):
            raise _refused(where, "jobspec_bad_path", f"sub-folder '{clip.folder}' is not a plain relative path")
        container = spec.canonical_profile.container
        expected = str(output_path(Path(clip.source), out_dir, spec.naming, container, clip.folder))
        if clip.output != expected:
            raise _refused(
                where,
                "jobspec_output_not_named_by_rule",
                f"output '{clip.output}' is not the name the intent's naming gives ('{expected}')",
            )
