"""The result JSON: one per job, for success and for every class B and C failure.

It lives at PROXX_HOME/jobs/<job id>/result.json beside the job's log, written atomically
(`proxx.home.write_text_atomically` of `JobResult.json_text()`: a temporary file, fsync, rename), and validates against
`schemas/job-result-1.0.schema.json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from proxx.clipstate import CLIP_COMPLETED as CLIP_COMPLETED
from proxx.clipstate import CLIP_FAILED as CLIP_FAILED
from proxx.clipstate import CLIP_NOT_RUN as CLIP_NOT_RUN
from proxx.clipstate import ClipState as ClipState
from proxx.converter import converter
from proxx.errors import FailureClass, ProxxError
from proxx.home import json_pieces
from proxx.home import write_json_atomically as write_json_atomically  # the farm plugin imports it from here
from proxx.jobspec.model import Origin
from proxx.verify.checks import Check
from proxx.verify.facts import ClipFacts

RESULT_VERSION = "1.0"


@attrs.frozen
class Failure:
    """Why a job or a clip failed, as the result JSON records it.

    Fields:
      failure_class: "A" (the intent did not compile), "B" (job validation: nothing ran) or "C"
        (execution: the engine failed or its output failed verification).
      reason: a stable machine name ("engine_failed", "timeout", "verification_failed", ...).
      message: what happened, for administrators.
      context: JSON-able details (the source, the exit code, ...).
    """

    failure_class: str  # "A", "B" or "C"
    reason: str
    message: str
    context: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def of(cls, error: ProxxError) -> Failure:
        """The record of a class A, B or C error, as the result JSON holds it."""
        assert error.failure_class is not None
        return cls(error.failure_class.value, error.reason, error.message, _jsonable(error.context))


@attrs.frozen
class Reused:
    """An earlier job's verified output that a clip copied instead of rendering.

    Fields:
      job_id: the job that made it.
      output: its path, still intact (the plugin answering `proxx_reuse_output` checked it).
    """

    job_id: str
    output: str
    how: str = "copied"  # always a copy now; results of earlier versions may say "linked"


@attrs.frozen
class ClipResult:
    """One clip's outcome in a job's result JSON.

    Fields:
      index: the clip's position in the JobSpec (`ClipSpec.index`).
      source, output: the source file and the final output path.
      state: "completed" (verified and published), "failed" or "not_run".
      partial_output: the partial file kept for debugging when the clip failed, else None.
      checks: every verification `Check` made on the output.
      failure: why the clip failed (class, reason, message), or None.
      seconds: how long the clip took; output_bytes: the published file's size.
      reused_from: the earlier job's output the clip copied instead of rendering, or None.
      facts: the published proxy's `ClipFacts` (timecodes, frame rate, frame count, duration,
        display size), for exporters; None unless completed.
      threads: the share of the cores the clip was given to render with while other clips of its
        job rendered beside it (`RenderTask.threads`, chosen by load); None when the engine chose
        (the clip rendered alone), or when nothing was rendered. The engine's `details` say what it
        did with it (an encoder whose bytes depend on its thread count never takes it).
    """

    index: int
    source: str
    output: str
    state: str  # completed | failed | not_run
    partial_output: str | None = None  # kept for debugging when the clip failed
    checks: tuple[Check, ...] = ()
    failure: Failure | None = None
    seconds: float | None = None
    output_bytes: int | None = None
    reused_from: Reused | None = None
    facts: ClipFacts | None = None
    threads: int | None = None


@attrs.frozen
class EngineRun:
    """The engine that ran a job, for the result JSON.

    Fields:
      name: the engine's name ("ffmpeg").
      version: what ran (`RenderReport.engine_version`).
      details: the engine's `RenderReport.details`.
    """

    name: str
    version: str = ""
    details: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ExportOutcome:
    """One exporter's outcome for one job, in the result's `exports`.

    Fields:
      exporter: the exporter's name.
      ok: False when its `export` raised (the job's own outcome never changes).
      error: the exception it raised, as text, or None.
      details: what its `export` returned (the files it wrote, say).
    """

    exporter: str
    ok: bool
    error: str | None = None
    details: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class JobResult:
    """A finished job's result JSON (`schemas/job-result-1.0.schema.json`), what exporters receive.

    Fields:
      result_version: the result format's version ("1.0").
      job_id, jobspec_digest: the job and the digest of its immutable JobSpec.
      proxy_profile: the canonical id rendered; proxy_profile_origin: the intent the operator chose.
      selected_at, created_at, started_at, finished_at: UTC timestamps (ISO 8601).
      state: "COMPLETED" or "FAILED".
      timings: seconds spent: "validation_seconds" and "total_seconds" (none for a job recovered
        after its worker was lost).
      engine: the engine's name, version and details (`RenderReport`).
      clips: one `ClipResult` per clip, in order.
      log_path: the job's log file.
      worker_id: the worker that ran it; retry_of: the job this one retries, or None.
      failure: the job's failure (class, reason, message, context), or None when COMPLETED.
      validation_problems: every class B problem found before anything ran.
      exports: each exporter's outcome, in name order (the order they run in; each exporter
        receives the result with the outcomes of those before it).
    """

    result_version: str
    job_id: str
    jobspec_digest: str
    proxy_profile: str
    proxy_profile_origin: Origin
    selected_at: str
    state: str  # COMPLETED | FAILED
    created_at: str
    started_at: str | None
    finished_at: str
    timings: dict[str, float]
    engine: EngineRun
    clips: tuple[ClipResult, ...]
    log_path: str
    worker_id: str | None = None
    retry_of: str | None = None
    failure: Failure | None = None
    validation_problems: tuple[Failure, ...] = ()
    exports: tuple[ExportOutcome, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result JSON's document (`schemas/job-result-1.0.schema.json`) as Python values."""
        document: dict[str, Any] = converter.unstructure(self)
        return document

    def json_text(self, indent: int | None = None) -> Iterator[str]:
        """`json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)`'s text in pieces, each clip
        unstructured and encoded only as it is written: the document of a
        1,000-clip job, its 22,000 checks as dicts and then as text, was held whole when written."""
        document = {
            field.name: (converter.unstructure(clip) for clip in self.clips)
            if field.name == "clips"
            else converter.unstructure(getattr(self, field.name))
            for field in attrs.fields(JobResult)
        }
        return json_pieces(document, indent)

    def outcome(self) -> tuple[int, int]:
        """(clips published, clips failed)."""
        states = [clip.state for clip in self.clips]
        return states.count(CLIP_COMPLETED), states.count(CLIP_FAILED)


