"""The JobSpec: everything a job will do, decided at creation and never changed afterwards.

It snapshots the whole canonical profile, so execution never depends on later registry changes, and
decides the final output path of every source. Its digest is the sha256 of its canonical JSON (keys
sorted, no whitespace, UTF-8), stored beside it and checked before execution.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from proxx import vocabulary
from proxx.compile.compiler import Compiled
from proxx.compile.profiles import CanonicalProfile, Naming
from proxx.converter import converter
from proxx.errors import PreJobError
from proxx.jobspec.stamps import canonical_json as canonical_json  # defined apart for the store; found here too
from proxx.jobspec.stamps import digest_of as digest_of
from proxx.jobspec.stamps import iso_moment as iso_moment
from proxx.jobspec.stamps import utc_now as utc_now
from proxx.names import safe

JOBSPEC_VERSION = "1.0"


@attrs.frozen
class ClipSpec:
    """One source and the one output it gives.

    Fields:
      index: the clip's position in the job, from 0.
      source: the source file's absolute path.
      output: the final output path (the engine writes a partial path; proxx publishes here).
    """

    index: int
    source: str
    output: str
    folder: str = ""  # the source's sub-folder in the folder it came from (`proxx.jobspec.sources`), kept


# A clip without a sub-folder has none in its JSON: JobSpecs made before folders could be sources
# keep their exact JSON, and so their digest.
converter.register_unstructure_hook(
    ClipSpec, make_dict_unstructure_fn(ClipSpec, converter, folder=override(omit_if_default=True))
)


@attrs.frozen
class SourceFile:
    """A source file as a job is created with it: its path, and the sub-folder its output keeps."""

    path: Path
    folder: str = ""


@attrs.frozen
class Origin:
    """Which intent the operator chose (metadata only: the canonical id is authoritative).

    Fields:
      name: the intent's name ("HD Editorial LT").
      version: its user profile schema version ("1.1").
      type: always "user_profile".
      file: the profile file that defined the intent when the job was created ("" in older JobSpecs).
      digest: the sha256 of that file's content ("sha256:...").
      overrides: the file of the definition it deliberately replaced (`overrides: true`), or "".
    """

    name: str
    version: str
    type: str = "user_profile"
    file: str = ""
    digest: str = ""
    overrides: str = ""


# Origins recorded before the defining file was: their JSON, and so their JobSpec's digest, unchanged.
converter.register_unstructure_hook(
    Origin,
    make_dict_unstructure_fn(
        Origin,
        converter,
        file=override(omit_if_default=True),
        digest=override(omit_if_default=True),
        overrides=override(omit_if_default=True),
    ),
)


@attrs.frozen
class JobSpec:
    """The immutable record of one job: what to render, from which sources, where, and how.

    Stored once with its digest and never changed; every run, retry and result refers to it.

    Fields:
      jobspec_version: the JobSpec format's version ("1.0").
      job_id: "job-<UTC time>-<random>".
      created_at, selected_at: when the job was made and when its intent was chosen (UTC, ISO 8601).
      proxy_profile: the canonical id the intent compiled to (authoritative).
      proxy_profile_origin: the intent the operator chose (metadata only).
      canonical_profile: the full canonical profile, copied in so the job never depends on a file.
      engine: the engine that renders it (the canonical profile's `engine`).
      naming: how output names are made from source names.
      output_directory: the folder the outputs are published in.
      clips: one `ClipSpec` per source, in order.
      requires: versions of what the job was made with ({"proxx": ..., "<engine plugin>": ...}): a
        JobSpec that does not name proxx's is refused (class B), as one made with other versions is.
      retry_of: the job this one retries, or None.
      reuse: True when the job may copy an earlier verified output of the same fingerprint.
    """

    jobspec_version: str
    job_id: str
    created_at: str
    proxy_profile: str
    proxy_profile_origin: Origin
    selected_at: str
    canonical_profile: CanonicalProfile
    engine: str
    naming: Naming
    output_directory: str
    clips: tuple[ClipSpec, ...]
    requires: dict[str, str] = attrs.field(factory=dict)
    retry_of: str | None = None
    reuse: bool = False  # copy an already verified output of the same fingerprint if one exists

    def to_json(self) -> str:
        """Its canonical JSON (sorted keys, no spaces): the text its `digest` is the SHA-256 of."""
        return canonical_json(converter.unstructure(self))

    @property
    def digest(self) -> str:
        """The SHA-256 of `to_json()`, stored with it: a JobSpec altered since does not match it."""
        return digest_of(self.to_json())

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        """The JobSpec of a JSON text (`to_json`, a JobSpec file); nothing is checked but its shape."""
        return converter.structure(json.loads(text), cls)


def makes_the_same(spec: JobSpec, other: JobSpec) -> bool:
    """Whether two JobSpecs make their proxies alike: the same canonical profile (id and snapshot) and
    the same naming. A retry must make the clips it covers as its original made the others."""
    return (spec.proxy_profile, spec.canonical_profile, spec.naming) == (
        other.proxy_profile,
        other.canonical_profile,
        other.naming,
    )


def new_job_id() -> str:
    """Sortable by creation time, unique without coordination: job-20261125T130501Z-3f9a1c2b."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"job-{stamp}-{secrets.token_hex(4)}"


def output_path(source: Path, output_directory: Path, naming: Naming, container: str, folder: str = "") -> Path:
    """The intent's naming rule: <output folder>/[naming folder/][source's sub-folder/]<source base
    name><suffix>.<ext>; the sub-folder is the one a source from a folder keeps (A001/CLIP)."""
    parent = output_directory / naming.folder if naming.folder else output_directory
    if folder:
        parent = parent / folder
    return parent / f"{source.stem}{naming.suffix}{vocabulary.extension(container)}"


def _check_text(what: str, path: Path) -> None:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise PreJobError(
            "name_not_text",
            f"{what} '{safe(str(path))}' has a name that is not UTF-8 text; rename it. Nothing was created.",
            {"path": safe(str(path))},
        ) from None


def create_jobspec(
    compiled: Compiled,
    sources: Sequence[Path | SourceFile],
    output_directory: Path,
    selected_at: str,
    requires: dict[str, str],
    retry_of: str | None = None,
    reuse: bool = False,
) -> JobSpec:
    """Build the JobSpec of a successful compile. Paths become absolute; nothing else is checked here
    (that is validation's job, after the spec exists): a path that is not text (a byte that is not
    UTF-8) is refused in class A, as no JobSpec, store or page can hold it."""
    canonical = compiled.canonical
    naming = compiled.user_profile.naming
    out_dir = Path(os.path.abspath(Path(output_directory).expanduser()))
    given = [s if isinstance(s, SourceFile) else SourceFile(Path(s)) for s in sources]
    _check_text("Output folder", out_dir)
    for source in given:
        _check_text("Source", source.path)
    absolute = [(Path(os.path.abspath(s.path.expanduser())), s.folder) for s in given]
    clips = tuple(
        ClipSpec(index, str(src), str(output_path(src, out_dir, naming, canonical.container, folder)), folder)
        for index, (src, folder) in enumerate(absolute)
    )
    origin = compiled.origin
    definition = compiled.definition
    return JobSpec(
        jobspec_version=JOBSPEC_VERSION,
        job_id=new_job_id(),
        created_at=utc_now(),
        proxy_profile=canonical.id,
        proxy_profile_origin=Origin(
            name=origin["name"],
            version=origin["version"],
            file=definition.file if definition else "",
            digest=definition.digest if definition else "",
            overrides=definition.overrides if definition else "",
        ),
        selected_at=selected_at,
        canonical_profile=canonical,
        engine=canonical.engine,
        naming=naming,
        output_directory=str(out_dir),
        clips=clips,
        requires=requires,
        retry_of=retry_of,
        reuse=reuse,
    )
