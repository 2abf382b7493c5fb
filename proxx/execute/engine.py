"""What an engine plugin provides. The canonical profile's `engine` field names the engine; nothing
else (source type, file extension, availability) ever chooses one, and there is no fallback."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import attrs

from proxx.errors import JobValidationError
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media.probe import MediaInfo


@attrs.frozen
class Availability:
    """Whether an engine can run here now, from `Engine.availability()`.

    Fields:
      available: True when the engine can render on this machine now.
      reason: why not, for the class B message ("ffmpeg not found").
      version: what would run ("n8.1.2"), shown by `proxx registry`.
    """

    available: bool
    reason: str = ""
    version: str = ""


def _never() -> bool:
    return False


@attrs.frozen
class RenderTask:
    """One clip to render. The engine writes `partial_path` (a temporary name in the output
    folder) and nothing else; proxx verifies it and only then gives it its final name.

    Fields:
      spec: the job's JobSpec (its `canonical_profile` says what to render).
      clip: the clip to render (its source and final output path).
      source: the source's probe; None only for RAW media a RAW-capable engine reads itself.
      partial_path: the file to write, in a private folder proxx made for this clip and holds open
        (on Linux a `/proc/<pid>/fd/<n>/<name>` path: any process of this user can open it, and
        nothing on the way to it can be swapped). Write it, or create files beside it; never rebuild
        it from the clip's output path.
      log_path: the job log; append the engine's full output here.
      timeout: seconds; past it the engine stops its process and raises ExecutionError "timeout".
      progress: call with the fraction of this clip done, 0..1.
      threads: how many threads to render with, or None for as many as the engine likes. Set while
        other clips of the job render beside this one: its share of the cores; an
        engine that cannot limit itself ignores it. It depends on
        load, so an engine gives it only to what does not change the output's bytes (decoding, or
        an encoder whose bytes do not depend on its thread count): the same JobSpec must give the
        same bytes alone, in a batch or on the farm.
      cancel_signal: what `is_cancelled()` asks (proxx sets it).
      expected_duration: the seconds of media the clip holds, from the source's probe (what
        `timeout` was computed from); None when no probe tells (RAW an engine reads itself).
      timeout_rule: how proxx turns a duration into a timeout (proxx sets it); use `timeout_for`.

    .. versionchanged:: 1.1
       `expected_duration` and `timeout_for`, so that an engine never recomputes the timeout rule.
    """

    spec: JobSpec
    clip: ClipSpec
    source: MediaInfo | None  # None only for RAW media a RAW-capable engine reads itself
    partial_path: str
    log_path: str  # append the engine's full output here
    timeout: float  # seconds; past it the engine stops its process and raises ExecutionError
    progress: Callable[[float], None]  # fraction of this clip done, 0..1
    cancel_signal: Callable[[], bool] = _never  # see `is_cancelled`
    threads: int | None = None  # its share of the cores while other clips render beside it
    expected_duration: float | None = None  # seconds of media to render; None when no probe tells
    timeout_rule: Callable[[float], float] | None = None  # see `timeout_for`

    def timeout_for(self, seconds: float) -> float:
        """The timeout proxx gives a clip `seconds` long: for an engine that learns the duration
        only while it renders (a RAW clip no probe reads), to extend `timeout` to it. Never less
        than `timeout`."""
        rule = self.timeout_rule
        return max(self.timeout, rule(seconds) if rule is not None else self.timeout)

    def is_cancelled(self) -> bool:
        """Whether the operator cancelled the job. An engine asks while it renders (a few times a
        second is cheap) and, once true, stops its process and raises
        `proxx.plugin.cancelled_error(task.clip.source)`; proxx removes the partial output.
        `proxx.plugin.run_process` does both for the process it runs."""
        return self.cancel_signal()


@attrs.frozen
class RenderReport:
    """What the engine says about a successful render, for the result JSON (never for operators).

    Fields:
      engine_version: what ran ("inhouse 1.0, ffmpeg n8.1.2"), so a proxy can be traced to it.
      details: anything else worth recording, under the result's `engine.details`: JSON values (and
        paths, recorded as text); details the result cannot hold (a datetime, bytes, a set) fail the
        clip in class C, reason "plugin_failed", naming the engine.
    """

    engine_version: str
    details: dict[str, Any] = attrs.field(factory=dict)


def availability_of(engine: Engine, plugin: str | None = None) -> Availability:
    """`engine.availability()`, never raising: an engine whose check raises (a plugin's bug) is
    unavailable, the reason naming its plugin (`plugin`) and the error, so that one broken engine
    neither hides the others (`proxx registry`) nor crashes the job that asked."""
    try:
        availability = engine.availability()
    except Exception as error:
        by = f"plugin '{plugin}'" if plugin else f"the {engine.label} engine's plugin"
        return Availability(False, f"its availability check failed in {by} ({type(error).__name__}: {error})")
    if not isinstance(availability, Availability):
        by = f"plugin '{plugin}'" if plugin else f"the {engine.label} engine's plugin"
        got = type(availability).__name__
        return Availability(False, f"its availability check in {by} returned a {got}, not an Availability")
    return availability


def cannot_render(clip: ClipSpec, why: str) -> JobValidationError:
    """The class B problem an engine's `validate_clip` yields for a source its profile cannot take."""
    return JobValidationError(
        "profile_unsupported_for_source",
        f"Source file '{clip.source}' cannot be rendered with this intent: {why}.",
        {"source": clip.source},
    )


class Engine(abc.ABC):
    """Base class of engine plugins. Subclass it, set `name`, and yield an instance from the
    `proxx_engines` hook.

    Class attributes:
      name: the engine's name: what a canonical profile's `engine` field says, and what `proxx
        registry`, traces and the result's `engine.name` show. Required.
      display_name: the engine's name in messages (default: `name`): "Inhouse engine not available
        on this system: ...", "Inhouse engine failed: ...". Give `run_process` the same `label`.
      accepts_raw: True when the engine can decode RAW camera formats (ARRIRAW, R3D, BRAW...).
        Default False.
      parallel_clips: how many clips of one job it may render at once, each from a thread of its
        own, on this one instance. Default None: as many as the machine's render budget allows. An
        engine with one instance per machine says 1.
    """

    #: The name canonical profiles use in their `engine` field.
    name: ClassVar[str]
    #: Human name for messages ("FFmpeg", "Resolve").
    display_name: ClassVar[str] = ""
    #: True when the engine can decode RAW camera formats (ARRIRAW, R3D, BRAW...).
    accepts_raw: ClassVar[bool] = False
    #: How many clips of one job it may render at once; None: as many as the machine's render budget
    #: allows (`proxx.execute.schedule.render_slots`). An engine with one instance per machine says 1.
    parallel_clips: ClassVar[int | None] = None

    @abc.abstractmethod
    def availability(self) -> Availability:
        """Say whether the engine can run on this machine now. Must be cheap and never raise."""

    def validate_clip(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo) -> Iterable[JobValidationError]:
        """Class B problems this engine sees in one probed source before anything runs (for
        example a frame smaller than its encoder accepts). Default: none."""
        return ()

    @abc.abstractmethod
    def render(self, task: RenderTask) -> RenderReport:
        """Render one clip into `task.partial_path`, exactly as the canonical profile says.

        Raise `proxx.plugin.ExecutionError` on failure: reason "engine_failed" with the message
        "<Engine> exited with code N: <last meaningful error line>", or reason "timeout" with
        "<Engine> timed out after N seconds". Where the engine can tell, raise the reason that
        says what happened: "source_damaged" (the source could not be read past a point: context
        `read_up_to`, seconds), "output_unwritable", "disk_full", "engine_unavailable" (the
        application went away since validation), "settings_refused". The message is the engine's
        own, for administrators (`context.admin_message` of the result); operators read one
        sentence per reason, naming the clip and how far it got. Never write
        the final output path.

        .. versionchanged:: 1.2
           The reasons beyond "engine_failed" and "timeout", each worded for operators by proxx.
        """

    @property
    def label(self) -> str:
        """Its name in messages: `display_name`, else `name`."""
        return self.display_name or self.name