def _jsonable(context: dict[str, Any]) -> dict[str, Any]:
    return {key: value if isinstance(value, (str, int, float, bool, type(None), list)) else str(value)
            for key, value in context.items()}  # fmt: skip


def unrecorded(result: JobResult, home: Path, error: Exception) -> JobResult:
    """`result` FAILED (class C, "result_not_written") when its result JSON cannot be written (a full
    PROXX_HOME; "result_refused" when the job's folder is not proxx's own, or not writable): the job's
    state row then carries the reason and what the job itself had come to."""
    why = getattr(error, "strerror", None) or str(error)
    outcome = "COMPLETED" if result.failure is None else f"FAILED ({result.failure.message})"
    done = sum(1 for clip in result.clips if clip.state == CLIP_COMPLETED)
    # A job folder someone else made (or one proxx may not write) is refused, not full: said so.
    refused = isinstance(error, PermissionError)
    message = (
        f"The job's result JSON could not be written in PROXX_HOME '{home}': {why}. The job itself had "
        f"{outcome}, with {done} verified output(s) published. "
        + ("Move the job's folder away (proxx writes only into its own)." if refused else "Free space in PROXX_HOME.")
    )
    failure = Failure(FailureClass.EXECUTION.value, "result_refused" if refused else "result_not_written", message)
    return attrs.evolve(result, state="FAILED", failure=failure)


def load_result(path: Path) -> JobResult:
    """The JobResult in a result JSON file (PROXX_HOME/jobs/<job id>/result.json, or a copy)."""
    return converter.structure(json.loads(path.read_text(encoding="utf-8")), JobResult)
