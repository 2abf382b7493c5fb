"""Run one reserved job: check its digest, validate (class B: any problem fails the whole job before
it starts), render its clips with the engine its canonical profile names (`proxx.execute.clips`:
render, verify, publish), hand the result to the exporters, write the result JSON once (with their
outcomes), then finish the job in the store.

The result is on disk before the job's state is final, so a finished job always has its result. A
worker that dies before the state is final leaves a job that is found lost: its result is then
written from the clips' journal (`proxx.execute.recover`), replacing any this worker wrote. A job is
taken and run in one place (`proxx.execute.claim`), under its lease (`proxx.execute.lease`), which
the runner asks just before each publication whether the job is still its worker's.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

from proxx.errors import FailureClass, JobValidationError
from proxx.execute.cancel import BEFORE_START, CancelSignal
from proxx.execute.clips import Clips
from proxx.execute.engine import Engine
from proxx.execute.joblog import append
from proxx.execute.lease import Lease
from proxx.execute.progress import Progress, ProgressMeter
from proxx.execute.recover import Publications, remember_published
from proxx.export.exporter import Exporter, export_all
from proxx.folders import FolderRefused, job_folder
from proxx.home import write_text_atomically
from proxx.jobspec.model import JobSpec, utc_now
from proxx.jobspec.rerun import taken_by_proxy
from proxx.pluginmanager import PluginManager
from proxx.result import CLIP_NOT_RUN, RESULT_VERSION, ClipResult, EngineRun, Failure, JobResult, unrecorded
from proxx.settings import Settings, duration_of
from proxx.store import COMPLETED, FAILED, DigestMismatch, Store
from proxx.validate.checks import validate


def _same(result: JobResult) -> JobResult:
    return result


@attrs.define
class Runner:
    """Runs jobs claimed by `lease.worker_id`. `amend` adjusts every result before it is recorded
    (the render farm records the JobSpec's own digest and its path mapping)."""

    store: Store
    engines: dict[str, Engine]
    exporters: dict[str, Exporter]
    pm: PluginManager
    home: Path
    lease: Lease
    settings: Settings = attrs.field(factory=Settings.from_env)
    on_progress: Callable[[Progress], None] | None = None
    amend: Callable[[JobResult], JobResult] = _same
    stop: threading.Event | None = None  # set by this process's own cancel (SIGINT to `proxx run`)
    on_published: Callable[[ClipResult], None] | None = None  # each clip as it is published

    @property
    def worker_id(self) -> str:
        return self.lease.worker_id

    def job_dir(self, job_id: str) -> Path:
        """The job's folder, made as `proxx.folders.job_folder` makes it: one someone else made (or a
        link there) is refused, and every write into it then fails its own checks (nothing is
        written through it; the job ends without its result, saying why)."""
        path = self.home / "jobs" / job_id
        with contextlib.suppress(OSError, FolderRefused):  # PROXX_HOME full: the job still ends, with the reason
            job_folder(self.home, job_id)
        return path

    def run(self, job_id: str, problems: Sequence[JobValidationError] = ()) -> JobResult | None:
        """Run a job this worker reserved (`Store.reserve`): digest and validation (class B) while it
        is QUEUED, FAILED from there on any problem (`problems`: more the caller found); otherwise
        RUNNING, to COMPLETED or FAILED. None if it could not start (cancelled meanwhile)."""
        log_path = self.job_dir(job_id) / "job.log"
        self.store.set_paths(job_id, log_path=str(log_path))
        clock = time.monotonic()
        try:
            spec = self.store.spec(job_id)
        except DigestMismatch:
            return self._digest_mismatch(job_id, log_path)
        append(log_path, f"job {job_id} ({spec.proxy_profile_origin.name}) on worker {self.worker_id}")
        roots = self.store.roots(job_id)
        records = [name for exporter in self.exporters.values() for name in exporter.beside_outputs]
        validated = validate(spec, self.engines, self.pm, roots, records)
        timings = {"validation_seconds": round(time.monotonic() - clock, 3)}
        if problems or validated.problems:  # any problem of any clip: the whole job, nothing runs
            return self._refused(spec, (*problems, *validated.problems), timings, log_path)
        if not self.lease.start(job_id):
            return None  # taken or cancelled while it was checked
        started_at = utc_now()  # a job refused or cancelled before this never started: its result says None
        weights = [max(duration_of(validated.sources[c.index]), 0.001) for c in spec.clips]
        cancel = CancelSignal(self.store.path, job_id, self.stop)
        published = Publications(log_path.parent, self.on_published)
        clips = Clips(
            spec, self.engines[spec.engine], validated.sources, log_path, self.lease, roots, self.settings,
            ProgressMeter(self.store, job_id, weights, self.on_progress, [Path(c.source).name for c in spec.clips]),
            self.pm.reuse_output, self.pm.verify_output, cancel, on_published=published.record,
        )  # fmt: skip
        try:
            results, failure = clips.run()
        finally:
            cancel.close()
        timings["total_seconds"] = round(time.monotonic() - clock, 3)
        state = FAILED if failure else COMPLETED
        return self._finish(
            spec, state, started_at, timings, results, log_path, failure, clips.engine_run, read=published.read
        )

    def refuse(self, spec: JobSpec, problems: Sequence[JobValidationError]) -> JobResult:
        """End a job FAILED in class B before anything runs (from QUEUED, or from RUNNING for a job
        claimed before it was checked); the result JSON says why."""
        log_path = self.job_dir(spec.job_id) / "job.log"
        self.store.set_paths(spec.job_id, log_path=str(log_path))
        return self._refused(spec, problems, {}, log_path)

    def fail(self, spec: JobSpec, started_at: str | None, clips: tuple[ClipResult, ...], failure: Failure) -> JobResult:
        """End a job FAILED with `failure`, its clips as given (`proxx.execute.crash`: a job that raised)."""
        log_path = self.job_dir(spec.job_id) / "job.log"
        return self._finish(spec, FAILED, started_at, {}, clips, log_path, failure, EngineRun(spec.engine))

    def cancel_before_start(self, spec: JobSpec) -> JobResult:
        """End a job reserved for it that the operator cancelled before it started: FAILED, nothing run."""
        log_path = self.job_dir(spec.job_id) / "job.log"
        self.store.set_paths(spec.job_id, log_path=str(log_path))
        append(log_path, BEFORE_START.message)
        return self._finish(spec, FAILED, None, {}, _not_run(spec), log_path, BEFORE_START, EngineRun(spec.engine))

    # --- endings ------------------------------------------------------------------------------

    def _refused(
        self,
        spec: JobSpec,
        problems: Sequence[JobValidationError],
        timings: dict[str, float],
        log_path: Path,
    ) -> JobResult:
        problems = [taken_by_proxy(spec, problem, self.store.published) for problem in problems]
        for problem in problems:
            append(log_path, f"validation: {problem.message}")
        failure = Failure.of(problems[0])
        if len(problems) > 1:  # every problem, one a line: an operator fixes them all before a retry
            listed = "\n".join(f"- {p.message}" for p in problems)
            failure = attrs.evolve(failure, message=f"{len(problems)} problems, nothing was run:\n{listed}")
        elif len(spec.clips) > 1:  # one clip's problem: the card's other clips were not run either
            said = f"{failure.message.rstrip('. ')}. None of the job's {len(spec.clips)} clips was run."
            failure = attrs.evolve(failure, message=said)
        return self._finish(
            spec, FAILED, None, timings, _not_run(spec), log_path, failure, EngineRun(spec.engine),
            tuple(Failure.of(p) for p in problems),
        )  # fmt: skip

    def _digest_mismatch(self, job_id: str, log_path: Path) -> JobResult:
        error = JobValidationError(
            "JobSpec digest mismatch",
            f"JobSpec of job {job_id} does not match its digest: it was altered after creation. "
            "Nothing was executed; create a new job.",
            {"job_id": job_id},
        )
        append(log_path, error.message)
        spec, failure = self.store.spec_unchecked(job_id), Failure.of(error)
        return self._finish(spec, FAILED, None, {}, _not_run(spec), log_path, failure, EngineRun(spec.engine))

    def _finish(
        self,
        spec: JobSpec,
        state: str,
        started_at: str | None,
        timings: dict[str, float],
        clips: tuple[ClipResult, ...],
        log_path: Path,
        failure: Failure | None,
        engine: EngineRun,
        problems: tuple[Failure, ...] = (),
        read: Mapping[str, tuple[str, str]] | None = None,
    ) -> JobResult:
        """Export the result, record it (the JSON once, then the store's state) and remember what the
        job published (`read`: what its proxies and their sources were as each was published)."""
        result = self.amend(
            JobResult(
                result_version=RESULT_VERSION, job_id=spec.job_id, jobspec_digest=self.store.stored_digest(spec.job_id),
                proxy_profile=spec.proxy_profile, proxy_profile_origin=spec.proxy_profile_origin,
                selected_at=spec.selected_at, state=state, created_at=spec.created_at, started_at=started_at,
                finished_at=utc_now(), timings=timings, engine=engine, clips=clips, log_path=str(log_path),
                worker_id=self.worker_id, retry_of=spec.retry_of, failure=failure, validation_problems=problems,
            )
        )  # fmt: skip
        # A job another process ended meanwhile (a cancel, a lost lease) is not exported.
        if self.exporters and self.store.job(spec.job_id).state not in (COMPLETED, FAILED):
            outcomes = export_all(self.exporters.values(), spec, result, lambda text: append(log_path, text))
            result = attrs.evolve(result, exports=outcomes)
        result_path = self.job_dir(spec.job_id) / "result.json"
        try:
            self._write(spec, result, result_path)
        except (OSError, sqlite3.OperationalError) as error:  # PROXX_HOME full: the state row still says why
            result = unrecorded(result, self.home, error)
            print(f"proxx: job {spec.job_id}: {result.failure.message if result.failure else ''}", file=sys.stderr)
        try:
            self._end(result)
        except sqlite3.OperationalError:  # a full disk: the store's space reserve makes room for the ending
            if not self.store.release_reserve():
                raise
            self._end(result)
        remember_published(self.store, result, read)
        return result

    def _end(self, result: JobResult) -> None:
        failure = result.failure
        published, failed = result.outcome()
        self.store.finish(
            result.job_id,
            result.state,
            worker_id=self.worker_id,
            failure_class=FailureClass(failure.failure_class) if failure else None,
            reason=failure.reason if failure else None,
            message=failure.message if failure else None,
            published=published,
            failed_clips=failed,
        )

    def _write(self, spec: JobSpec, result: JobResult, result_path: Path) -> None:
        """Write the result JSON; on a full PROXX_HOME, give up the store's space reserve and retry once."""
        try:
            write_text_atomically(result_path, result.json_text())
        except OSError as error:
            if error.errno != errno.ENOSPC or not self.store.release_reserve():
                raise
            print(
                f"proxx: PROXX_HOME '{self.home}' is full; job {spec.job_id} was recorded in its reserved space. "
                "Free space before the next job.",
                file=sys.stderr,
            )
            self.job_dir(spec.job_id)
            write_text_atomically(result_path, result.json_text())
        self.store.set_paths(spec.job_id, result_path=str(result_path))


def _not_run(spec: JobSpec) -> tuple[ClipResult, ...]:
    return tuple(ClipResult(c.index, c.source, c.output, CLIP_NOT_RUN) for c in spec.clips)
