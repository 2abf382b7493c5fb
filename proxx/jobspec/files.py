"""JobSpec JSON files: read one, with the checks that make it safe to run (bounded, schema, the
untrusted-JobSpec rules of `proxx.jobspec.untrusted`, and its digest)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from proxx.compile.profiles import Registry
from proxx.errors import JobValidationError
from proxx.jobspec.model import JobSpec
from proxx.jobspec.untrusted import check_spec, parse_bounded, read_bounded, structure_untrusted
from proxx.roots import Roots


def read_jobspec(
    path: Path, digest: str | None = None, registry: Registry | None = None, roots: Roots | None = None
) -> JobSpec:
    """The JobSpec in `path`, checked as untrusted (against `registry` and `roots` when given) and,
    when `digest` is given, exactly the JobSpec that digest was made of. Raises a class B
    `JobValidationError` otherwise."""
    where = f"file '{path}'"
    data = read_bounded(path)
    # The digest is checked over the bytes as read, before anything parses them: a file that is not
    # exactly the JobSpec it names never reaches the JSON parser or the schema.
    if digest is not None and digest_of_bytes(data) != digest:
        raise _digest_mismatch(path, digest, digest_of_bytes(data))
    try:
        document = parse_bounded(data, where)
    except UnicodeDecodeError as error:
        raise JobValidationError(
            "invalid_jobspec", f"JobSpec {where} refused: it is not UTF-8 text ({error.reason}).", {"path": str(path)}
        ) from None
    spec = structure_untrusted(document, where)
    if digest is not None and spec.digest != digest:  # the bytes match but are not canonical JSON
        raise _digest_mismatch(path, digest, spec.digest)
    check_spec(spec, where, registry, roots)
    return spec


def digest_of_bytes(data: bytes) -> str:
    """The digest a JobSpec file's bytes give (a JobSpec file holds exactly its canonical JSON)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _digest_mismatch(path: Path, expected: str, actual: str) -> JobValidationError:
    return JobValidationError(
        "JobSpec digest mismatch",
        f"JobSpec file '{path}' does not match its digest: it was altered after creation. "
        "Nothing was executed; create a new job.",
        {"path": str(path), "expected": expected, "actual": actual},
    )
