"""Run one claimed job: check its digest, validate (class B), render each clip with the engine its
canonical profile names, verify, publish under the final name, write the result JSON, finish the job,
then export.

Clips render in order. A clip's own failure (its decode, its verification) fails that clip only: the
other clips still render and publish, and the job ends FAILED naming each failed clip. A job-wide
failure (the engine gone, the output disk full, a timeout, the job declared lost) stops the job at
once, the remaining clips recorded "not_run"; the reference stops at the first failed clip of any
kind, which costs an operator a whole card for one damaged file. `proxx jobs retry` later covers
exactly the clips without a verified output. The engine runs exactly once per clip; nothing is retried.

Pipelined: a clip's output is probed for verification while the next clip renders (the probe is
most of a short clip's overhead).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from proxx.errors import ExecutionError, FailureClass, JobValidationError, ProxxError
from proxx.execute.engine import Engine, RenderTask
from proxx.execute.publish import partial_path, publish, stage, staged_path, unstage
from proxx.export.exporter import Exporter
from proxx.jobspec.model import ClipSpec, JobSpec, utc_now
from proxx.media.probe import MediaInfo, ProbeError, probe
from proxx.result import (
    CLIP_COMPLETED,
    CLIP_FAILED,
    CLIP_NOT_RUN,
    RESULT_VERSION,
    ClipResult,
    EngineRun,
    ExportOutcome,
    Failure,
    JobResult,
    Reused,
    unrecorded,
    write_json_atomically,
)
from proxx.roots import Roots
from proxx.settings import Settings
from proxx.store import COMPLETED, FAILED, RUNNING, DigestMismatch, Store
from proxx.validate import trust
from proxx.validate.checks import validate
from proxx.validate.space import required_margin
from proxx.verify.checks import Check, describe_failures, failed, verify_output

log = logging.getLogger("proxx.execute")


@attrs.frozen
class Progress:
    job_id: str
    fraction: float
    eta_seconds: float | None
    clip_index: int
    clips: int


def link_or_copy(source: Path, destination: Path) -> None:
    """Hard-link `source` as `destination` where the file system allows it, else copy it."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)


class _Heartbeat:
    """Keeps the job's lease alive from a thread with its own database connection."""

    def __init__(self, store_path: Path, job_id: str, worker_id: str, lease: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat,
            args=(store_path, job_id, worker_id, lease),
            daemon=True,
            name=f"heartbeat-{job_id}",
        )

    def _beat(self, store_path: Path, job_id: str, worker_id: str, lease: float) -> None:
        store = Store(store_path)
        try:
            while not self._stop.wait(lease / 3):
                try:
                    store.heartbeat(job_id, worker_id, lease)
                except sqlite3.OperationalError:  # a full disk or a busy store: beat again next time
                    log.exception("heartbeat of job %s failed", job_id)
        finally:
            store.close()

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class _Prober:
    """Probes outputs for verification: beside the next render when a job has several clips, at
    once when it has one (no thread to start)."""

    def __init__(self, clips: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="proxx-probe") if clips > 1 else None

    def probe(self, path: Path) -> Future[MediaInfo]:
        if self._pool is not None:
            return self._pool.submit(probe, str(path))
        future: Future[MediaInfo] = Future()
        try:
            future.set_result(probe(str(path)))
        except ProbeError as error:
            future.set_exception(error)
        return future

    def __enter__(self) -> _Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@attrs.frozen
class _Rendered:
    """A clip whose output exists under its partial name, its probe under way."""

    clip: ClipSpec
    source: MediaInfo | None
    partial: Path
    run: EngineRun | None
    reused: Reused | None
    started: float
    report: Callable[[float], None]
    output: Future[MediaInfo]


@attrs.frozen
class _Failed:
    result: ClipResult
    run: EngineRun | None


