"""A job's clips: each rendered under a private temporary name, verified, then published.

Every clip passed validation before any renders (a class B problem of any clip fails the whole
job, `proxx.execute.runner`). A clip's own execution failure (class C: its decode, its
verification) fails that clip only: the other clips still render and publish, and the job ends
FAILED naming each failed clip. A job-wide failure (the engine
gone, the output disk full, a timeout, the job declared lost) starts no further clip (those rendering
beside it finish), the remaining clips recorded "not_run"; the reference stops at the first failed
clip of any kind, which costs an operator a whole card for one damaged file. The engine runs exactly
once per clip; nothing is retried.

Clips start rendering in job order, side by side as `proxx.execute.schedule` allows, each with its
share of the cores. A clip's output is verified as soon as it is rendered, while others render.
The result lists clips in job order.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from proxx.converter import converter
from proxx.errors import CANCELLED, DISK_FULL, OUTPUT_UNWRITABLE, TIMEOUT, ExecutionError, FailureClass, ProxxError
from proxx.execute.cancel import cancelled_error
from proxx.execute.engine import Engine, RenderReport, RenderTask, availability_of
from proxx.execute.joblog import append
from proxx.execute.lease import Lease
from proxx.execute.progress import ProgressMeter
from proxx.execute.publish import (
    Staged,
    confirm_staged,
    copy_reused,
    discard,
    partial_path,
    publish,
    stage,
    unstage,
)
from proxx.execute.schedule import core_share, parallel_budget, render_slots
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media.probe import MediaInfo
from proxx.result import CLIP_COMPLETED, CLIP_FAILED, CLIP_NOT_RUN, ClipResult, EngineRun, Failure, Reused
from proxx.roots import Roots
from proxx.settings import Settings
from proxx.validate import trust
from proxx.validate.space import required_margin
from proxx.verify.checks import Check
from proxx.verify.facts import clip_facts
from proxx.verify.output import PluginChecks, prepare_verification, verification_error, verify_clip
from proxx.visibility import ADMIN_DETAIL, execution_message

# Failures no later clip of the job would escape.
JOB_WIDE_REASONS = frozenset(
    {"timeout", "worker_lost", "disk_full", "engine_unavailable", "engine_not_installed", CANCELLED}
)


# The `proxx_reuse_output` hook: an earlier verified output a clip may copy instead of rendering.
ReuseLookup = Callable[[JobSpec, ClipSpec, MediaInfo | None], Reused | None]


@attrs.frozen
class Rendered:
    """A clip whose output exists under its temporary name."""

    clip: ClipSpec
    source: MediaInfo | None
    staged: Staged  # the private folder, held open until the clip is published or kept
    reused: Reused | None
    started: float
    report: Callable[[float], None]
    threads: int | None  # the share of the cores it rendered with (None: the engine's choice, or a copy)


@attrs.define
class Clips:
    """Renders, verifies and publishes the clips of one validated job."""

    spec: JobSpec
    engine: Engine
    sources: Mapping[int, MediaInfo | None]
    log_path: Path
    lease: Lease
    roots: Roots | None
    settings: Settings
    meter: ProgressMeter
    reuse_lookup: ReuseLookup
    plugin_checks: PluginChecks
    cancelled: Callable[[], bool] = attrs.field(default=lambda: False)  # `proxx.execute.cancel.CancelSignal`
    on_published: Callable[[ClipResult], None] = attrs.field(default=lambda clip: None)  # recorded at once
    engine_run: EngineRun = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.engine_run = EngineRun(self.engine.name)

    def run(self) -> tuple[tuple[ClipResult, ...], Failure | None]:
        stopping = threading.Event()  # a job-wide failure happened: no further clip starts
        parallel = min(len(self.spec.clips), self.engine.parallel_clips or parallel_budget(), parallel_budget())
        rendering = threading.BoundedSemaphore(parallel)
        core_share().add_job(self.spec.job_id, self.meter.weights, self.meter.done, parallel)
        # One thread more than clips may render: the next render starts the moment one ends, while
        # the clip just rendered is verified and published beside it.
        workers = min(len(self.spec.clips), parallel + 1)
        prepare_verification()  # verification's decoder starts while the first clip renders
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix=f"proxx-clip-{self.spec.job_id}") as pool:
                futures = [
                    pool.submit(self._clip, position, clip, stopping, rendering)
                    for position, clip in enumerate(self.spec.clips)
                ]
                results = [future.result() for future in futures]
        finally:
            core_share().remove_job(self.spec.job_id)
        if any(r.state != CLIP_COMPLETED for r in results) and self.cancelled():
            cancelled = cancelled_failure(results)
            append(self.log_path, cancelled.message)
            return tuple(results), cancelled
        return tuple(results), job_failure(results)

    def _clip(
        self, position: int, clip: ClipSpec, stopping: threading.Event, rendering: threading.BoundedSemaphore
    ) -> ClipResult:
        cores, job_id, budget = core_share(), self.spec.job_id, parallel_budget()
        with rendering, render_slots(budget):
            if stopping.is_set() or self.cancelled():
                cores.end(job_id, position)
                return ClipResult(clip.index, clip.source, clip.output, CLIP_NOT_RUN)
            started = time.monotonic()
            try:
                threads = cores.start(job_id, position, budget)
                step = self._produce(clip, self.meter.for_clip(position, clip.index), threads)
            except Exception as error:  # last resort (_produce keeps its own): the clip's failure, never the job's
                step = self._crashed(clip, error, started)
            finally:
                cores.end(job_id, position)
        try:
            result = self._complete(step) if isinstance(step, Rendered) else step
            if result.failure is not None and self._stops_job(result.failure):
                stopping.set()
        except Exception as error:
            result = self._crashed(clip, error, started)
        return result

    def _unexpected(self, clip: ClipSpec, error: Exception) -> ExecutionError:
        """An exception no engine or check was meant to raise (an OSError of the output folder, a
        bug) as the clip's class C failure: its traceback in the job log, its message naming it."""
        with contextlib.suppress(Exception):  # an unwritable job log must not hide the clip's failure
            append(self.log_path, f"clip {clip.index}: unexpected error:\n{traceback.format_exc()}")
        return ExecutionError(
            "internal_error",
            f"The proxy of '{Path(clip.source).name}' could not be made: proxx met an unexpected error "
            f"({type(error).__name__}: {error}). Nothing was published for it; an administrator finds the "
            "details in the job's log.",
            {"source": clip.source, "error": type(error).__name__},
        )

    def _crashed(self, clip: ClipSpec, error: Exception, started: float) -> ClipResult:
        """The clip failed by an exception met outside its own handling: recorded failed, touching
        nothing more on disk (its partial output, if any, stays where it is). Met after its proxy was
        published (recording it failed), the message says so: that file was never there before."""
        unexpected = self._unexpected(clip, error)
        if os.path.lexists(clip.output):
            unexpected = ExecutionError(
                unexpected.reason,
                f"The proxy of '{Path(clip.source).name}' is at its final name, but proxx met an unexpected error "
                f"recording it ({type(error).__name__}: {error}), so it does not count as published: move it "
                "away before retrying the job. An administrator finds the details in the job's log.",
                {**unexpected.context, "output": clip.output},
            )
        failure = Failure.of(unexpected)
        with contextlib.suppress(Exception):
            append(self.log_path, f"clip {clip.index} failed: {failure.message}")
        seconds = round(time.monotonic() - started, 3)
        return ClipResult(clip.index, clip.source, clip.output, CLIP_FAILED, None, (), failure, seconds)

    def _stops_job(self, failure: Failure) -> bool:
        """Whether a clip's failure is the job's: no later clip could do better."""
        if failure.reason in JOB_WIDE_REASONS or not availability_of(self.engine).available:
            return True
        return disk_full(Path(self.spec.output_directory))

    def _produce(self, clip: ClipSpec, report: Callable[[float], None], threads: int | None) -> Rendered | ClipResult:
        """Render `clip` (or copy a reusable output) under its temporary name."""
        source = self.sources[clip.index]
        started = time.monotonic()
        reused = self._reusable(clip, source) if self.spec.reuse else None
        threads = None if reused is not None else threads  # a copy renders nothing
        staged = None
        try:
            trust.recheck_source(clip, source, self.roots)  # still the validated file, inside the roots
            staged = stage(self.spec, clip, self.roots)  # a private folder for the engine (and the intent's subfolder)
            if reused is not None:
                reused = attrs.evolve(reused, how=copy_reused(Path(reused.output), staged.written))
            else:
                self._render(clip, source, staged.written, report, threads)
        except ProxxError as error:
            return self._failed(clip, staged, error, [], started, reused, threads)
        except Exception as error:  # e.g. an OSError of the output folder: this clip fails, not the process
            return self._failed(clip, staged, self._unexpected(clip, error), [], started, reused, threads)
        return Rendered(clip, source, staged, reused, started, report, threads)

    def _complete(self, rendered: Rendered) -> ClipResult:
        """Verify a rendered clip and publish it under its final name."""
        clip, staged = rendered.clip, rendered.staged
        checks: list[Check] = []
        try:
            confirm_staged(self.spec, clip, staged, self.roots)  # a folder removed mid-render: said as that
            trust.recheck_source(clip, rendered.source, self.roots, rendered=True)  # not grown while it was read
            checks, output = verify_clip(self.spec, clip, rendered.source, staged.written, self.plugin_checks)
            error = verification_error(checks, staged.path, clip)
            if error is not None:
                raise error
            size = staged.written.stat().st_size
            if not self.lease.holds(self.spec.job_id):
                kept = str(partial_path(clip, self.spec.job_id))
                raise ExecutionError(
                    "worker_lost",
                    f"The job was declared lost while it ran on {self.lease.worker_id}; its verified output "
                    f"stays at '{kept}' and was not published.",
                    {"output": kept, "worker_id": self.lease.worker_id},
                )
            publish(self.spec, clip, staged, self.roots)
        except ProxxError as error:
            return self._failed(clip, staged, error, checks, rendered.started, rendered.reused, rendered.threads)
        except Exception as error:  # e.g. an OSError publishing it: this clip fails, not the process
            failure = self._unexpected(clip, error)
            return self._failed(clip, staged, failure, checks, rendered.started, rendered.reused, rendered.threads)
        finally:
            staged.close()
        rendered.report(1.0)
        seconds = round(time.monotonic() - rendered.started, 3)
        facts = clip_facts(rendered.source, output) if output is not None else None
        result = ClipResult(
            clip.index, clip.source, clip.output, CLIP_COMPLETED, None, tuple(checks), None, seconds, size,
            rendered.reused, facts, rendered.threads,
        )  # fmt: skip
        self.on_published(result)
        return result

    def _failed(
        self,
        clip: ClipSpec,
        staged: Staged | None,
        error: ProxxError,
        checks: list[Check],
        started: float,
        reused: Reused | None,
        threads: int | None,
    ) -> ClipResult:
        error = self._worded(clip, self._classified(error))
        admin = error.context.get("admin_message")
        detail = f"\n{ADMIN_DETAIL}{admin}" if admin else ""
        append(self.log_path, f"clip {clip.index} failed: {error.message}{detail}")
        kept = None
        if staged is not None:  # else it failed before its private folder was made: nothing was written
            try:
                if error.reason in (CANCELLED, DISK_FULL):  # nothing to debug; a full volume needs the space
                    discard(self.spec, clip, staged, self.roots)
                else:
                    kept = unstage(self.spec, clip, staged, self.roots)
            except Exception:  # the partial stays in its private folder: the clip's failure is still this one
                moved = f"clip {clip.index}: its partial output could not be moved:\n{traceback.format_exc()}"
                append(self.log_path, moved)
                kept = str(staged.path)
            staged.close()
        seconds = round(time.monotonic() - started, 3)
        return ClipResult(
            clip.index, clip.source, clip.output, CLIP_FAILED, kept, tuple(checks), Failure.of(error), seconds,
            None, reused, None, threads,
        )  # fmt: skip

    def _classified(self, error: ProxxError) -> ExecutionError:
        """The clip's failure as class C, under the reason it shows whatever the engine called it: a
        volume that filled up is "disk_full" (the engine said ENOSPC, or the volume is now below the
        space proxx leaves free), an output folder no longer writable is "output_unwritable"."""
        folder = self.spec.output_directory
        context = {**error.context}
        if error.reason in (CANCELLED, DISK_FULL, OUTPUT_UNWRITABLE):
            pass
        elif out_of_space(Path(folder), error.message):
            return ExecutionError(DISK_FULL, error.message, {**context, "engine_reason": error.reason})
        elif error.reason not in (TIMEOUT, "verification_failed") and not os.access(folder, os.W_OK | os.X_OK):
            gone = not os.path.isdir(folder)  # removed or moved away, not only made read-only
            return ExecutionError(
                OUTPUT_UNWRITABLE, error.message, {**context, "engine_reason": error.reason, "folder_gone": gone}
            )
        return ExecutionError(error.reason, error.message, context)

    def _worded(self, clip: ClipSpec, error: ExecutionError) -> ExecutionError:
        """The failure as operators read it (`proxx.visibility.execution_message`: which clip, what
        happened, how far it got, what to do); the engine's own message stays in the record for
        administrators and integrators (context `admin_message`, the job log, the result JSON)."""
        position = next(i for i, c in enumerate(self.spec.clips) if c.index == clip.index)
        reached = self.meter.reached(position)
        context = {**error.context, **({"progress": round(reached, 3)} if reached is not None else {})}
        message = execution_message(error.reason, Path(clip.source).name, context)
        if message is None:
            return error
        if error.reason == CANCELLED:  # nothing the engine said: the operator stopped it
            return ExecutionError(error.reason, message, context)
        return ExecutionError(error.reason, message, {**context, "admin_message": error.message})

    def _render(
        self,
        clip: ClipSpec,
        source: MediaInfo | None,
        partial: Path,
        report: Callable[[float], None],
        threads: int | None,
    ) -> None:
        timeout = self.settings.timeout_for(source)
        task = RenderTask(
            self.spec, clip, source, str(partial), str(self.log_path), timeout, report, self.cancelled, threads,
            expected_duration=source.video_duration if source is not None else None,
            timeout_rule=self.settings.timeout_of,
        )  # fmt: skip
        try:
            rendered = self.engine.render(task)
        except ProxxError:
            raise
        except Exception as error:  # a plugin bug is still this job's execution failure
            append(self.log_path, traceback.format_exc())
            raise ExecutionError(
                "engine_error",
                f"{self.engine.label} engine failed: {type(error).__name__}: {error}",
                {"source": clip.source},
            ) from error
        if not isinstance(rendered, RenderReport):  # checked here: its fields are read just below
            raise self._unusable_report(
                clip, f"{type(rendered).__name__} from render, where it must return a RenderReport"
            )
        try:  # checked here: details the result JSON cannot hold failed the writing of the whole result
            json.dumps(converter.unstructure(dict(rendered.details)), ensure_ascii=False)
        except (TypeError, ValueError) as error:
            raise self._unusable_report(clip, f"details its job's result cannot hold as JSON ({error})") from None
        self.engine_run = EngineRun(self.engine.name, rendered.engine_version, rendered.details)
        if self.cancelled():  # an engine that does not ask while it renders: the output is not kept
            raise cancelled_error(clip.source)

    def _unusable_report(self, clip: ClipSpec, returned: str) -> ExecutionError:
        """The clip's failure when its engine returned what the job cannot take: nothing published."""
        return ExecutionError(
            "plugin_failed",
            f"The proxy of '{Path(clip.source).name}' was not published: the {self.engine.label} engine "
            f"('{self.engine.name}') returned {returned}. Ask an administrator to fix or remove its plugin.",
            {"source": clip.source, "engine": self.engine.name},
        )

    def _reusable(self, clip: ClipSpec, source: MediaInfo | None) -> Reused | None:
        """An earlier verified output to copy; a plugin failing to answer only costs the render it
        would have saved."""
        try:
            reused = self.reuse_lookup(self.spec, clip, source)
        except Exception:
            append(self.log_path, f"clip {clip.index}: reuse lookup failed, rendering:\n{traceback.format_exc()}")
            return None
        if reused is None:
            return None
        if self.roots is not None and not self.roots.contains(reused.output):
            # An earlier output elsewhere (another project's) is never this job's, whatever it holds.
            append(self.log_path, f"clip {clip.index}: not reusing {reused.output}: outside this job's roots")
            return None
        append(self.log_path, f"clip {clip.index}: reusing {reused.output} from job {reused.job_id}")
        return reused


