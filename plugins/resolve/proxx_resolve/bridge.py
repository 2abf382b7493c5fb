"""The scripting bridge: the only code that touches DaVinciResolveScript, run as a child process
(`python -m proxx_resolve.bridge`) so that a hang or a crash inside Resolve's scripting library
can never hang or crash a proxx worker: the parent enforces the deadline and kills this process.

Standard library only, so it starts fast. Protocol: JSON lines. The parent writes one request on
stdin, then answers what the bridge asks; the bridge writes events on its own copy of stdout
(fd 1 itself is pointed at stderr, so whatever the scripting library prints cannot corrupt the
protocol). Policy (edition, version, settings) lives in the parent; the bridge only executes.

Requests: {"op": "probe"}, {"op": "render", ...}, {"op": "cleanup", "project": ..., "job_id": ...}.
Events: connected, clip, job, progress, log, done, failed (see the parent, proxx_resolve.client).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import IO, Any

# JobStatus values as observed (the README documents GetRenderJobStatus, not its values).
RENDERING = "Rendering"
FINISHED = "Complete"
STOPPED = ("Failed", "Cancelled")
KNOWN = frozenset({RENDERING, FINISHED, *STOPPED, "Ready"})  # Ready: queued, not started


class BridgeFailure(Exception):
    def __init__(self, reason: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.details = details


class Channel:
    def __init__(self, out: IO[str], inp: IO[str]) -> None:
        self.out = out
        self.inp = inp

    def send(self, event: str, **fields: Any) -> None:
        self.out.write(json.dumps({"event": event, **fields}) + "\n")
        self.out.flush()

    def log(self, message: str) -> None:
        self.send("log", message=message)

    def receive(self) -> dict[str, Any]:
        line = self.inp.readline()
        if not line:
            raise BridgeFailure("parent_gone", "the worker closed the bridge")
        message: dict[str, Any] = json.loads(line)
        return message


def connect(request: dict[str, Any]) -> Any:
    for folder in reversed(request.get("module_dirs", [])):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        import DaVinciResolveScript  # type: ignore[import-not-found]
    except Exception as error:  # the real module raises plain Exceptions when fusionscript fails to load
        raise BridgeFailure(
            "module_missing", f"DaVinciResolveScript could not be imported: {type(error).__name__}: {error}"
        ) from error
    resolve = DaVinciResolveScript.scriptapp("Resolve")
    if resolve is None:
        raise BridgeFailure("not_running", "no DaVinci Resolve answered the scripting API")
    return resolve


def describe(resolve: Any) -> dict[str, Any]:
    version = resolve.GetVersion() or []
    return {
        "product": str(resolve.GetProductName() or ""),
        "version": [v if isinstance(v, int) else str(v) for v in version],
        "version_text": str(resolve.GetVersionString() or ""),
    }


def render(request: dict[str, Any], channel: Channel) -> None:
    started = time.monotonic()
    resolve = connect(request)
    channel.send("connected", **describe(resolve))
    manager = resolve.GetProjectManager()
    name = request["project"]
    # In connect mode an operator may have a project open: it is reopened after ours is deleted.
    current = manager.GetCurrentProject()
    previous = str(current.GetName() or "") if current else ""
    project = manager.CreateProject(name)
    if not project:
        raise BridgeFailure("project_failed", f"Resolve could not create the project '{name}'")
    channel.send("project", previous=previous)
    job_id = ""
    try:
        media_pool = project.GetMediaPool()
        items = media_pool.ImportMedia([request["source"]]) or []
        if len(items) != 1:
            raise BridgeFailure("import_failed", f"Resolve could not import '{request['source']}'")
        item = items[0]
        properties = item.GetClipProperty() or {}
        channel.send("clip", properties={k: str(v) for k, v in properties.items()})
        plan = channel.receive()
        if plan.get("op") != "settings":
            raise BridgeFailure("aborted", plan.get("message", "the worker aborted the render"))
        job_id = set_up_render(project, media_pool, item, plan, request["timeline"], channel)
        channel.send("job", job_id=job_id)
        # The README documents StartRendering(jobId1, jobId2, ...) and StartRendering([jobIds...],
        # isInteractiveMode=False). The second form, StartRendering([job_id], isInteractiveMode=False),
        # has been reported to hang Resolve (reads still answered, setters returned None, as when a
        # modal dialog waits in the GUI); the first, positional form has rendered without that.
        if not project.StartRendering(job_id):
            raise BridgeFailure("render_failed", "StartRendering returned False")
        status = follow(project, job_id, {**request, **plan}, started, channel)
    finally:
        clean_up(manager, project, name, job_id, channel, previous)
    channel.send("done", status=status)  # only now: the parent stops the bridge on this last word


def set_up_render(
    project: Any, media_pool: Any, item: Any, plan: dict[str, Any], timeline: str, channel: Channel
) -> str:
    # The timeline takes the project's settings when it is created: set them first. Only
    # timelineFrameRate is a key the README names; the resolution keys are the ones scripts use in
    # practice, and timelinePlaybackFrameRate is refused by some Resolves (one public script expects
    # that): the timeline rate then comes from timelineFrameRate alone.
    for key, value in (
        ("timelineResolutionWidth", str(plan["timeline_width"])),
        ("timelineResolutionHeight", str(plan["timeline_height"])),
        ("timelineFrameRate", plan["frame_rate"]),
    ):
        if not project.SetSetting(key, value):
            raise BridgeFailure("settings_refused", f"Resolve refused the project setting {key}={value}")
    if not project.SetSetting("timelinePlaybackFrameRate", plan["frame_rate"]):
        channel.log(
            f"Resolve refused the project setting timelinePlaybackFrameRate={plan['frame_rate']}; "
            f"the timeline rate is the documented timelineFrameRate={plan['frame_rate']} alone"
        )
    created = media_pool.CreateTimelineFromClips(timeline, [item])
    if not created:
        raise BridgeFailure("timeline_failed", "Resolve could not create a timeline from the clip")
    if not project.SetCurrentTimeline(created):
        raise BridgeFailure(
            "timeline_failed", "Resolve refused to make the clip's timeline current (SetCurrentTimeline)"
        )
    if plan.get("start_timecode") and not created.SetStartTimecode(plan["start_timecode"]):
        raise BridgeFailure("settings_refused", f"Resolve refused the timeline start timecode {plan['start_timecode']}")
    if not project.SetCurrentRenderMode(1):  # single clip: the whole timeline into one file
        raise BridgeFailure("settings_refused", "Resolve refused the single clip render mode (SetCurrentRenderMode(1))")
    fmt = render_format(project.GetRenderFormats() or {}, plan["render_format"])
    codec = plan["render_codec"]
    codecs = project.GetRenderCodecs(fmt) or {}
    if codec not in codecs.values():
        raise BridgeFailure("settings_refused", f"this Resolve has no render codec '{codec}' for format '{fmt}'")
    if not project.SetCurrentRenderFormatAndCodec(fmt, codec):
        raise BridgeFailure("settings_refused", f"Resolve refused render format '{fmt}' with codec '{codec}'")
    settings = plan["settings"]
    if not project.SetRenderSettings(settings):
        # All-or-nothing and silent: set the keys one at a time to name the one it refuses.
        refused = [key for key, value in settings.items() if not project.SetRenderSettings({key: value})]
        named = ", ".join(refused) or "none individually (only their combination)"
        raise BridgeFailure("settings_refused", f"Resolve refused the render settings: {named}")
    job_id = project.AddRenderJob()
    if not job_id:
        # Resolve gives no reason; in the GUI it shows "Render Path Inaccessible" when TargetDir is
        # outside its Media Storage volumes, the one cause seen in practice.
        raise BridgeFailure(
            "render_failed",
            f"AddRenderJob returned no job id: Resolve would not render into {settings.get('TargetDir')}, "
            "most likely because that folder is outside Resolve's Media Storage volumes or Resolve may not "
            "write it; set PROXX_RESOLVE_RENDER_DIR to a folder Resolve can render into",
        )
    channel.log(f"render job {job_id}: {fmt}/{codec} {settings}")
    return str(job_id)


def render_format(formats: dict[str, Any], wanted: str) -> str:
    """The format identifier to pass for `wanted`. The README calls GetRenderFormats() a dict of
    "format -> file extension"; the identifiers SetCurrentRenderFormatAndCodec accepts have in
    practice been its values ("mov", "mxf_op1a"). Both are accepted, values first."""
    if wanted in formats.values() or wanted in formats:
        return wanted
    raise BridgeFailure(
        "settings_refused",
        f"this Resolve has no render format '{wanted}': GetRenderFormats() returned {json.dumps(formats)}",
    )


def follow(project: Any, job_id: str, request: dict[str, Any], started: float, channel: Channel) -> dict[str, Any]:
    """Poll until the job finishes; give up at the deadline, or when the job has been neither
    rendering nor finished for `stall_seconds`.

    The status keys and JobStatus values are community knowledge, not documentation: a value not
    known here, or a missing key, means "still working" until the stall deadline, and the raw
    dictionary is logged (each time it changes)."""
    deadline, poll, stall = (float(request[k]) for k in ("deadline_seconds", "poll_seconds", "stall_seconds"))
    last_active = time.monotonic()
    last_logged: dict[str, Any] | None = None
    while True:
        status = dict(project.GetRenderJobStatus(job_id) or {})
        state = str(status.get("JobStatus", ""))
        now = time.monotonic()
        if state == FINISHED:
            channel.send("progress", fraction=1.0)
            return status
        if state in STOPPED:
            raise BridgeFailure("render_failed", str(status.get("Error") or f"render job {state.lower()}"))
        if state not in KNOWN and status != last_logged:
            channel.log(f"render job {job_id}: status not understood, taken as still working: {json.dumps(status)}")
            last_logged = status
        if state == RENDERING or project.IsRenderingInProgress():
            last_active = now
            percent = status.get("CompletionPercentage")
            if isinstance(percent, int | float):
                channel.send("progress", fraction=max(0.0, min(1.0, percent / 100)))
        elif now - last_active > stall:
            raise BridgeFailure(
                "render_failed",
                f"the render job has been neither rendering nor finished for {stall:g} seconds "
                f"(status {json.dumps(status)})",
            )
        if now - started > deadline:
            raise BridgeFailure("timeout", "deadline passed")
        time.sleep(poll)


def clean_up(manager: Any, project: Any, name: str, job_id: str, channel: Channel, reopen: str = "") -> None:
    """Always leave Resolve as found: no render job, no project of ours, the operator's project open."""
    steps = []
    if project.IsRenderingInProgress():
        steps.append(("StopRendering", project.StopRendering))
    if job_id:
        steps.append(("DeleteRenderJob", lambda: project.DeleteRenderJob(job_id)))
    steps.append(("CloseProject", lambda: manager.CloseProject(project)))
    steps.append(("DeleteProject", lambda: manager.DeleteProject(name)))
    if reopen and reopen != name:
        steps.append((f"LoadProject {reopen}", lambda: bool(manager.LoadProject(reopen))))
    for what, step in steps:
        try:
            ok = step()
        except Exception as error:
            channel.log(f"cleanup {what} raised {type(error).__name__}: {error}")
            continue
        if ok is False:
            channel.log(f"cleanup {what} returned False")


