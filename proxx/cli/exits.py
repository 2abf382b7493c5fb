"""The exit codes of every `proxx` command (documented in the README)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any

from proxx.errors import FailureClass

EXIT_INTERNAL = 1
EXIT_CONFIGURATION = 6
EXIT_FOR_CLASS = {FailureClass.PRE_JOB: 3, FailureClass.VALIDATION: 4, FailureClass.EXECUTION: 5}


def failed_code(failure_class: str | None) -> int:
    """The exit code of a job (or a file) that failed in `failure_class` (1 when none is known)."""
    return EXIT_FOR_CLASS[FailureClass(failure_class)] if failure_class else 1


class OneIntent(argparse.Action):
    """`--profile NAME`, given once: an operator chooses ONE intent (the contract's single
    selection), so a second `--profile` is a usage error, never silently the last one."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if getattr(namespace, self.dest, None) not in (None, self.default):
            parser.error(f"{option_string} was given more than once: choose one intent")
        setattr(namespace, self.dest, values)


def whole(least: int, most: int) -> Callable[[str], int]:
    """An option's type: a whole number from `least` to `most`, else a usage error (a number past
    SQLite's, a negative count, were internal errors or taken as "all")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"{value} is not from {least} to {most}")
        return value

    return parse


def amount(least: float, most: float) -> Callable[[str], float]:
    """An option's type: a number (seconds, hours) from `least` to `most`, else a usage error ('nan'
    and 'inf' were internal errors, or a watch that never waited for a copy to settle)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not (math.isfinite(value) and least <= value <= most):
            raise argparse.ArgumentTypeError(f"{text} is not from {least:g} to {most:g}")
        return value

    return parse
