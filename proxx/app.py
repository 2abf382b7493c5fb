"""The Python API every shell (CLI, web, farm) drives: one object holding the loaded plugins, the
layered profile repository and the installed engines."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import attrs
import pluggy

from proxx.compile.compiler import Compiled
from proxx.compile.repository import Repository, load_repository, profile_paths_from_env
from proxx.compile.select import IntentStatus, intent_statuses, select
from proxx.execute.engine import Engine
from proxx.plugins import engines, plugin_canonical_paths, plugin_manager
from proxx.resources import bundled_profiles_dir


def repository_layers(
    pm: pluggy.PluginManager, profiles: Sequence[Path] = (), bundled: bool | None = None
) -> list[Path]:
    """The layers in the order they are read (a later layer's intent wins over an earlier one):
    the bundled repository, plugins' canonical profiles, PROXX_PROFILES, then `profiles`.
    The bundled repository is left out when `bundled` is False or PROXX_BUNDLED_PROFILES=0."""
    if bundled is None:
        bundled = os.environ.get("PROXX_BUNDLED_PROFILES", "1") != "0"
    layers = [bundled_profiles_dir()] if bundled else []
    return [*layers, *plugin_canonical_paths(pm), *profile_paths_from_env(), *profiles]


@attrs.define
class Proxx:
    plugin_manager: pluggy.PluginManager
    repository: Repository
    engines: dict[str, Engine]

    @classmethod
    def open(
        cls,
        profiles: Sequence[Path] = (),
        bundled: bool | None = None,
        pm: pluggy.PluginManager | None = None,
    ) -> Proxx:
        pm = pm or plugin_manager()
        installed = engines(pm)
        return cls(pm, load_repository(repository_layers(pm, profiles, bundled)), installed)

    def intents(self) -> list[IntentStatus]:
        """Every intent with its computed lifecycle; operators may choose the selectable ones."""
        return intent_statuses(self.repository, self.engines)

    def select(self, name: str) -> Compiled:
        """Compile the intent an operator chose, or raise a class A `PreJobError`."""
        return select(self.repository, name, self.engines)
