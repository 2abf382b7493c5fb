"""proxx: named proxy intents compiled into verified proxy media."""

from proxx.app import Proxx
from proxx.compile.compiler import Compiled, compile_profile
from proxx.compile.profiles import CanonicalProfile, Constraints, Lifecycle, Registry, UserProfile
from proxx.compile.repository import Problem, Repository, load_repository
from proxx.errors import (
    ConfigurationError,
    ExecutionError,
    FailureClass,
    JobValidationError,
    PreJobError,
    ProxxError,
)
from proxx.execute.engine import Availability, Engine
from proxx.hookspecs import hookimpl

__all__ = [
    "Availability",
    "CanonicalProfile",
    "Compiled",
    "ConfigurationError",
    "Constraints",
    "Engine",
    "ExecutionError",
    "FailureClass",
    "JobValidationError",
    "Lifecycle",
    "PreJobError",
    "Problem",
    "Proxx",
    "ProxxError",
    "Registry",
    "Repository",
    "UserProfile",
    "compile_profile",
    "hookimpl",
    "load_repository",
]