def disk_full(folder: Path) -> bool:
    """Less free space in the output folder than proxx always leaves (PROXX_MIN_FREE_SPACE)."""
    try:
        return shutil.disk_usage(folder).free < required_margin(0)
    except OSError:
        return True


def out_of_space(folder: Path, message: str) -> bool:
    """Whether a clip's failure was its output volume filling up: the engine said so (ENOSPC), or the
    volume is now below the space proxx always leaves free."""
    if "No space left on device" in message:
        return True
    try:
        return shutil.disk_usage(folder).free < required_margin(0)
    except OSError:  # the folder is gone: that is another failure
        return False


def cancelled_failure(results: Iterable[ClipResult]) -> Failure:
    """The failure of a job the operator cancelled, with what it had done by then."""
    results = list(results)
    states = [r.state for r in results]
    published, not_run = states.count(CLIP_COMPLETED), states.count(CLIP_NOT_RUN)
    stopped = sum(r.failure is not None and r.failure.reason == CANCELLED for r in results)
    failed = states.count(CLIP_FAILED) - stopped
    message = (
        f"Cancelled by the operator: {published} of {len(states)} clip(s) published"
        + (f", {stopped} stopped" if stopped else "")
        + f", {not_run} not run"
        + (f", {failed} failed" if failed else "")
        + "."
    )
    return Failure(FailureClass.EXECUTION.value, CANCELLED, message, {"published": published, "not_run": not_run})


def job_failure(results: Iterable[ClipResult]) -> Failure | None:
    """The job's failure: a single clip's own, or one naming every failed clip with its message."""
    results = list(results)
    failed = [r for r in results if r.failure is not None]
    first = next((r.failure for r in failed if r.failure), None)
    if first is None or len(results) == 1:
        return first
    names = _joined(f"{Path(r.source).name}: {r.failure.message}" for r in failed if r.failure)
    published = sum(r.state == CLIP_COMPLETED for r in results)
    message = f"{len(failed)} of {len(results)} clips failed ({published} published): {names}"
    context = {**first.context, "failed_clips": len(failed)}
    return attrs.evolve(first, message=message, context=context)


def _joined(messages: Iterable[str]) -> str:
    """Clips' failures one after the other: a sentence ends with its full stop, a clause with "; "."""
    text = ""
    for message in messages:
        text += message if not text else (" " if text.endswith(".") else "; ") + message
    return text
