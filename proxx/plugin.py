"""The public plugin API: everything an engine or exporter plugin may use, and nothing else is promised.

    from proxx.plugin import Engine, Availability, RenderTask, RenderReport, hookimpl

A plugin imports from this module, never from proxx's other modules: those change shape between
releases, these names follow `API_VERSION` (a plugin's command may drive proxx as integrators do,
through `proxx.Proxx`; its tests use `proxx.testing`). A plugin states the contract
it was built for with a module-level `PROXX_PLUGIN_API = "1.2"` in the module its entry point names;
proxx refuses, at load, a plugin built for a newer minor version or another major version.

The names load on first use (PEP 562), so that a plugin importing two of them pays for two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxx.lazy import lazy_names

#: The hook contract this proxx provides, "major.minor". A plugin built for X.Y works with every X.Z
#: where Z >= Y; a new major version is a break (hooks removed or changed incompatibly).
API_VERSION = "1.2"

if TYPE_CHECKING:  # the same names and the DEPRECATED ones, for type checkers (`X as X`: a re-export)
    from proxx.compile.profiles import CanonicalProfile as CanonicalProfile
    from proxx.compile.profiles import Naming as Naming
    from proxx.deprecated import colour_unconvertible as colour_unconvertible
    from proxx.deprecated import ffmpeg_colour_filters as ffmpeg_colour_filters
    from proxx.deprecated import ffmpeg_colour_options as ffmpeg_colour_options
    from proxx.deprecated import input_restrictions as input_restrictions
    from proxx.dispatch import Dispatcher as Dispatcher
    from proxx.errors import ConfigurationError as ConfigurationError
    from proxx.errors import ExecutionError as ExecutionError
    from proxx.errors import JobValidationError as JobValidationError
    from proxx.errors import ProxxError as ProxxError
    from proxx.execute.cancel import cancelled_error as cancelled_error
    from proxx.execute.engine import Availability as Availability
    from proxx.execute.engine import Engine as Engine
    from proxx.execute.engine import RenderReport as RenderReport
    from proxx.execute.engine import RenderTask as RenderTask
    from proxx.execute.engine import cannot_render as cannot_render
    from proxx.execute.process import ProcessRun as ProcessRun
    from proxx.execute.process import last_line as last_line
    from proxx.execute.process import run_process as run_process
    from proxx.execute.process import start_process as start_process
    from proxx.execute.process import stop_process as stop_process
    from proxx.export.exporter import Exporter as Exporter
    from proxx.home import proxx_home as proxx_home
    from proxx.home import write_json_atomically as write_json_atomically
    from proxx.hookrecords import Command as Command
    from proxx.hookrecords import WebLookup as WebLookup
    from proxx.hookspecs import hookimpl as hookimpl
    from proxx.jobspec.model import ClipSpec as ClipSpec
    from proxx.jobspec.model import JobSpec as JobSpec
    from proxx.jobspec.model import Origin as Origin
    from proxx.jobspec.model import utc_now as utc_now
    from proxx.jobview import JobStoreView as JobStoreView
    from proxx.lazy import ProxxDeprecationWarning as ProxxDeprecationWarning
    from proxx.media.colour import Colour as Colour
    from proxx.media.colour import ColourTarget as ColourTarget
    from proxx.media.colour import default_colour as default_colour
    from proxx.media.geometry import frame_size as frame_size
    from proxx.media.geometry import output_size as output_size
    from proxx.media.geometry import upright as upright
    from proxx.media.policy import AudioTarget as AudioTarget
    from proxx.media.policy import ProxyTarget as ProxyTarget
    from proxx.media.policy import proxy_target as proxy_target
    from proxx.media.policy import top_field_first as top_field_first
    from proxx.media.probe import AudioStream as AudioStream
    from proxx.media.probe import MediaInfo as MediaInfo
    from proxx.media.probe import ProbeError as ProbeError
    from proxx.media.probe import VideoStream as VideoStream
    from proxx.media.probe import file_url as file_url
    from proxx.media.probe import probe as probe
    from proxx.media.tools import Tool as Tool
    from proxx.media.tools import find_tool as find_tool
    from proxx.media.tools import require_tool as require_tool
    from proxx.names import safe as safe
    from proxx.result import CLIP_COMPLETED as CLIP_COMPLETED
    from proxx.result import CLIP_FAILED as CLIP_FAILED
    from proxx.result import CLIP_NOT_RUN as CLIP_NOT_RUN
    from proxx.result import ClipResult as ClipResult
    from proxx.result import ClipState as ClipState
    from proxx.result import EngineRun as EngineRun
    from proxx.result import ExportOutcome as ExportOutcome
    from proxx.result import Failure as Failure
    from proxx.result import JobResult as JobResult
    from proxx.result import Reused as Reused
    from proxx.result import load_result as load_result
    from proxx.settings import Settings as Settings
    from proxx.store import COMPLETED as COMPLETED
    from proxx.store import FAILED as FAILED
    from proxx.store import DigestMismatch as DigestMismatch
    from proxx.store import JobState as JobState
    from proxx.verify.checks import CHECK_NAMES as CHECK_NAMES
    from proxx.verify.checks import Check as Check
    from proxx.verify.facts import ClipFacts as ClipFacts
    from proxx.vocabulary import AudioPolicy as AudioPolicy
    from proxx.vocabulary import Codec as Codec
    from proxx.vocabulary import Container as Container

_MODULE_OF = {
    "ProxxDeprecationWarning": "proxx.lazy",
    "CanonicalProfile": "proxx.compile.profiles",
    "ConfigurationError": "proxx.errors",
    "ExecutionError": "proxx.errors",
    "JobValidationError": "proxx.errors",
    "ProxxError": "proxx.errors",
    "Availability": "proxx.execute.engine",
    "Engine": "proxx.execute.engine",
    "RenderReport": "proxx.execute.engine",
    "RenderTask": "proxx.execute.engine",
    "cancelled_error": "proxx.execute.cancel",
    "cannot_render": "proxx.execute.engine",
    "ProcessRun": "proxx.execute.process",
    "run_process": "proxx.execute.process",
    "start_process": "proxx.execute.process",
    "stop_process": "proxx.execute.process",
    "Exporter": "proxx.export.exporter",
    "Dispatcher": "proxx.dispatch",
    "proxx_home": "proxx.home",
    "Command": "proxx.hookrecords",
    "WebLookup": "proxx.hookrecords",
    "hookimpl": "proxx.hookspecs",
    "ClipSpec": "proxx.jobspec.model",
    "JobSpec": "proxx.jobspec.model",
    "Naming": "proxx.compile.profiles",
    "AudioTarget": "proxx.media.policy",
    "Origin": "proxx.jobspec.model",
    "Colour": "proxx.media.colour",
    "ColourTarget": "proxx.media.colour",
    "default_colour": "proxx.media.colour",
    "frame_size": "proxx.media.geometry",
    "output_size": "proxx.media.geometry",
    "upright": "proxx.media.geometry",
    "ProxyTarget": "proxx.media.policy",
    "proxy_target": "proxx.media.policy",
    "AudioStream": "proxx.media.probe",
    "MediaInfo": "proxx.media.probe",
    "ProbeError": "proxx.media.probe",
    "VideoStream": "proxx.media.probe",
    "probe": "proxx.media.probe",
    "Tool": "proxx.media.tools",
    "find_tool": "proxx.media.tools",
    "require_tool": "proxx.media.tools",
    "safe": "proxx.names",
    "ClipResult": "proxx.result",
    "ClipState": "proxx.result",
    "EngineRun": "proxx.result",
    "ExportOutcome": "proxx.result",
    "Failure": "proxx.result",
    "JobResult": "proxx.result",
    "Reused": "proxx.result",
    "load_result": "proxx.result",
    "JobState": "proxx.store",
    "Check": "proxx.verify.checks",
    "CHECK_NAMES": "proxx.verify.checks",
    "ClipFacts": "proxx.verify.facts",
    "AudioPolicy": "proxx.vocabulary",
    "Codec": "proxx.vocabulary",
    "Container": "proxx.vocabulary",
}


#: Names leaving the contract: name -> (where it lives until then, what to use instead). They import,
#: with a ProxxDeprecationWarning, until API 2.0; they are not in `__all__` nor in the reference.
_FFMPEG = "the FFmpeg plugin's proxx_ffmpeg.argv"
DEPRECATED = {
    "Settings": ("proxx.settings", "RenderTask.timeout, RenderTask.expected_duration and RenderTask.timeout_for()"),
    "write_json_atomically": ("proxx.home", "your own helper: a generic file helper is no plugin contract"),
    "input_restrictions": ("proxx.deprecated", f"{_FFMPEG}.input_options (MediaInfo.demuxer is the demuxer)"),
    "ffmpeg_colour_filters": ("proxx.deprecated", f"{_FFMPEG}.colour_filters"),
    "ffmpeg_colour_options": ("proxx.deprecated", f"{_FFMPEG}.colour_options"),
    "colour_unconvertible": ("proxx.deprecated", f"{_FFMPEG}.colour_unconvertible"),
    "file_url": ("proxx.media.probe", f"{_FFMPEG}.file_url"),
    "JobStoreView": ("proxx.jobview", "proxx.Proxx.spec(job_id) and proxx.Proxx.job(job_id)"),
    "DigestMismatch": ("proxx.store", "proxx.Proxx.spec(job_id), which raises PreJobError for an altered JobSpec"),
    "utc_now": ("proxx.jobspec.model", "your own helper: a generic helper is no plugin contract"),
    "top_field_first": ("proxx.media.policy", "ProxyTarget.top_field_first"),
    "last_line": ("proxx.execute.process", "run_process's own failure line (its failure_line argument)"),
    "CLIP_COMPLETED": ("proxx.result", "ClipState.COMPLETED"),
    "CLIP_FAILED": ("proxx.result", "ClipState.FAILED"),
    "CLIP_NOT_RUN": ("proxx.result", "ClipState.NOT_RUN"),
    "COMPLETED": ("proxx.store", "JobState.COMPLETED"),
    "FAILED": ("proxx.store", "JobState.FAILED"),
}

__all__ = sorted(["API_VERSION", *_MODULE_OF])


__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF, DEPRECATED)
