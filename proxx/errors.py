"""Typed errors. Every failure proxx reports carries a class, a reason, context and a message.

The three failure classes are those of the V2 contract:

* A (pre-job): the intent does not compile; no JobSpec exists.
* B (validation): a JobSpec exists but the job cannot start; nothing was executed.
* C (execution): the engine ran and failed, or its output failed verification.

`ConfigurationError` covers a broken installation or repository (a plugin conflict, an unreadable
profile file): something an administrator fixes, never an operator.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

CANCELLED = "cancelled by the operator"  # the reason of a cancelled job and of its cancelled clip
PROCESS_GONE = "its process is gone"  # why a job's worker on this host was found lost: its process ended

# The reasons of a clip's execution failure (class C) an engine may raise, each worded for operators
# in one place (`proxx.visibility.execution_message`); the engine's own message stays in the record.
ENGINE_FAILED = "engine_failed"  # the engine stopped with an error proxx cannot tell more about
SOURCE_DAMAGED = "source_damaged"  # the source could not be read past a point (context `read_up_to`, seconds)
OUTPUT_UNWRITABLE = "output_unwritable"  # the output folder could no longer be written
DISK_FULL = "disk_full"  # the output volume ran out of space
TIMEOUT = "timeout"  # the clip took longer than its timeout (context `timeout_seconds`)
ENGINE_UNAVAILABLE = "engine_unavailable"  # the engine went away (closed, not answering) during the job
SETTINGS_REFUSED = "settings_refused"  # the engine refused a setting the canonical profile needs


class FailureClass(enum.Enum):
    """The three failure classes: A before a job exists (the intent does not compile), B job
    validation (nothing ran), C execution (the engine failed, or its output failed verification)."""

    PRE_JOB = "A"
    VALIDATION = "B"
    EXECUTION = "C"

    @property
    def title(self) -> str:
        """The class in words ("job validation failure"), as operators read it."""
        return {
            "A": "pre-job failure",
            "B": "job validation failure",
            "C": "execution failure",
        }[self.value]


class ProxxError(Exception):
    """Base class: `reason` is a stable machine-readable slug, `message` the sentence for people."""

    failure_class: FailureClass | None = None

    def __init__(self, reason: str, message: str, context: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.context: dict[str, Any] = dict(context or {})

    def as_dict(self) -> dict[str, Any]:
        """The failure document the CLI prints with `--json` and the HTTP API answers: its
        `failure_class` letter (or None), `reason`, `message` and `context`."""
        return {
            "failure_class": self.failure_class.value if self.failure_class else None,
            "reason": self.reason,
            "message": self.message,
            "context": self.context,
        }


class PreJobError(ProxxError):
    """Class A: the selected intent cannot become a JobSpec."""

    failure_class: FailureClass | None = FailureClass.PRE_JOB


class JobStateError(PreJobError):
    """Not a failure of any class: what was asked does not apply to the job as it is now (cancel a
    job that already ended, retry one that is not FAILED or has nothing left to make). Nothing was
    created or changed. A `PreJobError` for this series' callers, who catch that; `failure_class`
    None (the CLI's exit 1, the web's 409)."""

    failure_class = None


class JobValidationError(ProxxError):
    """Class B: the JobSpec exists, but the job cannot start."""

    failure_class = FailureClass.VALIDATION


class ExecutionError(ProxxError):
    """Class C: the engine failed, timed out, or its output failed verification."""

    failure_class = FailureClass.EXECUTION


class ConfigurationError(ProxxError):
    """The installation or a repository is broken (plugin conflict, unreadable profile file)."""
