"""The Resolve engine: renders canonical profiles whose `engine` is `resolve` through DaVinci Resolve
Studio's scripting API, driven from a child process (proxx_resolve.bridge).

Configuration (environment):
  RESOLVE_SCRIPT_API            the Scripting folder, or its Modules/ folder
  RESOLVE_SCRIPT_LIB            fusionscript.so/.dll
  PROXX_RESOLVE_START           path of the Resolve executable: start it headless (-nogui) when none answers
  PROXX_RESOLVE_START_TIMEOUT   seconds a started Resolve has to answer (default 120)
  PROXX_RESOLVE_CONNECT_TIMEOUT seconds one connection attempt may take (default 30)
  PROXX_RESOLVE_CLEANUP_SECONDS seconds granted past the render deadline for cleanup (default 30)
  PROXX_RESOLVE_STALL_SECONDS   seconds a render job may be neither rendering nor finished (default 30)
  PROXX_RESOLVE_RENDER_DIR      the folder Resolve renders into (default: the job's output folder); the
                                proxy is then moved into place beside its final name
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from proxx.plugin import (
    Availability,
    ClipSpec,
    Engine,
    ExecutionError,
    JobSpec,
    JobValidationError,
    MediaInfo,
    RenderReport,
    RenderTask,
    cannot_render,
    default_colour,
    frame_size,
    output_size,
    proxy_target,
    upright,
)
from proxx_resolve.launch import Launcher
from proxx_resolve.lock import resolve_turn
from proxx_resolve.rawfacts import RawClip, remember

# The bridge's client, the scripting module's location and Resolve's settings are imported where a
# Resolve job or check uses them: every `proxx` command loads this plugin, most never ask Resolve.
if TYPE_CHECKING:
    from proxx_resolve.locate import ScriptingPaths

STUDIO = "Studio"
# The bridge's failures that are one of proxx's reasons (`proxx.errors`), worded for operators there:
# a Resolve that no longer answers (closed or gone since validation), a setting it refused.
_REASONS = {"not_running": "engine_unavailable", "settings_refused": "settings_refused"}
_NO_SPACE = re.compile(r"insufficient disk space|no space left|disk (?:is )?full", re.IGNORECASE)


def _reason(bridge_reason: str, message: str) -> str:
    """The reason of a render the bridge reports failed: one of proxx's where Resolve's words tell it."""
    if bridge_reason in _REASONS:
        return _REASONS[bridge_reason]
    return "disk_full" if _NO_SPACE.search(message) else "engine_failed"


POLL_SECONDS = 0.25


def _seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def edition_problem(connected: dict[str, Any]) -> str | None:
    """Why the Resolve that answered cannot be used (free edition, too old), or None."""
    from proxx_resolve.settings import MIN_VERSION, parse_version

    product = connected.get("product", "")
    version = parse_version(connected.get("version"))
    shown = connected.get("version_text") or ".".join(map(str, version)) or "of unknown version"
    if STUDIO not in product:
        return f"DaVinci Resolve Studio is required; the running edition is '{product or 'unknown'}' {shown}"
    if version[:2] < MIN_VERSION:
        needed = ".".join(map(str, MIN_VERSION))
        return f"DaVinci Resolve Studio {shown} is not supported ({needed} or newer is needed)"
    return None


def render_dir_problem() -> str | None:
    """Why PROXX_RESOLVE_RENDER_DIR cannot be used (proxx makes a folder per clip in it), or None."""
    folder = os.environ.get("PROXX_RESOLVE_RENDER_DIR", "")
    if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        return f"PROXX_RESOLVE_RENDER_DIR names '{folder}', which is not a folder proxx can write"
    return None


def _parse_size(text: str) -> tuple[int, int] | None:
    width, _, height = text.lower().partition("x")
    return (int(width), int(height)) if width.strip().isdigit() and height.strip().isdigit() else None


class ResolveEngine(Engine):
    name = "resolve"
    display_name = "Resolve"
    accepts_raw = True
    parallel_clips = 1  # one Resolve, one current project: its renders take turns

    def __init__(self) -> None:
        command = os.environ.get("PROXX_RESOLVE_START", "")
        self.launcher = Launcher(command) if command else None
        self.started_edition: dict[str, Any] = {}  # what the Resolve this engine last started said it is

    # --- availability -------------------------------------------------------------------------

    def availability(self) -> Availability:
        from proxx_resolve.locate import find_scripting

        try:
            problem = render_dir_problem()
            if problem:
                return Availability(False, problem)
            paths, looked = find_scripting()
            if paths is None:
                where = ", ".join(looked) or "nowhere"
                return Availability(
                    False, f"the DaVinciResolveScript module was not found (set RESOLVE_SCRIPT_API; looked in {where})"
                )
            with open(os.devnull, "w") as log:
                try:
                    connected = self._probe(paths, log)
                except _NotRunning:
                    if self.launcher is None:
                        raise
                    return self._headless_availability(self.launcher)
            problem = edition_problem(connected)
            if problem:
                return Availability(False, problem)
            return Availability(True, version=f"{connected['product']} {connected.get('version_text', '')}".strip())
        except _NotConnected as error:
            return Availability(False, str(error))
        except Exception as error:  # availability must never raise
            return Availability(False, f"{type(error).__name__}: {error}")

    def _headless_availability(self, launcher: Launcher) -> Availability:
        """No Resolve answers and one would be started for the job. Starting it here would make
        listing profiles start Resolve: judge the edition from the last one this worker started,
        else leave it to the render (which then fails with the same reason, as class C)."""
        if not (os.path.isfile(launcher.command) and os.access(launcher.command, os.X_OK)):
            return Availability(
                False, f"PROXX_RESOLVE_START names '{launcher.command}', which is not an executable file"
            )
        if self.started_edition:
            problem = edition_problem(self.started_edition)
            if problem:
                return Availability(False, problem)
        return Availability(True, version=f"started headless on demand: {launcher.command} -nogui")

    def _probe(self, paths: ScriptingPaths, log: IO[str]) -> dict[str, Any]:
        from proxx_resolve import client

        seconds = _seconds("PROXX_RESOLVE_CONNECT_TIMEOUT", 30)
        try:
            events = client.request(paths, {"op": "probe"}, log, seconds)
        except client.BridgeTimeout:
            raise _NotConnected(f"DaVinci Resolve did not answer within {seconds:g} seconds") from None
        except client.BridgeDied as died:
            raise _NotConnected(f"the Resolve scripting bridge {died}") from None
        for event in events:
            if event["event"] == "connected":
                return event
        last = events[-1] if events else {"event": "failed", "reason": "", "message": "no answer"}
        if last.get("reason") == "not_running":
            raise _NotRunning(
                "DaVinci Resolve is not running, or refuses external scripting (a Studio feature: Preferences > "
                "System > General > External scripting using: Local)"
            )
        raise _NotConnected(last.get("message", "no answer"))

    def _connect(self, paths: ScriptingPaths, log: IO[str]) -> dict[str, Any]:
        """Connect to a running Resolve; in headless mode start one when none answers."""
        try:
            return self._probe(paths, log)
        except _NotRunning:
            if self.launcher is None:
                raise
        self.launcher.start()
        deadline = time.monotonic() + _seconds("PROXX_RESOLVE_START_TIMEOUT", 120)
        while True:
            try:
                self.started_edition = self._probe(paths, log)
                return self.started_edition
            except _NotRunning:
                gone = self.launcher.exit_status()
                if gone:
                    raise _NotConnected(gone) from None
                if time.monotonic() > deadline:
                    self.launcher.stop()
                    raise _NotConnected(
                        f"the started Resolve ({self.launcher.command} -nogui) did not answer within "
                        f"{_seconds('PROXX_RESOLVE_START_TIMEOUT', 120):g} seconds"
                    ) from None
                time.sleep(1)

    # --- validation ---------------------------------------------------------------------------

    def validate_clip(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo) -> Iterable[JobValidationError]:
        from proxx_resolve.settings import SettingsRefused, colour_tags, resolve_frame_rate, unsupported

        why = None
        if source.video is not None:
            size = frame_size(spec.canonical_profile, source.video)
            why = unsupported(spec.canonical_profile, size)
            if why is None:
                try:
                    resolve_frame_rate(source.video.fps)
                    colour_tags(proxy_target(spec.canonical_profile, source).colour.output)
                except SettingsRefused as refused:
                    why = str(refused)
        if why:
            yield cannot_render(clip, why)

    # --- render -------------------------------------------------------------------------------

    def render(self, task: RenderTask) -> RenderReport:
        from proxx_resolve.locate import find_scripting

        paths, _ = find_scripting()
        if paths is None:
            raise ExecutionError(
                "engine_unavailable", "Resolve render failed: the DaVinciResolveScript module was not found"
            )
        partial = Path(task.partial_path)
        with open(task.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n=== clip {task.clip.index}: {task.clip.source} (Resolve)\n")
            log.flush()
            with resolve_turn(log):
                started = time.monotonic()
                # An empty folder per clip: Resolve writes one file into it, which becomes the partial.
                # A facility whose Resolve may render only into its Media Storage volumes names one.
                render_dir = os.environ.get("PROXX_RESOLVE_RENDER_DIR") or partial.parent
                target_dir = Path(tempfile.mkdtemp(prefix=f".proxx-resolve-{partial.stem}-", dir=render_dir))
                # proxx hands engines their private folder through its descriptor (/proc/<pid>/fd/N);
                # Resolve, another application, is told the folder's real path, and the file it
                # writes is taken back through the descriptor, so a folder swapped meanwhile yields
                # nothing rather than a write elsewhere.
                resolve_dir = Path(os.path.realpath(target_dir))
                try:
                    outcome, connected = self._render_in_turn(task, paths, resolve_dir, log)
                    _move_into_place(_single_output(target_dir), partial)
                finally:
                    shutil.rmtree(target_dir, ignore_errors=True)
            elapsed = time.monotonic() - started
            log.write(f"=== Resolve render finished after {elapsed:.2f} s\n")
        connected = outcome.connected or connected
        return RenderReport(
            engine_version=f"{connected.get('product', 'DaVinci Resolve')} {connected.get('version_text', '')}".strip(),
            details={**outcome.details, "seconds": round(elapsed, 3)},
        )

    def _render_in_turn(
        self, task: RenderTask, paths: ScriptingPaths, target_dir: Path, log: IO[str]
    ) -> tuple[_Outcome, dict[str, Any]]:
        try:
            connected = self._connect(paths, log) if self.launcher else {}
        except _NotConnected as error:
            raise ExecutionError("engine_unavailable", f"Resolve render failed: {error}") from None
        run = _Run(task, paths, target_dir, log)
        try:
            return run.execute(), connected
        except ExecutionError:
            if run.needs_cleanup and self.launcher is not None:
                self.launcher.stop()  # a hung or crashed Resolve we started: start afresh next time
            raise


class _NotConnected(Exception):
    pass


class _NotRunning(_NotConnected):
    pass


@attrs.frozen
class _Outcome:
    connected: dict[str, Any]  # what the Resolve that rendered said it is
    details: dict[str, Any]  # for the result's engine details


class _Run:
    """One clip's conversation with one bridge process."""

    def __init__(self, task: RenderTask, paths: ScriptingPaths, target_dir: Path, log: IO[str]) -> None:
        import uuid

        self.task = task
        self.paths = paths
        self.target_dir = target_dir
        self.log = log
        self.project = f"proxx-{task.spec.job_id}-clip{task.clip.index}-{uuid.uuid4().hex[:8]}"
        self.job_id = ""
        self.previous_project = ""  # the operator's project, reopened by cleanup
        self.connected: dict[str, Any] = {}
        self.details: dict[str, Any] = {"project": self.project}
        self.needs_cleanup = False
        self.timeout = task.timeout  # a RAW source's is known only from Resolve's clip properties

    def timeout_error(self) -> ExecutionError:
        return ExecutionError(
            "timeout",
            f"Resolve render job timed out after {self.timeout:g} seconds",
            {"source": self.task.clip.source, "timeout_seconds": self.timeout},
        )

    def failure(self, message: str, reason: str = "engine_failed") -> ExecutionError:
        return ExecutionError(reason, f"Resolve render failed: {message}", {"source": self.task.clip.source})

    def execute(self) -> _Outcome:
        from proxx_resolve import client

        grace = _seconds("PROXX_RESOLVE_CLEANUP_SECONDS", 30)
        started = time.monotonic()
        request = {
            "op": "render",
            "source": self.task.clip.source,
            "project": self.project,
            "timeline": f"proxx clip {self.task.clip.index}",
            "deadline_seconds": self.timeout,
            "poll_seconds": POLL_SECONDS,
            "stall_seconds": _seconds("PROXX_RESOLVE_STALL_SECONDS", 30),
        }
        aborted: ExecutionError | None = None  # why this side stopped the render before it began
        try:
            with client.Bridge(self.paths, self.log, started + self.timeout + grace) as bridge:
                bridge.send(request)
                for event in bridge.events():
                    kind = event["event"]
                    if kind == "connected":
                        self.connected = event
                    elif kind == "clip":
                        reply, aborted = self._plan(event["properties"])
                        bridge.send(reply)
                        bridge.deadline = started + self.timeout + grace  # a RAW clip's own duration
                    elif kind == "project":
                        self.previous_project = event.get("previous", "")
                    elif kind == "job":
                        self.job_id = event["job_id"]
                        self.details["render_job_id"] = self.job_id
                    elif kind == "progress":
                        self.task.progress(float(event["fraction"]))
                    elif kind == "log":
                        self.log.write(f"resolve: {event['message']}\n")
                        self.log.flush()
                    elif kind == "done":
                        status = event.get("status", {})
                        self.details["time_taken_ms"] = status.get("TimeTakenToRenderInMs")
                        return _Outcome(self.connected, self.details)
                    elif kind == "failed":
                        if aborted is not None:
                            raise aborted
                        if event["reason"] == "timeout":
                            raise self.timeout_error()
                        raise self.failure(event["message"], _reason(event["reason"], event["message"]))
        except client.BridgeTimeout:
            self.needs_cleanup = True
            self._clean_up_after_kill()
            raise self.timeout_error() from None
        except client.BridgeDied as died:
            self.needs_cleanup = True
            self._clean_up_after_kill()
            raise self.failure(f"the scripting bridge {died} before the render finished", "engine_crashed") from None
        raise self.failure("the scripting bridge ended without an answer")  # unreachable: events() raises

    def _plan(self, properties: dict[str, str]) -> tuple[dict[str, Any], ExecutionError | None]:
        """The settings for the bridge, or an abort with the error naming what cannot be rendered."""
        from proxx_resolve.settings import SettingsRefused, parse_resolve_rate, parse_version, render_plan

        problem = edition_problem(self.connected)
        if problem:  # only in headless mode, where the edition is known once Resolve has started
            error = ExecutionError(
                "engine_unavailable", f"Resolve engine not available on this system: {problem}", {"engine": "resolve"}
            )
            return {"op": "abort", "message": problem}, error
        source = self.task.source
        try:
            if source is not None and source.video is not None:
                size = upright(source.video)[:2]
                rate = source.video.fps
                colour = proxy_target(self.task.spec.canonical_profile, source).colour.output
                # No timecode: Resolve's own Start TC (00:00:00:00), not its 01:00:00:00 timeline default.
                timecode = source.timecode or properties.get("Start TC") or None
            else:  # RAW that ffprobe cannot read: Resolve's own clip properties are the only facts
                parsed = _parse_size(properties.get("Resolution", ""))
                if parsed is None:
                    raise SettingsRefused(
                        f"Resolve reports no frame size for the clip ({properties.get('Resolution')!r})"
                    )
                size = parsed
                rate = parse_resolve_rate(properties.get("FPS", "0"))
                timecode = properties.get("Start TC") or None
                colour = default_colour(*size)  # RAW is debayered into the picture size's default
                frames = int(properties.get("Frames") or 0)
                self.timeout = max(self.timeout, self.task.timeout_for(float(frames / rate)))
                self.details["timeout_seconds"] = self.timeout
                self.details["resolve_clip_properties"] = {
                    k: properties.get(k) for k in ("Resolution", "FPS", "Frames", "Start TC", "Video Codec", "Audio Ch")
                }
                channels = str(properties.get("Audio Ch") or "").strip()
                audio = int(channels) if channels.isdigit() else None
                remember(self.task.partial_path, RawClip(size, rate, frames, audio))  # for verification
            profile = self.task.spec.canonical_profile
            plan = render_plan(
                profile,
                size,
                output_size(profile, *size),
                rate,
                timecode,
                str(self.target_dir),
                Path(self.task.clip.output).stem,  # the name an operator sees in Resolve's render queue
                parse_version(self.connected.get("version")),
                colour,
            )
        except (SettingsRefused, ValueError, ZeroDivisionError) as refused:
            return {"op": "abort", "message": str(refused)}, self.failure(str(refused), "settings_refused")
        self.details.update(render_format=plan.render_format, render_codec=plan.render_codec, settings=plan.settings)
        return {**plan.to_message(), "deadline_seconds": self.timeout}, None

    def _clean_up_after_kill(self) -> None:
        """The killed bridge could not clean up: a fresh one deletes its render job and project."""
        from proxx_resolve import client

        seconds = _seconds("PROXX_RESOLVE_CLEANUP_SECONDS", 30)
        try:
            events = client.request(
                self.paths,
                {"op": "cleanup", "project": self.project, "job_id": self.job_id, "reopen": self.previous_project},
                self.log,
                seconds,
            )
        except (client.BridgeTimeout, client.BridgeDied) as error:
            self.log.write(f"resolve: cleanup of project {self.project} failed: {type(error).__name__} {error}\n")
            return
        for event in events:
            if event["event"] in ("log", "failed"):
                self.log.write(f"resolve cleanup: {event.get('message')}\n")


def _move_into_place(rendered: Path, partial: Path) -> None:
    """Rename the rendered file to the clip's partial path; from another file system (a render
    folder on a Resolve volume), copy it beside the partial first, so the partial is always whole."""
    copying = partial.with_name(f".{partial.name}.copying")
    try:
        try:
            os.replace(rendered, partial)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            shutil.copyfile(rendered, copying)
            os.replace(copying, partial)
    except OSError as error:
        raise ExecutionError(
            "engine_failed",
            f"Resolve render failed: the rendered file could not be moved to {partial}: {error}",
            {"rendered": str(rendered)},
        ) from None
    finally:
        copying.unlink(missing_ok=True)


def _single_output(target_dir: Path) -> Path:
    files = [p for p in target_dir.iterdir() if p.is_file() and not p.name.startswith(".")]
    if len(files) != 1:
        names = ", ".join(sorted(p.name for p in files)) or "nothing"
        raise ExecutionError(
            "engine_failed",
            f"Resolve render failed: expected one rendered file in {target_dir}, found {names}",
            {"target_dir": str(target_dir)},
        )
    return files[0]
