"""The records hooks yield that are not part of the job flow: CLI commands and integrator lookups."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import argparse


@attrs.frozen
class Command:
    """A `proxx` subcommand a plugin adds, yielded by the `proxx_subcommands` hook.

    Fields:
      name: the subcommand (`proxx <name> ...`); it must not clash with a built-in one or another
        plugin's.
      help: one line for `proxx --help`.
      configure: called with the subcommand's own `argparse.ArgumentParser` to add its arguments
        (nested subcommands may each set a default of their own, say `fabric_handler`, for `run`
        to dispatch on; `handler` is proxx's).
      run: called with the parsed arguments; returns the exit code.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


@attrs.frozen
class WebLookup:
    """An integrator lookup `proxx serve` exposes at `/api/integrator/lookup/{name}/{key}`, yielded
    by the `proxx_web_lookups` hook.

    Fields:
      name: the lookup's name in the URL (e.g. "fabric").
      lookup: called with the key from the URL; returns a JSON-able mapping, or None when the key is
        unknown (the endpoint then answers 404).
      summary: one line describing what the key is and what comes back.
    """

    name: str
    lookup: Callable[[str], Mapping[str, Any] | None]
    summary: str = ""