def cleanup_after_kill(request: dict[str, Any], channel: Channel) -> None:
    """After the parent killed a hung or crashed bridge: delete what that bridge left behind."""
    resolve = connect(request)
    manager = resolve.GetProjectManager()
    project = manager.GetCurrentProject()
    if project and project.GetName() == request["project"]:
        clean_up(manager, project, request["project"], request.get("job_id", ""), channel, request.get("reopen", ""))
    elif request["project"] in (manager.GetProjectListInCurrentFolder() or []) and not manager.DeleteProject(
        request["project"]
    ):
        channel.log(f"cleanup DeleteProject {request['project']} returned False")
    channel.send("done", status={})


def main() -> int:
    # Keep the protocol on a private descriptor; the library's own prints go to stderr.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    channel = Channel(protocol, sys.stdin)
    try:
        request = channel.receive()
        op = request.get("op")
        if op == "probe":
            channel.send("connected", **describe(connect(request)))
            channel.send("done", status={})
        elif op == "render":
            render(request, channel)
        elif op == "cleanup":
            cleanup_after_kill(request, channel)
        else:
            raise BridgeFailure("bad_request", f"unknown op {op!r}")
    except BridgeFailure as failure:
        channel.send("failed", reason=failure.reason, message=failure.message)
        return 1
    except Exception as error:  # the scripting library's own errors: report them, never a traceback only
        import traceback

        traceback.print_exc()
        channel.send("failed", reason="bridge_error", message=f"{type(error).__name__}: {error}")
        return 1
    finally:
        with contextlib.suppress(OSError):
            protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
