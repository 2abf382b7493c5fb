"""proxx: named proxy intents compiled into verified proxy media.

This module is the integrators' API: `Proxx` (open, intents, create_job, submit, run_job, job,
result, cancel, retry; docs/integrating.md) and the records and errors it hands out. Plugin authors
import `proxx.plugin` (the hook contract) and, in their tests, `proxx.testing`.

The public names below load on first use (PEP 562), so that `import proxx.cli` pays only for the
modules it touches: start-up time is part of every `proxx run`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxx.lazy import lazy_names

if TYPE_CHECKING:  # the same names and the deprecated ones, for type checkers (`X as X`: a re-export)
    from proxx.app import Proxx as Proxx
    from proxx.compile.compiler import Compiled as Compiled
    from proxx.compile.compiler import Definition as Definition
    from proxx.compile.compiler import compile_profile as compile_profile
    from proxx.compile.problems import Location as Location
    from proxx.compile.problems import Problem as Problem
    from proxx.compile.profiles import CanonicalProfile as CanonicalProfile
    from proxx.compile.profiles import Constraints as Constraints
    from proxx.compile.profiles import Lifecycle as Lifecycle
    from proxx.compile.profiles import Naming as Naming
    from proxx.compile.profiles import Registry as Registry
    from proxx.compile.profiles import UserProfile as UserProfile
    from proxx.compile.repository import Repository as Repository
    from proxx.compile.repository import load_repository as load_repository
    from proxx.compile.select import IntentStatus as IntentStatus
    from proxx.errors import ConfigurationError as ConfigurationError
    from proxx.errors import ExecutionError as ExecutionError
    from proxx.errors import FailureClass as FailureClass
    from proxx.errors import JobValidationError as JobValidationError
    from proxx.errors import PreJobError as PreJobError
    from proxx.errors import ProxxError as ProxxError
    from proxx.execute.engine import Availability as Availability
    from proxx.execute.engine import Engine as Engine
    from proxx.execute.progress import Progress as Progress
    from proxx.hookspecs import hookimpl as hookimpl
    from proxx.jobspec.model import ClipSpec as ClipSpec
    from proxx.jobspec.model import JobSpec as JobSpec
    from proxx.jobspec.model import Origin as Origin
    from proxx.jobspec.model import SourceFile as SourceFile
    from proxx.jobspec.rerun import Proxied as Proxied
    from proxx.jobspec.sources import Expansion as Expansion
    from proxx.jobspec.sources import NothingMissing as NothingMissing
    from proxx.jobspec.sources import Skipped as Skipped
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
    from proxx.roots import Roots as Roots
    from proxx.store import COMPLETED as COMPLETED
    from proxx.store import FAILED as FAILED
    from proxx.store import QUEUED as QUEUED
    from proxx.store import RUNNING as RUNNING
    from proxx.store import JobRow as JobRow
    from proxx.store import JobState as JobState
    from proxx.verify.checks import Check as Check
    from proxx.verify.facts import ClipFacts as ClipFacts

_MODULE_OF = {
    "Proxx": "proxx.app",
    "Compiled": "proxx.compile.compiler",
    "Definition": "proxx.compile.compiler",
    "compile_profile": "proxx.compile.compiler",
    "CanonicalProfile": "proxx.compile.profiles",
    "Constraints": "proxx.compile.profiles",
    "Lifecycle": "proxx.compile.profiles",
    "Registry": "proxx.compile.profiles",
    "UserProfile": "proxx.compile.profiles",
    "Problem": "proxx.compile.problems",
    "Repository": "proxx.compile.repository",
    "load_repository": "proxx.compile.repository",
    "ConfigurationError": "proxx.errors",
    "ExecutionError": "proxx.errors",
    "FailureClass": "proxx.errors",
    "JobValidationError": "proxx.errors",
    "PreJobError": "proxx.errors",
    "ProxxError": "proxx.errors",
    "Progress": "proxx.execute.progress",
    "Location": "proxx.compile.problems",
    "Naming": "proxx.compile.profiles",
    "Origin": "proxx.jobspec.model",
    "EngineRun": "proxx.result",
    "ExportOutcome": "proxx.result",
    "Failure": "proxx.result",
    "Reused": "proxx.result",
    "Check": "proxx.verify.checks",
    "ClipSpec": "proxx.jobspec.model",
    "JobSpec": "proxx.jobspec.model",
    "Expansion": "proxx.jobspec.sources",
    "SourceFile": "proxx.jobspec.model",
    "Proxied": "proxx.jobspec.rerun",
    "Skipped": "proxx.jobspec.sources",
    "NothingMissing": "proxx.jobspec.sources",
    "ClipResult": "proxx.result",
    "ClipState": "proxx.result",
    "JobResult": "proxx.result",
    "JobRow": "proxx.store",
    "JobState": "proxx.store",
    "IntentStatus": "proxx.compile.select",
    "ClipFacts": "proxx.verify.facts",
    "Roots": "proxx.roots",
}

__all__ = sorted(_MODULE_OF)


# Names leaving this module: the plugin contract's names, here before it had a module of its own, and
# the states as constants. They import, with a ProxxDeprecationWarning, until plugin API 2.0.
_DEPRECATED = {
    "Availability": ("proxx.execute.engine", "proxx.plugin.Availability"),
    "Engine": ("proxx.execute.engine", "proxx.plugin.Engine"),
    "hookimpl": ("proxx.hookspecs", "proxx.plugin.hookimpl"),
    # states as str enums: one name per kind of state
    "CLIP_COMPLETED": ("proxx.result", "ClipState.COMPLETED"),
    "CLIP_FAILED": ("proxx.result", "ClipState.FAILED"),
    "CLIP_NOT_RUN": ("proxx.result", "ClipState.NOT_RUN"),
    "COMPLETED": ("proxx.store", "JobState.COMPLETED"),
    "FAILED": ("proxx.store", "JobState.FAILED"),
    "QUEUED": ("proxx.store", "JobState.QUEUED"),
    "RUNNING": ("proxx.store", "JobState.RUNNING"),
}

__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF, _DEPRECATED)
