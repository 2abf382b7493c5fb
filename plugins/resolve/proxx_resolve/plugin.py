"""Registers the `resolve` engine."""

from __future__ import annotations

from collections.abc import Iterator

from proxx.plugin import Engine, hookimpl
from proxx_resolve.engine import ResolveEngine


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield ResolveEngine()
