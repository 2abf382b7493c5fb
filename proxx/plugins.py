"""The one PluginManager. Plugins, built-in or a studio's, load from the `proxx` entry-point group.

Environment:
  PROXX_LOAD_PLUGINS   comma-separated allow-list of entry-point names to load; set but empty loads
                       only the core (no engine at all).
  PROXX_TRACE_PLUGINS  any non-empty value logs every hook call with its arguments and results to
                       the `proxx.plugins` logger (stderr by default).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pluggy

from proxx import hookspecs
from proxx.errors import ConfigurationError
from proxx.execute.engine import Engine

ENTRY_POINT_GROUP = "proxx"
log = logging.getLogger("proxx.plugins")


@attrs.frozen
class EntryPoint:
    """One `[proxx]` entry point of an installed distribution."""

    name: str
    value: str  # "package.module:attribute", optionally followed by "[extras]"
    metadata: Path  # the distribution's .dist-info or .egg-info folder

    def load(self) -> object:
        match = _ENTRY_POINT_VALUE.match(self.value)
        if match is None:
            raise ValueError(f"'{self.value}' is not 'module:attribute'")
        loaded: object = importlib.import_module(match["module"])
        for attribute in filter(None, (match["attribute"] or "").split(".")):
            loaded = getattr(loaded, attribute)
        return loaded

    def distribution(self) -> tuple[str, str]:
        """(name, version) from the distribution's core metadata headers."""
        headers: dict[str, str] = {}
        for file_name in ("METADATA", "PKG-INFO"):
            try:
                text = (self.metadata / file_name).read_text(encoding="utf-8")
            except OSError:
                continue
            for line in text.splitlines():
                if not line.strip():
                    break  # the body (a long description) starts after the first blank line
                key, _, value = line.partition(":")
                headers.setdefault(key.strip().lower(), value.strip())
            break
        return headers.get("name", self.metadata.name.partition("-")[0]), headers.get("version", "")


_ENTRY_POINT_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attribute>[\w.]+)\s*)?(\[.*\])?\s*$")
_METADATA_FOLDER = re.compile(r"^(?P<name>[^-]+?)(-.*)?\.(dist|egg)-info$", re.IGNORECASE)


def entry_points(group: str = ENTRY_POINT_GROUP) -> list[EntryPoint]:
    """The entry points of `group` in every distribution on sys.path, by name; the first
    distribution of a name on sys.path wins, as with importlib.metadata.

    Why not importlib.metadata: importing it costs ~30 ms on Python 3.11 (it pulls in email,
    zipfile and csv), a sixth of a `proxx run` on a short clip. Distributions inside zip files are
    not read; tests/test_plugins.py checks the answer equals importlib.metadata's here.
    """
    seen: set[str] = set()
    found: dict[str, EntryPoint] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = _METADATA_FOLDER.match(name)
            if match is None:
                continue
            key = re.sub(r"[-_.]+", "_", match["name"]).lower()
            if key in seen:
                continue
            seen.add(key)
            try:
                text = (folder / name / "entry_points.txt").read_text(encoding="utf-8")
            except OSError:
                continue
            section = None
            for line in text.splitlines():
                line = line.strip()
                if not line or line[0] in "#;":
                    continue
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif section == group:
                    ep_name, _, value = line.partition("=")
                    found.setdefault(ep_name.strip(), EntryPoint(ep_name.strip(), value.strip(), folder / name))
    return [found[name] for name in sorted(found)]


def _plugin_name(pm: pluggy.PluginManager, plugin: object) -> str:
    return pm.get_name(plugin) or repr(plugin)


def _check(pm: pluggy.PluginManager) -> None:
    """Fail loudly on a hook implementation whose name matches no spec (a misspelled hook)."""
    known = sorted(name for name in dir(hookspecs) if name.startswith("proxx_"))
    for name in pm.hook.__dict__:
        caller = getattr(pm.hook, name)
        if caller.spec is None:
            owners = ", ".join(sorted(impl.plugin_name for impl in caller.get_hookimpls()))
            raise ConfigurationError(
                "unknown_hook",
                f"Plugin {owners} implements '{name}', which is not a proxx hook; known hooks: {', '.join(known)}.",
                {"hook": name, "plugins": owners},
            )