class Runner:
    def __init__(
        self,
        store: Store,
        engines: dict[str, Engine],
        exporters: dict[str, Exporter],
        plugin_manager: Any,
        home: Path,
        worker_id: str,
        settings: Settings | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.store = store
        self.engines = engines
        self.exporters = exporters
        self.pm = plugin_manager
        self.home = home
        self.worker_id = worker_id
        self.settings = settings or Settings.from_env()
        self.on_progress = on_progress
        self.roots: Roots | None = None  # the running job's (`proxx.roots`)

    def still_ours(self, job_id: str) -> bool:
        """Whether this worker still holds `job_id`, asked just before each output is published: a
        worker declared lost meanwhile (its lease expired while it was stalled or cut off) never puts
        a file under a final name for a job that is already FAILED."""
        row = self.store.job(job_id)
        return row.state == RUNNING and row.worker_id == self.worker_id

    def job_dir(self, job_id: str) -> Path:
        path = self.home / "jobs" / job_id
        with contextlib.suppress(OSError):  # PROXX_HOME full: the job still ends, with the reason
            path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, job_id: str) -> JobResult:
        """Run a job this worker has claimed (it is RUNNING and ours) to COMPLETED or FAILED."""
        job_dir = self.job_dir(job_id)
        log_path = job_dir / "job.log"
        self.store.set_paths(job_id, log_path=str(log_path))
        started_at = utc_now()
        clock = time.monotonic()
        try:
            spec = self.store.spec(job_id)
        except DigestMismatch:
            return self._digest_mismatch(job_id, log_path, started_at)
        _log(log_path, f"job {job_id} ({spec.proxy_profile_origin.name}) on worker {self.worker_id}")
        self.roots = self.store.roots(job_id)
        with _Heartbeat(self.store.path, job_id, self.worker_id, self.settings.lease_seconds):
            validated = validate(spec, self.engines, self.pm, self.roots)
            timings = {"validation_seconds": round(time.monotonic() - clock, 3)}
            if not validated.ok:
                return self._validation_failed(spec, validated.problems, started_at, timings, log_path)
            engine = self.engines[spec.engine]
            clips, engine_run, failure = self._execute(spec, engine, validated.sources, log_path)
        timings["total_seconds"] = round(time.monotonic() - clock, 3)
        state = FAILED if failure else COMPLETED
        result = self._result(spec, state, started_at, timings, clips, log_path, failure, engine_run, ())
        return self._finish(spec, result, job_dir)

    def _validation_failed(
        self,
        spec: JobSpec,
        problems: tuple[JobValidationError, ...],
        started_at: str,
        timings: dict[str, float],
        log_path: Path,
    ) -> JobResult:
        for problem in problems:
            _log(log_path, f"validation: {problem.message}")
        failure = Failure.of(problems[0])
        if len(problems) > 1:
            failure = attrs.evolve(failure, message=f"{failure.message} (and {len(problems) - 1} more problem(s))")
        clips = tuple(ClipResult(c.index, c.source, c.output, CLIP_NOT_RUN) for c in spec.clips)
        all_problems = tuple(Failure.of(p) for p in problems)
        result = self._result(
            spec, FAILED, started_at, timings, clips, log_path, failure, EngineRun(spec.engine), all_problems
        )
        return self._finish(spec, result, self.job_dir(spec.job_id))

    # --- clips --------------------------------------------------------------------------------

    def _execute(
        self, spec: JobSpec, engine: Engine, sources: Mapping[int, MediaInfo | None], log_path: Path
    ) -> tuple[tuple[ClipResult, ...], EngineRun, Failure | None]:
        # Progress is weighted by duration, so a long clip counts for what it costs.
        weights = [max(_duration(sources[c.index]), 0.001) for c in spec.clips]
        total = sum(weights)
        done_weight = 0.0
        clock = time.monotonic()
        results: list[ClipResult] = []
        engine_run = EngineRun(engine.name)
        failure: Failure | None = None  # the first clip's failure
        stopping = False  # a job-wide failure happened: no further clip starts
        last_write = [0.0, 0.0]  # time and fraction of the last progress written

        pending: _Rendered | None = None  # the clip rendered last, its output being probed

        def record(clip_result: ClipResult) -> None:
            nonlocal failure, stopping
            results.append(clip_result)
            if clip_result.failure is not None:
                failure = failure or clip_result.failure
                stopping = stopping or self._stops_job(clip_result.failure, engine, spec)

        with _Prober(len(spec.clips)) as prober:
            for clip, weight in zip(spec.clips, weights, strict=True):
                if stopping:
                    results.append(ClipResult(clip.index, clip.source, clip.output, CLIP_NOT_RUN))
                    continue

                def report(
                    fraction: float, _clip: ClipSpec = clip, _base: float = done_weight, _w: float = weight
                ) -> None:
                    overall = (_base + _w * fraction) / total
                    now = time.monotonic()
                    if (now - last_write[0] < 0.25 and fraction < 1.0) or overall < last_write[1]:
                        return  # at most 4 writes a second; never backwards (a clip completes after the next started)
                    last_write[:] = [now, overall]
                    elapsed = now - clock
                    eta = elapsed / overall * (1 - overall) if overall > 0.01 else None
                    self.store.progress(spec.job_id, overall, eta, _clip.index)
                    if self.on_progress:
                        self.on_progress(Progress(spec.job_id, overall, eta, _clip.index, len(spec.clips)))

                step = self._produce(spec, engine, clip, sources[clip.index], log_path, report, prober)
                if step.run is not None:
                    engine_run = step.run
                if pending is not None:
                    record(self._complete(spec, pending, log_path))
                    pending = None
                if isinstance(step, _Rendered):
                    pending = step
                else:
                    record(step.result)
                done_weight += weight
            if pending is not None:
                record(self._complete(spec, pending, log_path))
        results.sort(key=lambda r: r.index)
        return tuple(results), engine_run, _job_failure(results, failure)

    def _stops_job(self, failure: Failure, engine: Engine, spec: JobSpec) -> bool:
        """Whether a clip's failure is the job's: no later clip could do better."""
        if failure.reason in JOB_WIDE_REASONS:
            return True
        if not engine.availability().available:
            return True
        return _disk_full(Path(spec.output_directory))

    def _produce(
        self,
        spec: JobSpec,
        engine: Engine,
        clip: ClipSpec,
        source: MediaInfo | None,
        log_path: Path,
        report: Callable[[float], None],
        prober: _Prober,
    ) -> _Rendered | _Failed:
        """Render `clip` (or copy a reusable output) under its partial name and start probing it."""
        partial = staged_path(clip, spec.job_id)
        started = time.monotonic()
        run: EngineRun | None = None
        reused = self._reusable(spec, clip, source, log_path) if spec.reuse else None
        try:
            trust.recheck_source(clip, source, self.roots)  # still the validated file, inside the roots
            stage(spec, clip, self.roots)  # a private folder for the engine (and the intent's subfolder)
            if reused is not None:
                link_or_copy(Path(reused.output), partial)
            else:
                run = self._render(spec, engine, clip, source, partial, log_path, report)
        except ProxxError as error:
            return _Failed(self._clip_failed(spec, clip, partial, error, [], started, reused, log_path), run)
        return _Rendered(clip, source, partial, run, reused, started, report, prober.probe(partial))

    def _complete(self, spec: JobSpec, rendered: _Rendered, log_path: Path) -> ClipResult:
        """Verify a rendered clip and publish it under its final name."""
        clip, partial = rendered.clip, rendered.partial
        checks: list[Check] = []
        try:
            checks = self._verify(spec, clip, rendered.source, partial, rendered.output)
            if failed(checks):
                raise ExecutionError(
                    "verification_failed",
                    f"Output file generated but failed verification: {describe_failures(checks)}",
                    {"output": str(partial)},
                )
            size = partial.stat().st_size
            if not self.still_ours(spec.job_id):
                raise ExecutionError(
                    "worker_lost",
                    f"The job was declared lost while it ran on {self.worker_id}; its verified output "
                    f"stays at '{partial_path(clip, spec.job_id)}' and was not published.",
                    {"output": str(partial_path(clip, spec.job_id)), "worker_id": self.worker_id},
                )
            publish(spec, clip, partial, self.roots)
        except ProxxError as error:
            return self._clip_failed(spec, clip, partial, error, checks, rendered.started, rendered.reused, log_path)
        rendered.report(1.0)
        return ClipResult(
            clip.index, clip.source, clip.output, CLIP_COMPLETED, None, tuple(checks), None,
            round(time.monotonic() - rendered.started, 3), size, rendered.reused,
        )  # fmt: skip

    def _clip_failed(
        self,
        spec: JobSpec,
        clip: ClipSpec,
        partial: Path,
        error: ProxxError,
        checks: list[Check],
        started: float,
        reused: Reused | None,
        log_path: Path,
    ) -> ClipResult:
        if error.failure_class is not FailureClass.EXECUTION:
            error = ExecutionError(error.reason, error.message, error.context)
        _log(log_path, f"clip {clip.index} failed: {error.message}")
        kept = unstage(spec, clip, partial, self.roots)
        return ClipResult(
            clip.index, clip.source, clip.output, CLIP_FAILED, kept, tuple(checks), Failure.of(error),
            round(time.monotonic() - started, 3), None, reused,
        )  # fmt: skip

    def _render(
        self,
        spec: JobSpec,
        engine: Engine,
        clip: ClipSpec,
        source: MediaInfo | None,
        partial: Path,
        log_path: Path,
        report: Callable[[float], None],
    ) -> EngineRun:
        task = RenderTask(spec, clip, source, str(partial), str(log_path), self.settings.timeout_for(source), report)
        try:
            rendered = engine.render(task)
        except ProxxError:
            raise
        except Exception as error:  # a plugin bug is still this job's execution failure
            _log(log_path, traceback.format_exc())
            raise ExecutionError(
                "engine_error",
                f"{engine.label} engine failed: {type(error).__name__}: {error}",
                {"source": clip.source},
            ) from error
        return EngineRun(engine.name, rendered.engine_version, rendered.details)

    def _reusable(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, log_path: Path) -> Reused | None:
        """An earlier verified output to copy (hook `proxx_reuse_output`); a plugin failing to
        answer only costs the render it would have saved."""
        try:
            reused: Reused | None = self.pm.hook.proxx_reuse_output(spec=spec, clip=clip, source=source)
        except Exception:
            _log(log_path, f"clip {clip.index}: reuse lookup failed, rendering:\n{traceback.format_exc()}")
            return None
        if reused is not None:
            _log(log_path, f"clip {clip.index}: reusing {reused.output} from job {reused.job_id}")
        return reused

    def _verify(
        self, spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, partial: Path, probed: Future[MediaInfo]
    ) -> list[Check]:
        size = partial.stat().st_size if partial.exists() else -1
        if size <= 0:
            what = "missing" if size < 0 else "0 bytes"
            return [Check("output_exists", "a non-empty file", what, False)]
        try:
            output = probed.result()
        except ProbeError as error:
            return [Check("output_readable", "a readable media file", str(error), False)]
        checks = [Check("output_exists", "a non-empty file", f"{size} bytes", True)]
        checks.extend(verify_output(spec.canonical_profile, source, output))
        for extra in self.pm.hook.proxx_verify_output(spec=spec, clip=clip, source=source, output=output):
            checks.extend(extra or ())
        return checks

    # --- endings ------------------------------------------------------------------------------

    def _result(
        self,
        spec: JobSpec,
        state: str,
        started_at: str,
        timings: dict[str, float],
        clips: tuple[ClipResult, ...],
        log_path: Path,
        failure: Failure | None,
        engine: EngineRun,
        problems: tuple[Failure, ...],
    ) -> JobResult:
        return JobResult(
            result_version=RESULT_VERSION,
            job_id=spec.job_id,
            jobspec_digest=self.store.stored_digest(spec.job_id),
            proxy_profile=spec.proxy_profile,
            proxy_profile_origin=spec.proxy_profile_origin,
            selected_at=spec.selected_at,
            state=state,
            created_at=spec.created_at,
            started_at=started_at,
            finished_at=utc_now(),
            timings=timings,
            engine=engine,
            clips=clips,
            log_path=str(log_path),
            worker_id=self.worker_id,
            retry_of=spec.retry_of,
            failure=failure,
            validation_problems=problems,
        )

    def _finish(self, spec: JobSpec, result: JobResult, job_dir: Path) -> JobResult:
        result_path = job_dir / "result.json"
        try:
            self._record(spec, result, result_path)
        except (OSError, sqlite3.OperationalError) as error:  # PROXX_HOME full: the state row still says why
            result = unrecorded(result, self.home, error)
            print(f"proxx: job {spec.job_id}: {result.failure.message if result.failure else ''}", file=sys.stderr)
        failure = result.failure

        def finish() -> None:
            self.store.finish(
                spec.job_id,
                result.state,
                worker_id=self.worker_id,
                failure_class=FailureClass(failure.failure_class) if failure else None,
                reason=failure.reason if failure else None,
                message=failure.message if failure else None,
            )

        try:
            finish()
        except sqlite3.OperationalError:  # a full disk: the store's space reserve makes room for the ending
            if not self.store.release_reserve():
                raise
            finish()
        if self.exporters:
            outcomes = tuple(
                self._export(exporter, spec, result, Path(result.log_path)) for exporter in self.exporters.values()
            )
            result = attrs.evolve(result, exports=outcomes)
            with contextlib.suppress(OSError):  # the first result stands when this one cannot be written
                write_json_atomically(result_path, result.to_dict())
        return result

    def _record(self, spec: JobSpec, result: JobResult, result_path: Path) -> None:
        """Write the result JSON; on a full PROXX_HOME, give up the store's space reserve and try
        once more (saying so on stderr)."""
        try:
            write_json_atomically(result_path, result.to_dict())
        except OSError as error:
            if error.errno != errno.ENOSPC or not self.store.release_reserve():
                raise
            print(
                f"proxx: PROXX_HOME '{self.home}' is full; job {spec.job_id} was recorded in its reserved space. "
                "Free space before the next job.",
                file=sys.stderr,
            )
            self.job_dir(spec.job_id)
            write_json_atomically(result_path, result.to_dict())
        self.store.set_paths(spec.job_id, result_path=str(result_path))

    def _export(self, exporter: Exporter, spec: JobSpec, result: JobResult, log_path: Path) -> ExportOutcome:
        try:
            details = exporter.export(spec, result) or {}
        except Exception as error:
            _log(log_path, f"exporter {exporter.name} failed:\n{traceback.format_exc()}")
            return ExportOutcome(exporter.name, False, f"{type(error).__name__}: {error}")
        return ExportOutcome(exporter.name, True, None, details)

    def _digest_mismatch(self, job_id: str, log_path: Path, started_at: str) -> JobResult:
        error = JobValidationError(
            "JobSpec digest mismatch",
            f"JobSpec of job {job_id} does not match its digest: it was altered after creation. "
            "Nothing was executed; create a new job.",
            {"job_id": job_id},
        )
        _log(log_path, error.message)
        spec = self.store.spec_unchecked(job_id)
        clips = tuple(ClipResult(c.index, c.source, c.output, CLIP_NOT_RUN) for c in spec.clips)
        result = self._result(
            spec, FAILED, started_at, {}, clips, log_path, Failure.of(error), EngineRun(spec.engine), ()
        )
        return self._finish(spec, result, self.job_dir(job_id))


# Failures no later clip of the job would escape.
JOB_WIDE_REASONS = frozenset({"timeout", "worker_lost", "disk_full", "engine_unavailable", "engine_not_installed"})


def _disk_full(folder: Path) -> bool:
    """Less free space in the output folder than proxx always leaves (PROXX_MIN_FREE_SPACE)."""
    try:
        return shutil.disk_usage(folder).free < required_margin(0)
    except OSError:
        return True


def _job_failure(results: list[ClipResult], first: Failure | None) -> Failure | None:
    """The job's failure: a single clip's own, or one naming every failed clip with its message."""
    failed_clips = [r for r in results if r.failure is not None]
    if first is None or len(results) == 1:
        return first
    names = "; ".join(f"{Path(r.source).name}: {r.failure.message}" for r in failed_clips if r.failure)
    published = sum(r.state == CLIP_COMPLETED for r in results)
    message = f"{len(failed_clips)} of {len(results)} clips failed ({published} published): {names}"
    return attrs.evolve(first, message=message, context={**first.context, "failed_clips": len(failed_clips)})


def _duration(info: MediaInfo | None) -> float:
    return (info.video_duration if info else None) or 0.0


def _log(path: Path, text: str) -> None:
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{utc_now()} {text}\n")
