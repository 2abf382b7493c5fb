"""Registers the `resolve` engine."""

from __future__ import annotations

from collections.abc import Iterator

from proxx.plugin import Engine, hookimpl
from proxx_resolve.engine import ResolveEngine

PROXX_PLUGIN_API = "1.1"  # the plugin API (proxx.plugin.API_VERSION) this plugin was built for


@hookimpl
def proxx_engines() -> Iterator[Engine]:
    yield ResolveEngine()
