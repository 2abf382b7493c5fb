"""A faithful fake of DaVinci Resolve Studio's scripting module, for the test suite only.

It implements the calls the proxx Resolve engine makes with the behaviour Resolve documents or has
been observed to have (docs/compatibility.md, section 6), and renders for real through ffmpeg so verification
runs on real files:

* `scriptapp("Resolve")` is None when no Resolve runs (or a free edition refuses external scripting);
* `SetRenderSettings` is all-or-nothing: one unknown or refused key and the call returns False and
  changes nothing; settings cannot be read back;
* `GetRenderJobStatus` returns JobStatus (Ready, Rendering, Complete, Failed, Cancelled),
  CompletionPercentage, EstimatedTimeRemainingInMs while rendering, TimeTakenToRenderInMs when
  complete, Error when failed;
* `StartRendering([job_id], isInteractiveMode=False)`, a documented form, hangs, as reported from the
  field; the positional `StartRendering(job_id)` works;
* the output timecode is the timeline's start timecode (01:00:00:00 unless set), not the source's;
* a project cannot be deleted while it is open; project names are unique (state shared by every
  process through a JSON file, as Resolve's database is).

Where the README leaves room, a test can make it behave otherwise (the plugin must cope): the two
Bool setters `SetCurrentTimeline` and `SetCurrentRenderMode` return False; `AddRenderJob` returns ""
when TargetDir is outside the Media Storage volumes (`render_volumes`), as Resolve does; a project
setting is refused (`refuse_settings`, e.g. the undocumented `timelinePlaybackFrameRate`);
`GetRenderFormats()` answers another dictionary (`render_formats`); the colour tags are ignored
(`ignore_colour_tags`: the render is tagged as the project's output space, "Same as Project"); the
render is made at another frame rate (`render_frame_rate`); and `GetRenderJobStatus` gives
an unknown JobStatus value (`status_unknown`) or omits keys (`status_omit`), for its first
`status_quirk_polls` calls (default: every call).

Controlled per test by the JSON file named in FAKE_RESOLVE_CONTROL (see plugins/resolve/tests/conftest.py).
Fake RAW: a file starting with FAKE_RAW_MAGIC followed by an ordinary clip, which ffprobe cannot
read but this "Resolve" decodes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from fractions import Fraction
from typing import Any

from proxx.plugin import MediaInfo, ProbeError, probe, require_tool

FAKE_RAW_MAGIC = b"FAKE-RAW-1\n"
RENDER_FORMATS = {"QuickTime": "mov", "MXF OP1A": "mxf_op1a", "MXF OP-Atom": "mxf", "MP4": "mp4"}
RENDER_CODECS = {
    "mov": {
        "Apple ProRes 422 Proxy": "ProRes422Proxy",
        "Apple ProRes 422 LT": "ProRes422LT",
        "Apple ProRes 422": "ProRes422",
        "Apple ProRes 422 HQ": "ProRes422HQ",
        "DNxHR LB": "DNxHRLB",
        "DNxHR SQ": "DNxHRSQ",
        "DNxHR HQ": "DNxHRHQ",
    },
    "mxf_op1a": {"DNxHR LB": "DNxHRLB", "DNxHR SQ": "DNxHRSQ", "DNxHR HQ": "DNxHRHQ", "DNxHR HQX": "DNxHRHQX"},
    "mxf": {"DNxHR LB": "DNxHRLB"},
    "mp4": {"H.264": "H264"},
}
VIDEO_ARGS = {
    "ProRes422Proxy": ["-c:v", "prores_aw", "-profile:v", "0", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"],
    "ProRes422LT": ["-c:v", "prores_aw", "-profile:v", "1", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"],
    "ProRes422": ["-c:v", "prores_aw", "-profile:v", "2", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"],
    "ProRes422HQ": ["-c:v", "prores_aw", "-profile:v", "3", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"],
    "DNxHRLB": ["-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"],
    "DNxHRSQ": ["-c:v", "dnxhd", "-profile:v", "dnxhr_sq", "-pix_fmt", "yuv422p"],
    "DNxHRHQ": ["-c:v", "dnxhd", "-profile:v", "dnxhr_hq", "-pix_fmt", "yuv422p"],
}
EXTENSIONS = {"mov": ".mov", "mxf_op1a": ".mxf", "mxf": ".mxf", "mp4": ".mp4"}
# The keys the Resolve scripting README documents for SetRenderSettings.
RENDER_SETTING_KEYS = frozenset(
    {
        "SelectAllFrames", "MarkIn", "MarkOut", "TargetDir", "CustomName", "UniqueFilenameStyle",
        "ExportVideo", "ExportAudio", "FormatWidth", "FormatHeight", "FrameRate", "PixelAspectRatio",
        "VideoQuality", "AudioCodec", "AudioBitDepth", "AudioSampleRate", "ColorSpaceTag", "GammaTag",
        "ExportAlpha", "EncodingProfile", "MultiPassEncode", "AlphaMode", "NetworkOptimization",
        "ClipStartFrame", "TimelineStartTimecode", "ReplaceExistingFilesInPlace",
    }
)  # fmt: skip
# The value types the README gives; a value of another type is refused like an unknown key.
SETTING_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("SelectAllFrames", "ExportVideo", "ExportAudio", "ExportAlpha", "MultiPassEncode"), (bool,)),
    **dict.fromkeys(("FormatWidth", "FormatHeight", "MarkIn", "MarkOut", "ClipStartFrame"), (int,)),
    "FrameRate": (int, float),
    **dict.fromkeys(
        (
            "TargetDir",
            "CustomName",
            "TimelineStartTimecode",
            "AudioCodec",
            "EncodingProfile",
            "ColorSpaceTag",
            "GammaTag",
        ),
        (str,),
    ),
}
TIMELINE_SETTINGS = ("timelineResolutionWidth", "timelineResolutionHeight", "timelineFrameRate")
# What the Deliver page's Color Space Tag and Gamma Tag write, as ffmpeg names them: (primaries,
# matrix) and transfer. "Same as Project" tags the project's output colour space, Rec.709 Gamma 2.4
# unless changed, which the ProRes header and colr atom state as BT.709.
COLOUR_SPACE_TAGS = {
    "Rec.709": ("bt709", "bt709"), "Rec.2020": ("bt2020", "bt2020nc"), "Rec.601 (525)": ("smpte170m", "smpte170m"),
    "Rec.601 (625)": ("bt470bg", "smpte170m"), "P3-D65": ("smpte432", "bt709"), "P3-DCI": ("smpte431", "bt709"),
    "Same as Project": ("bt709", "bt709"),
}  # fmt: skip
GAMMA_TAGS = {"Rec.709": "bt709", "ST2084": "smpte2084", "HLG": "arib-std-b67", "Same as Project": "bt709"}


def _control() -> dict[str, Any]:
    path = os.environ.get("FAKE_RESOLVE_CONTROL")
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        control: dict[str, Any] = json.load(handle)
    return control


def _state_path() -> str | None:
    return _control().get("state")


def _load_state() -> dict[str, Any]:
    path = _state_path()
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            state: dict[str, Any] = json.load(handle)
            return state
    opened = _control().get("open_project")  # an operator's project, open in Resolve
    return {"projects": [opened] if opened else [], "current": opened}


def _save_state(state: dict[str, Any]) -> None:
    path = _state_path()
    if not path:
        return
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(temporary, path)


def _hang_forever() -> None:
    while True:
        time.sleep(3600)


def _running(control: dict[str, Any]) -> bool:
    if control.get("running", True):
        return True
    pid_file = control.get("launched_pid_file")  # written by the fake Resolve executable
    if not pid_file or not os.path.exists(pid_file):
        return False
    with open(pid_file, encoding="utf-8") as handle:
        pid = int(handle.read().split()[0])
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def scriptapp(name: str) -> Resolve | None:
    control = _control()
    if name != "Resolve" or not _running(control):
        return None
    if control.get("hang") == "connect":  # a Resolve that is up but never answers
        _hang_forever()
    if control.get("refuse_scripting"):  # a free edition of 19.1+: external scripting refused
        return None
    return Resolve(control)


def _resolve_rate(text: str) -> Fraction:
    value = Fraction(str(text))
    for base in (24, 30, 48, 60, 120):
        if abs(value - Fraction(base * 1000, 1001)) < Fraction(1, 500):
            return Fraction(base * 1000, 1001)
    return value


def _rate_text(rate: Fraction) -> str:
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


class Resolve:
    def __init__(self, control: dict[str, Any]) -> None:
        self._control = control

    def GetProductName(self) -> str:
        return str(self._control.get("product", "DaVinci Resolve Studio"))

    def GetVersion(self) -> list[Any]:
        return list(self._control.get("version", [19, 1, 3, 7, ""]))

    def GetVersionString(self) -> str:
        major, minor, patch, build, *_ = [*self.GetVersion(), 0, 0, 0, 0]
        return f"{major}.{minor}.{patch}.{build}"

    def GetProjectManager(self) -> ProjectManager:
        return ProjectManager(self._control)


class ProjectManager:
    def __init__(self, control: dict[str, Any]) -> None:
        self._control = control

    def CreateProject(self, name: str) -> Project | None:
        state = _load_state()
        if name in state["projects"]:
            return None  # Resolve refuses a duplicate project name
        state["projects"].append(name)
        state["current"] = name
        _save_state(state)
        return Project(name, self._control)

    def GetCurrentProject(self) -> Project | None:
        current = _load_state()["current"]
        return Project(current, self._control) if current else None

    def GetProjectListInCurrentFolder(self) -> list[str]:
        return list(_load_state()["projects"])

    def CloseProject(self, project: Project) -> bool:
        state = _load_state()
        if state["current"] != project.GetName():
            return False
        state["current"] = None
        _save_state(state)
        return True

    def LoadProject(self, name: str) -> Project | None:
        state = _load_state()
        if name not in state["projects"]:
            return None
        state["current"] = name
        _save_state(state)
        return Project(name, self._control)

    def DeleteProject(self, name: str) -> bool:
        state = _load_state()
        if name not in state["projects"] or state["current"] == name:
            return False  # an open project cannot be deleted
        state["projects"].remove(name)
        _save_state(state)
        return True


class MediaPoolItem:
    def __init__(self, path: str, decoded: str, info: MediaInfo) -> None:
        self.path = path
        self.decoded = decoded  # what ffmpeg reads: the file itself, or the fake RAW's payload
        self.info = info

    def GetClipProperty(self, key: str | None = None) -> Any:
        video = self.info.video
        assert video is not None
        frames = video.nb_frames or round((video.duration or 0) * float(video.fps))
        properties = {
            "File Path": self.path,
            "Resolution": f"{video.width}x{video.height}",
            "FPS": float(f"{float(video.fps):.3f}"),
            "Frames": str(frames),
            "Start TC": self.info.timecode or "00:00:00:00",
            "Video Codec": "Fake RAW" if self.decoded != self.path else video.codec,
            "Audio Ch": str(sum(a.channels for a in self.info.audio)),
        }
        return properties if key is None else properties.get(key, "")


class Timeline:
    def __init__(self, name: str, item: MediaPoolItem, settings: dict[str, str]) -> None:
        self.name = name
        self.item = item
        self.settings = dict(settings)
        self.start_timecode = "01:00:00:00"  # Resolve's default timeline start

    def GetName(self) -> str:
        return self.name

    def GetStartTimecode(self) -> str:
        return self.start_timecode

    def SetStartTimecode(self, timecode: str) -> bool:
        parts = timecode.replace(";", ":").split(":")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            return False
        self.start_timecode = timecode
        return True


class MediaPool:
    def __init__(self, project: Project) -> None:
        self._project = project

    def ImportMedia(self, paths: list[str]) -> list[MediaPoolItem]:
        items = []
        for path in paths:
            decoded = path
            with open(path, "rb") as handle:
                head = handle.read(len(FAKE_RAW_MAGIC))
            if head == FAKE_RAW_MAGIC:  # "decode" the RAW: its payload is an ordinary clip
                scratch = os.path.dirname(os.environ["FAKE_RESOLVE_CONTROL"])
                decoded = os.path.join(scratch, f"decoded-{uuid.uuid4().hex[:8]}.mov")
                with open(path, "rb") as source, open(decoded, "wb") as payload:
                    source.seek(len(FAKE_RAW_MAGIC))
                    payload.write(source.read())
            try:
                info = probe(decoded)
            except ProbeError:
                continue  # Resolve skips what it cannot read
            if info.video is None:
                continue
            items.append(MediaPoolItem(path, decoded, info))
        return items

    def CreateTimelineFromClips(self, name: str, items: list[MediaPoolItem]) -> Timeline | None:
        if len(items) != 1:
            return None  # the fake models the one-clip timelines proxx makes
        timeline = Timeline(name, items[0], self._project.settings)
        self._project.timelines.append(timeline)
        self._project.current_timeline = timeline
        return timeline


class RenderJob:
    def __init__(self, job_id: str, timeline: Timeline, fmt: str, codec: str, settings: dict[str, Any]) -> None:
        self.job_id = job_id
        self.timeline = timeline
        self.format = fmt
        self.codec = codec
        self.settings = dict(settings)
        self.status = "Ready"
        self.percent = 0
        self.error = ""
        self.started = 0.0
        self.finished = 0.0
        self.process: subprocess.Popen[bytes] | None = None
        self.polls = 0  # GetRenderJobStatus calls so far

    def command(self) -> list[str]:
        ffmpeg = require_tool("ffmpeg")
        item = self.timeline.item
        source = item.info
        assert source.video is not None
        width = int(self.settings.get("FormatWidth") or self.timeline.settings["timelineResolutionWidth"])
        height = int(self.settings.get("FormatHeight") or self.timeline.settings["timelineResolutionHeight"])
        rate = _resolve_rate(str(self.settings.get("FrameRate") or self.timeline.settings["timelineFrameRate"]))
        rate = _resolve_rate(_control().get("render_frame_rate") or str(rate))  # a misbehaving render
        target = os.path.join(self.settings["TargetDir"], self.settings.get("CustomName") or self.timeline.name)
        args = [ffmpeg.path, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats",
                "-progress", "pipe:1", "-i", "file:" + item.decoded, "-map", "0:v:0"]  # fmt: skip
        filters = [f"scale={width}:{height}", "setsar=1"]
        if rate != source.video.fps:  # the timeline's rate wins, as in Resolve
            filters.append(f"fps={rate.numerator}/{rate.denominator}")
        # Video levels out, from the clip's own levels; tagged as the Deliver page's tags say.
        tagged = not _control().get("ignore_colour_tags")  # a Resolve that tags its project's space
        primaries, matrix = COLOUR_SPACE_TAGS[
            self.settings.get("ColorSpaceTag", "Same as Project") if tagged else "Same as Project"
        ]
        transfer = GAMMA_TAGS[self.settings.get("GammaTag", "Same as Project") if tagged else "Same as Project"]
        levels = "pc" if source.video.colour.range == "pc" else "tv"
        filters.append(f"scale=in_range={levels}:out_range=tv")
        filters.append(f"setparams=color_primaries={primaries}:color_trc={transfer}:colorspace={matrix}:range=tv")
        tags = ["-color_primaries", primaries, "-color_trc", transfer, "-colorspace", matrix, "-color_range", "tv"]
        args += ["-vf", ",".join(filters), *VIDEO_ARGS[self.codec], *tags]
        if self.settings.get("ExportAudio", True) and source.audio:
            args += ["-map", "0:a", "-c:a", "pcm_s24le"]
            if self.format.startswith("mxf"):
                args += ["-ar", "48000"]
        args += ["-timecode", self.timeline.start_timecode]
        container = "mxf" if self.format.startswith("mxf") else self.format
        return [*args, "-f", container, "file:" + target + EXTENSIONS[self.format]]

    def start(self, control: dict[str, Any]) -> None:
        self.started = time.monotonic()
        self.status = "Rendering"
        hang = control.get("hang")
        if hang == "rendering":
            self.percent = 5
            return  # stays Rendering until stopped
        if hang == "stalled":
            self.status = "Ready"  # never leaves the queue
            return
        if control.get("fail_render"):
            self.status, self.error = "Failed", str(control["fail_render"])
            return
        frames = int(self.timeline.item.GetClipProperty("Frames") or 1)
        self.process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._follow, args=(max(frames, 1),), daemon=True).start()

    def _follow(self, frames: int) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "frame" and value.isdigit():
                self.percent = min(99, int(value) * 100 // frames)
        code = self.process.wait()
        stderr = (self.process.stderr.read() if self.process.stderr else b"").decode("utf-8", "replace")
        if self.status == "Cancelled":
            return
        self.finished = time.monotonic()
        if code == 0:
            self.status, self.percent = "Complete", 100
        else:
            lines = [line for line in stderr.splitlines() if line.strip()]
            self.status, self.error = "Failed", lines[-1] if lines else f"encoder exited with code {code}"

    def stop(self) -> None:
        if self.status in ("Rendering", "Ready"):
            self.status = "Cancelled"
            if self.process and self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def report(self, control: dict[str, Any]) -> dict[str, Any]:
        status = self._report()
        self.polls += 1
        if self.polls <= control.get("status_quirk_polls", self.polls):
            if "status_unknown" in control:
                status["JobStatus"] = control["status_unknown"]
            for key in control.get("status_omit", ()):
                status.pop(key, None)
        return status

    def _report(self) -> dict[str, Any]:
        status: dict[str, Any] = {"JobStatus": self.status, "CompletionPercentage": self.percent}
        if self.status == "Rendering":
            elapsed = time.monotonic() - self.started
            done = max(self.percent, 1) / 100
            status["EstimatedTimeRemainingInMs"] = int(elapsed / done * (1 - done) * 1000)
        if self.status == "Complete":
            status["TimeTakenToRenderInMs"] = int((self.finished - self.started) * 1000)
        if self.status == "Failed":
            status["Error"] = self.error
        return status


class Project:
    def __init__(self, name: str, control: dict[str, Any]) -> None:
        self._name = name
        self._control = control
        self.settings = {"timelineResolutionWidth": "1920", "timelineResolutionHeight": "1080",
                         "timelineFrameRate": "24", "timelinePlaybackFrameRate": "24"}  # fmt: skip
        self.timelines: list[Timeline] = []
        self.current_timeline: Timeline | None = None
        self.render_format = ""
        self.render_codec = ""
        self.render_settings: dict[str, Any] = {}
        self.render_mode = 0
        self.jobs: dict[str, RenderJob] = {}

    def GetName(self) -> str:
        return self._name

    def GetMediaPool(self) -> MediaPool:
        return MediaPool(self)

    def SetSetting(self, key: str, value: str) -> bool:
        if key not in self.settings or key in self._control.get("refuse_settings", ()):
            return False
        if key in TIMELINE_SETTINGS and self.timelines:
            return False  # Resolve fixes the timeline format once a timeline exists
        self.settings[key] = str(value)
        return True

    def GetSetting(self, key: str) -> str:
        return self.settings.get(key, "")

    def SetCurrentTimeline(self, timeline: Timeline) -> bool:
        if self._control.get("refuse_current_timeline"):
            return False
        self.current_timeline = timeline
        return True

    def GetRenderFormats(self) -> dict[str, str]:
        return dict(self._control.get("render_formats", RENDER_FORMATS))

    def GetRenderCodecs(self, render_format: str) -> dict[str, str]:
        return dict(RENDER_CODECS.get(render_format, {}))

    def SetCurrentRenderFormatAndCodec(self, render_format: str, codec: str) -> bool:
        if codec not in RENDER_CODECS.get(render_format, {}).values():
            return False
        self.render_format, self.render_codec = render_format, codec
        return True

    def SetCurrentRenderMode(self, mode: int) -> bool:
        if self._control.get("refuse_render_mode"):
            return False
        self.render_mode = mode
        return mode in (0, 1)

    def SetRenderSettings(self, settings: dict[str, Any]) -> bool:
        refused = set(self._control.get("refuse_keys", ()))
        for key, value in settings.items():
            wrong_type = not isinstance(value, SETTING_TYPES.get(key, object)) or (
                isinstance(value, bool) and bool not in SETTING_TYPES.get(key, (bool,))
            )
            if key not in RENDER_SETTING_KEYS or key in refused or wrong_type:
                return False  # all-or-nothing, and no hint which key
        self.render_settings.update(settings)
        return True

    def AddRenderJob(self) -> str:
        if not self.current_timeline or not self.render_codec or "TargetDir" not in self.render_settings:
            return ""
        volumes = self._control.get("render_volumes")
        target = os.path.realpath(self.render_settings["TargetDir"])
        if volumes is not None and not any(target.startswith(os.path.realpath(v) + os.sep) for v in volumes):
            return ""  # "Render Path Inaccessible" in the GUI; scripts get no job id and no reason
        job_id = str(uuid.uuid4())
        self.jobs[job_id] = RenderJob(
            job_id, self.current_timeline, self.render_format, self.render_codec, self.render_settings
        )
        return job_id

    def GetRenderJobList(self) -> list[dict[str, Any]]:
        return [{"JobId": job.job_id, "TargetDir": job.settings.get("TargetDir")} for job in self.jobs.values()]

    def StartRendering(self, *job_ids: Any, **keywords: Any) -> bool:
        if "isInteractiveMode" in keywords:
            _hang_forever()  # reported from the field: StartRendering([job], isInteractiveMode=False) never returned
        if keywords:
            return False  # the README documents no other keyword
        control = _control()
        if control.get("crash") == "render":
            os.kill(os.getpid(), signal.SIGSEGV)  # the scripting library taking its host down
        if control.get("hang") == "call":
            _hang_forever()
        ids = [i for arg in job_ids for i in (arg if isinstance(arg, list) else [arg])]
        jobs = [self.jobs.get(str(i)) for i in ids] if ids else list(self.jobs.values())
        if not jobs or any(job is None for job in jobs):
            return False
        for job in jobs:
            assert job is not None
            job.start(control)
        return True

    def IsRenderingInProgress(self) -> bool:
        return any(job.status == "Rendering" for job in self.jobs.values())

    def StopRendering(self) -> None:
        for job in self.jobs.values():
            job.stop()

    def GetRenderJobStatus(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        return job.report(self._control) if job else {}

    def DeleteRenderJob(self, job_id: str) -> bool:
        job = self.jobs.get(job_id)
        if job is None or job.status == "Rendering":
            return False
        del self.jobs[job_id]
        return True
