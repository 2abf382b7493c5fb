"""The exit codes of every `proxx` command (documented in the README)."""

from __future__ import annotations

from proxx.errors import FailureClass

EXIT_INTERNAL = 1
EXIT_CONFIGURATION = 6
EXIT_FOR_CLASS = {FailureClass.PRE_JOB: 3, FailureClass.VALIDATION: 4, FailureClass.EXECUTION: 5}
