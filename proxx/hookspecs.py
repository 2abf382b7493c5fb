"""Every proxx hook, in the order of the flow. Each docstring is that hook's documentation.

Implement a hook with the public marker::

    from proxx import hookimpl

    @hookimpl
    def proxx_engines():
        yield MyEngine()

and register the module on the `proxx` entry-point group in your plugin's pyproject::

    [project.entry-points.proxx]
    my_engine = "my_package.plugin"

The built-in plugins (ffmpeg, resolve, fabric) are separate distributions loaded exactly this way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from proxx.execute.engine import Engine

hookspec = pluggy.HookspecMarker("proxx")
hookimpl = pluggy.HookimplMarker("proxx")


@hookspec
def proxx_canonical_profiles() -> Iterable[Path]:
    """Compile: canonical profile files or folders this plugin ships.

    They join the canonical registry after the bundled repository and before a studio's own
    repositories. A plugin that brings an engine usually brings the canonical profiles that name it.
    A canonical id never changes meaning: a second, different definition of an id is a repository
    problem reported by `proxx validate`, and neither definition is used.
    """


@hookspec
def proxx_engines() -> Iterable[Engine]:
    """Execute: the engines this plugin provides, as `proxx.Engine` instances.

    An engine's `name` is what canonical profiles put in their `engine` field; it is the only thing
    that routes a job to an engine. Two plugins providing the same engine name is a start-up error
    naming both plugins. `Engine.availability()` must be cheap: it runs when profiles are listed and
    before every job.
    """
