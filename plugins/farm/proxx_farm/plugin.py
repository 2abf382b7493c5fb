"""The render farm plugin: its dispatcher (where `proxx submit --farm`, watch folders and the JobSpec
inbox send jobs) and the `proxx farm worker` command. Celery and Redis load only when used."""

from __future__ import annotations

from collections.abc import Iterator

from proxx.plugin import Command, Dispatcher, hookimpl

PROXX_PLUGIN_API = "1.2"


@hookimpl
def proxx_dispatchers() -> Iterator[Dispatcher]:
    from proxx_farm.dispatch import FarmDispatcher

    yield FarmDispatcher()


@hookimpl
def proxx_subcommands() -> Iterator[Command]:
    from proxx_farm.cli import COMMAND

    yield COMMAND