def _trace(pm: pluggy.PluginManager) -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("proxx.plugins: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)

    def before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls)
        log.debug("call %s(%s) -> [%s]", hook_name, dict(kwargs), names)

    def after(outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        if outcome.exception is not None:
            log.debug("  %s raised %r", hook_name, outcome.exception)
            return
        # Hooks yield their records: drain generators into lists (callers take any iterable) so the
        # trace shows the records themselves rather than "<generator object ...>".
        result = outcome.get_result()
        if isinstance(result, list):
            result = [list(r) if isinstance(r, types.GeneratorType) else r for r in result]
            outcome.force_result(result)
        log.debug("  %s returned %r", hook_name, result)

    pm.add_hookcall_monitoring(before, after)


def _register(pm: pluggy.PluginManager, name: str, plugin: object) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as error:
        raise ConfigurationError(
            "invalid_plugin", f"Plugin '{name}' cannot be loaded: {error}", {"plugin": name}
        ) from error


def build_plugin_manager(extra: Mapping[str, object] | None = None) -> pluggy.PluginManager:
    """A fresh manager with the entry-point plugins (filtered by PROXX_LOAD_PLUGINS) and `extra`."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    allow = os.environ.get("PROXX_LOAD_PLUGINS")
    allowed = None if allow is None else {n.strip() for n in allow.split(",") if n.strip()}
    for ep in entry_points():
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.get_plugin(ep.name) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as error:  # a broken third-party plugin must not read as a proxx bug
            raise ConfigurationError(
                "plugin_import_failed",
                f"Plugin '{ep.name}' ({ep.value}) failed to import: {error}",
                {"plugin": ep.name},
            ) from error
        _register(pm, ep.name, plugin)
    for name, plugin in (extra or {}).items():
        _register(pm, name, plugin)
    _check(pm)
    if os.environ.get("PROXX_TRACE_PLUGINS"):
        _trace(pm)
    return pm


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager, built on first use."""
    return build_plugin_manager()


def _per_plugin(pm: pluggy.PluginManager, hook_name: str) -> list[tuple[str, list[Any]]]:
    """Call a hook one plugin at a time (through pluggy, so tracing sees it), in plugin-name order,
    returning each plugin's name with the records it gave."""
    impls = sorted(getattr(pm.hook, hook_name).get_hookimpls(), key=lambda i: i.plugin_name)
    results = []
    for impl in impls:
        others = [i.plugin for i in impls if i.plugin is not impl.plugin]
        (answer,) = pm.subset_hook_caller(hook_name, remove_plugins=others)() or [()]
        results.append((impl.plugin_name, list(answer or ())))
    return results


def collect(pm: pluggy.PluginManager, hook_name: str, name_of: Callable[[Any], str]) -> dict[str, tuple[str, Any]]:
    """Collect the named records a hook yields: {record name: (plugin name, record)}, sorted.

    A name claimed twice is a start-up error naming both plugins (conda's rule for named records).
    """
    kind = hook_name.removeprefix("proxx_").removesuffix("s")
    found: dict[str, tuple[str, Any]] = {}
    for owner, records in _per_plugin(pm, hook_name):
        for record in records:
            name = name_of(record)
            if name in found:
                raise ConfigurationError(
                    f"duplicate_{kind}",
                    f"Two plugins provide the {kind} '{name}': '{found[name][0]}' and '{owner}'. "
                    "Uninstall one, or leave one out with PROXX_LOAD_PLUGINS.",
                    {kind: name, "plugins": [found[name][0], owner]},
                )
            found[name] = (owner, record)
    return dict(sorted(found.items()))


def engines(pm: pluggy.PluginManager) -> dict[str, Engine]:
    """Installed engines by name."""
    return {name: engine for name, (_, engine) in collect(pm, "proxx_engines", _name).items()}


def engine_distribution(pm: pluggy.PluginManager, engine_name: str) -> tuple[str, str] | None:
    """(distribution name, version) of the installed package providing `engine_name`, or None when
    that plugin was not loaded from a distribution (registered in-process)."""
    found = collect(pm, "proxx_engines", _name).get(engine_name)
    if found is None:
        return None
    for ep in entry_points():
        if ep.name == found[0]:
            return ep.distribution()
    return None


def _name(record: Any) -> str:
    return str(record.name)


def plugin_canonical_paths(pm: pluggy.PluginManager) -> list[Path]:
    """Canonical profile files and folders shipped by plugins, in plugin-name order."""
    return [Path(p) for _, paths in _per_plugin(pm, "proxx_canonical_profiles") for p in paths]
