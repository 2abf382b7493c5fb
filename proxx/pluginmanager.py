"""The one PluginManager (internal: plugins import `proxx.plugin`, the contract). Plugins, built-in or
a studio's, load from the `proxx` entry-point group.

Environment:
  PROXX_LOAD_PLUGINS   comma-separated allow-list of entry-point names to load; set but empty loads
                       only the core (no engine at all).
  PROXX_TRACE_PLUGINS  any non-empty value logs every hook call with its arguments and results to
                       the `proxx.plugins` logger (stderr by default).
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from proxx import hookspecs, vocabulary
from proxx.compile.problems import Problem
from proxx.errors import ConfigurationError, ExecutionError, JobValidationError
from proxx.execute.engine import Engine
from proxx.plugin import API_VERSION

if TYPE_CHECKING:
    import argparse

    from proxx.dispatch import Dispatcher
    from proxx.export.exporter import Exporter
    from proxx.hookrecords import Command, WebLookup
    from proxx.jobspec.model import ClipSpec, JobSpec
    from proxx.media.probe import MediaInfo
    from proxx.result import Reused
    from proxx.verify.checks import Check

ENTRY_POINT_GROUP = "proxx"
log = logging.getLogger("proxx.plugins")  # the documented trace's name (docs/hooks.md), kept


def entry_points(group: str = ENTRY_POINT_GROUP) -> list[EntryPoint]:
    """The entry points of `group` of every installed distribution, by name; where two
    distributions declare one name, the first on sys.path wins."""
    found: dict[str, EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=group):
        found.setdefault(ep.name, ep)
    return [found[name] for name in sorted(found)]


class PluginAPIWarning(UserWarning):
    """A plugin does not say which plugin API (`proxx.plugin.API_VERSION`) it was built for."""


def _version(text: str) -> tuple[int, int] | None:
    major, _, minor = text.partition(".")
    return (int(major), int(minor or 0)) if major.isdigit() and (minor or "0").isdigit() else None


def check_plugin_api(name: str, plugin: object) -> None:
    """Refuse a plugin built for a plugin API this proxx does not provide: another major version, or
    a newer minor one (it may use hooks or records this proxx lacks). A plugin that declares nothing
    loads, with a `PluginAPIWarning`.

    The declaration is `PROXX_PLUGIN_API = "1.0"` on the registered object: a module-level constant
    in the module the entry point names, or an attribute of a plugin object."""
    declared = getattr(plugin, "PROXX_PLUGIN_API", None)
    if declared is None:
        warnings.warn(
            f"Plugin '{name}' does not declare the proxx plugin API it was built for; add "
            f'PROXX_PLUGIN_API = "{API_VERSION}" to it.',
            PluginAPIWarning,
            stacklevel=2,
        )
        return
    wanted, provided = _version(str(declared)), _version(API_VERSION)
    assert provided is not None
    if wanted is None or wanted[0] != provided[0] or wanted[1] > provided[1]:
        raise ConfigurationError(
            "plugin_api_mismatch",
            f"Plugin '{name}' was built for the proxx plugin API {declared}, but this proxx provides "
            f"{API_VERSION}. Install a version of the plugin made for proxx's API {API_VERSION}, or a proxx "
            "that provides the plugin's.",
            {"plugin": name, "plugin_api": str(declared), "proxx_api": API_VERSION},
        )


class PluginManager(pluggy.PluginManager):
    """proxx's plugin manager: every hook call goes through one of its typed methods, which call
    the plugins one at a time in plugin-name order (so a record can be traced to its plugin) and
    collect named records, refusing a name two plugins claim."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.add_hookspecs(hookspecs)
        self.loaded_entry_points: list[EntryPoint] = []  # the installed plugins it loaded
        self._owners: dict[int, tuple[object, str]] = {}  # id(record): (record, the plugin that yielded it)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """pluggy's `register`, and the plugin's vocabulary declared (hook `proxx_vocabulary`): once,
        when it is registered, however the plugin arrives (an entry point, `register_plugin`, a test)."""
        registered = super().register(plugin, name)
        if registered is not None and self.hook.proxx_vocabulary.get_hookimpls():
            others = [p for p in self.get_plugins() if p is not plugin]
            try:
                answers = self.subset_hook_caller("proxx_vocabulary", remove_plugins=others)()
                vocabulary.declare((registered, term) for terms in answers for term in terms or ())
            except BaseException:
                self.unregister(name=registered)  # a plugin whose terms are refused is not half loaded
                raise
        return registered

    def register_plugin(self, name: str, plugin: object) -> None:
        """Register `plugin` as `name` after checking the plugin API it was built for."""
        check_plugin_api(name, plugin)
        try:
            self.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as error:
            raise ConfigurationError(
                "invalid_plugin", f"Plugin '{name}' cannot be loaded: {error}", {"plugin": name}
            ) from error

    def check_pending(self) -> None:
        """Fail loudly on a hook implementation whose name matches no spec (a misspelled hook)."""
        known = sorted(name for name in dir(hookspecs) if name.startswith("proxx_"))
        for name in self.hook.__dict__:
            caller = getattr(self.hook, name)
            if caller.spec is None:
                owners = ", ".join(sorted(impl.plugin_name for impl in caller.get_hookimpls()))
                raise ConfigurationError(
                    "unknown_hook",
                    f"Plugin {owners} implements '{name}', which is not a proxx hook; known hooks: {', '.join(known)}.",
                    {"hook": name, "plugins": owners},
                )

    # --- calling hooks -------------------------------------------------------------------------

    def _one_at_a_time(self, hook_name: str) -> Iterator[tuple[str, Callable[..., Any]]]:
        """Each plugin implementing a hook, in plugin-name order, with a caller of the hook that
        reaches that plugin alone (through pluggy, so tracing sees every call)."""
        impls = sorted(getattr(self.hook, hook_name).get_hookimpls(), key=lambda i: i.plugin_name)
        for impl in impls:
            others = [i.plugin for i in impls if i.plugin is not impl.plugin]
            yield impl.plugin_name, self.subset_hook_caller(hook_name, remove_plugins=others)

    def per_plugin(self, hook_name: str, **kwargs: Any) -> list[tuple[str, list[Any]]]:
        """Call a hook one plugin at a time, in plugin-name order, returning each plugin's name with
        the records it gave. A hook that answers something other than an iterable of the records
        its spec names is a `PluginAnswerError` (a ConfigurationError) naming the plugin."""
        return [(name, self._answer(name, hook_name, call, kwargs)) for name, call in self._one_at_a_time(hook_name)]

    def _answer(self, plugin: str, hook_name: str, call: Callable[..., Any], kwargs: Mapping[str, Any]) -> list[Any]:
        """One plugin's records from one hook, each checked against the record type of the hook:
        a wrong answer found here names its plugin, where it would otherwise fail far from it (an
        "internal error" naming nobody)."""
        (answer,) = call(**kwargs) or [()]
        expected = _record_types().get(hook_name)
        if expected is None:
            return list(answer or ())
        kind, must = expected
        if isinstance(answer, str | bytes | Mapping) or not isinstance(answer, Iterable):
            raise PluginAnswerError(plugin, hook_name, _described(answer), must)
        records = list(answer)  # a generator's body runs here
        for record in records:
            if not isinstance(record, kind):
                raise PluginAnswerError(plugin, hook_name, f"an iterable holding {_described(record)}", must)
            wrong = _wrong_field(record)
            if wrong is not None:
                raise PluginAnswerError(plugin, hook_name, f"an iterable holding {wrong}", must)
        return records

    def owner_of(self, record: object) -> str | None:
        """The name of the plugin whose hook yielded `record` (an engine, an exporter), if known."""
        owned = self._owners.get(id(record))
        return owned[1] if owned is not None and owned[0] is record else None

    def collect(self, hook_name: str) -> dict[str, tuple[str, Any]]:
        """The named records a hook yields: {record name: (plugin name, record)}, sorted by name.

        A name claimed twice is a start-up error naming both plugins (conda's rule for named records).
        """
        kind = hook_name.removeprefix("proxx_").removesuffix("s")
        found: dict[str, tuple[str, Any]] = {}
        for owner, records in self.per_plugin(hook_name):
            for record in records:
                name = str(record.name)
                if name in found:
                    raise ConfigurationError(
                        f"duplicate_{kind}",
                        f"Two plugins provide the {kind} '{name}': '{found[name][0]}' and '{owner}'. "
                        "Uninstall one, or leave one out with PROXX_LOAD_PLUGINS.",
                        {kind: name, "plugins": [found[name][0], owner]},
                    )
                found[name] = (owner, record)
                self._owners[id(record)] = (record, owner)  # the record kept: its id is never reused
        return dict(sorted(found.items()))

    def engines(self) -> dict[str, Engine]:
        """Installed engines by name (hook `proxx_engines`)."""
        return {name: engine for name, (_, engine) in self.collect("proxx_engines").items()}

    def exporters(self) -> dict[str, Exporter]:
        """Installed exporters by name (hook `proxx_exporters`)."""
        return {name: exporter for name, (_, exporter) in self.collect("proxx_exporters").items()}

    def dispatchers(self) -> dict[str, Dispatcher]:
        """Where jobs go when they do not run here, by name (hook `proxx_dispatchers`)."""
        return {name: dispatcher for name, (_, dispatcher) in self.collect("proxx_dispatchers").items()}

    def canonical_profile_paths(self) -> list[Path]:
        """Canonical profile files and folders shipped by plugins, in plugin-name order.

        Intents never come from plugins: an operator's intent must not change meaning because a
        plugin was installed, so a user profile among them is a ConfigurationError naming the plugin."""
        return [path for _, path in self.canonical_profile_sources()]

    def canonical_profile_sources(self) -> list[tuple[str, Path]]:
        """(plugin name, file or folder) of every canonical profile location plugins ship."""
        from proxx.compile.repository import yaml_files

        found = []
        for plugin, paths in self.per_plugin("proxx_canonical_profiles"):
            for path in map(Path, paths):
                for file in yaml_files(path) if path.exists() else ():
                    # Reading the bytes first keeps the YAML parser (and its import) for a suspect file.
                    if b"user_profile_version" in file.read_bytes() and _document_kind(file) == "user":
                        raise ConfigurationError(
                            "plugin_ships_intent",
                            f"Plugin '{plugin}' ships the user profile {file} among its canonical profiles. "
                            "Intents come only from the studio's profile repositories; a plugin ships "
                            "canonical profiles, and the studio writes the intents that use them.",
                            {"plugin": plugin, "file": str(file)},
                        )
                found.append((plugin, path))
        return found

    def plugin_profile_problems(self) -> list[Problem]:
        """What is wrong with the canonical profiles plugins ship, told as the plugin's fault (never
        as the intent's that names one): one problem per file that does not load. A codec, container
        or audio policy neither proxx nor any plugin declares is named with the declaration the
        plugin is missing (hook `proxx_vocabulary`). `proxx registry` and `proxx validate` report them."""
        from proxx.compile.cache import ProfileCache
        from proxx.compile.repository import load_repository
        from proxx.home import home_path

        # The profile cache Proxx.open uses: a plugin's files that loaded before are not parsed again
        # (kept only where PROXX_HOME can be written: `proxx validate` in CI needs no more than to read it).
        cache = ProfileCache(home_path() / "cache" / "profiles.json")
        found: dict[str, Problem] = {}  # one per file: its first problem says enough
        for plugin, path in self.canonical_profile_sources():
            for problem in load_repository([path], cache).problems:
                found.setdefault(problem.location.path, _plugin_problem(plugin, problem))
        return list(found.values())

    def validate_job(self, spec: JobSpec, sources: Mapping[int, MediaInfo | None]) -> list[JobValidationError]:
        """Every plugin's class B problems with a stored JobSpec (hook `proxx_validate_job`). A
        plugin whose hook raises, or answers something else than problems, is itself a class B
        problem naming the plugin: the job fails, and the other plugins are still asked."""
        problems: list[JobValidationError] = []
        for plugin, call in self._one_at_a_time("proxx_validate_job"):
            try:
                problems += self._answer(plugin, "proxx_validate_job", call, {"spec": spec, "sources": sources})
            except Exception as error:
                log.debug("proxx_validate_job of %s failed", plugin, exc_info=True)
                problems.append(
                    JobValidationError(
                        "plugin_failed",
                        f"The job could not be checked: {_fault(plugin, 'proxx_validate_job', error)} "
                        "Nothing was run; ask an administrator to fix or remove the plugin.",
                        {"plugin": plugin, "hook": "proxx_validate_job", "error": f"{type(error).__name__}: {error}"},
                    )
                )
        return problems

    def verify_output(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, output: MediaInfo) -> list[Check]:
        """Every plugin's extra checks on one output (hook `proxx_verify_output`). A plugin whose hook
        raises, or answers something else than checks, fails the clip (class C) naming the plugin:
        an output a studio check could not pass is never published."""
        checks: list[Check] = []
        kwargs = {"spec": spec, "clip": clip, "source": source, "output": output}
        for plugin, call in self._one_at_a_time("proxx_verify_output"):
            try:
                checks += self._answer(plugin, "proxx_verify_output", call, kwargs)
            except Exception as error:
                raise ExecutionError(
                    "plugin_failed",
                    f"The output of '{Path(clip.source).name}' could not be verified: "
                    f"{_fault(plugin, 'proxx_verify_output', error)} It was not published; ask an administrator "
                    "to fix or remove the plugin.",
                    {"plugin": plugin, "hook": "proxx_verify_output", "error": f"{type(error).__name__}: {error}"},
                ) from error
        return checks

    def reuse_output(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo | None) -> Reused | None:
        """The earlier output this clip may copy, or None (hook `proxx_reuse_output`): the plugins
        are asked in plugin-name order, and the first to answer is the one taken."""
        for _, call in self._one_at_a_time("proxx_reuse_output"):
            reused: Reused | None = call(spec=spec, clip=clip, source=source)
            if reused is not None:
                return reused
        return None

    def commands(self) -> dict[str, Command]:
        """Plugins' `proxx` subcommands by name (hook `proxx_subcommands`)."""
        return {name: command for name, (_, command) in self.collect("proxx_subcommands").items()}

    def add_deprecated_commands(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Let plugins still implementing the deprecated `proxx_commands` add their subcommands."""
        if self.hook.proxx_commands.get_hookimpls():  # no call, and no trace line, when none does
            self.hook.proxx_commands(subparsers=subparsers)

    def web_lookups(self) -> dict[str, WebLookup]:
        """Integrator lookups for `proxx serve` by name (hook `proxx_web_lookups`)."""
        return {name: lookup for name, (_, lookup) in self.collect("proxx_web_lookups").items()}

    def distribution_of(self, plugin: str) -> tuple[str, str] | None:
        """(distribution name, version) of the installed package `plugin` was loaded from, or None
        when it was not loaded from a distribution (registered in-process)."""
        for ep in self.loaded_entry_points:
            if ep.name == plugin and ep.dist is not None:
                return ep.dist.name, ep.dist.version
        return None


class PluginAnswerError(ConfigurationError):
    """A plugin's hook answered something other than what its spec says it returns (a record of
    another type, a single record instead of an iterable of them)."""

    def __init__(self, plugin: str, hook: str, got: str, must: str) -> None:
        super().__init__(
            "plugin_wrong_answer",
            f"Plugin '{plugin}' is broken: its {hook} hook returned {got}, where it must return {must}. "
            "Ask an administrator to fix or remove the plugin.",
            {"plugin": plugin, "hook": hook, "returned": got, "expected": must},
        )


def _described(value: object) -> str:
    """What a plugin returned, in a few words: its type, and a short repr for a plain value."""
    kind = type(value).__name__
    if isinstance(value, str | bytes | int | float) or value is None:
        shown = repr(value)
        return f"{'a' if kind[0] not in 'aeiou' else 'an'} {kind} ({shown[:60]}{'...' if len(shown) > 60 else ''})"
    return f"{'an' if kind[0].lower() in 'aeiou' else 'a'} {kind}"


def _fault(plugin: str, hook: str, error: Exception) -> str:
    """A plugin's failure in one sentence, naming the plugin, its hook and what went wrong."""
    if isinstance(error, PluginAnswerError):
        got, must = error.context["returned"], error.context["expected"]
        return f"plugin '{plugin}' answered its {hook} hook with {got}, where it must return {must}."
    return f"plugin '{plugin}' failed in its {hook} hook ({type(error).__name__}: {error})."


@functools.cache
def _record_types() -> dict[str, tuple[type | tuple[type, ...], str]]:
    """Each hook whose answers are checked: the type its records must have, and how to say so.
    Imported here, once: these modules import the plugin manager's own."""
    from proxx.dispatch import Dispatcher
    from proxx.export.exporter import Exporter
    from proxx.hookrecords import Command, WebLookup
    from proxx.verify.checks import Check

    return {
        "proxx_engines": (Engine, "an iterable of proxx.plugin.Engine instances"),
        "proxx_exporters": (Exporter, "an iterable of proxx.plugin.Exporter records"),
        "proxx_dispatchers": (Dispatcher, "an iterable of proxx.plugin.Dispatcher instances"),
        "proxx_subcommands": (Command, "an iterable of proxx.plugin.Command records"),
        "proxx_web_lookups": (WebLookup, "an iterable of proxx.plugin.WebLookup records"),
        "proxx_validate_job": (JobValidationError, "an iterable of proxx.plugin.JobValidationError"),
        "proxx_verify_output": (Check, "an iterable of proxx.plugin.Check records (name, expected and actual text)"),
        "proxx_canonical_profiles": ((str, os.PathLike), "a list of paths (pathlib.Path or str)"),
    }


def _wrong_field(record: object) -> str | None:
    """A check whose fields are not what its record says (text, and a bool): recorded, it failed the
    writing of the clip's record after its proxy was published, and read as proxx's own error."""
    from proxx.verify.checks import Check

    if not isinstance(record, Check):
        return None
    for field, kind in (("name", str), ("expected", str), ("actual", str), ("passed", bool)):
        value = getattr(record, field)
        if not isinstance(value, kind):
            return f"a Check whose {field} is {_described(value)}"
    return None


_DECLARE_AS = {"codec": "Codec", "container": "Container", "audio policy": "AudioPolicy"}


def _plugin_problem(plugin: str, problem: Problem) -> Problem:
    from proxx.compile.parse import read_raw

    document = read_raw(Path(problem.location.path))
    missing = vocabulary.undeclared(document) if document is not None else []
    if missing:
        terms = ", ".join(f"{kind} '{name}'" for kind, name in missing)
        records = ", ".join(f"{_DECLARE_AS[kind]}({name!r}, ...)" for kind, name in missing)
        message = (
            f"Plugin '{plugin}' ships a canonical profile using the {terms}, which neither proxx nor any "
            f"plugin declares: its proxx_vocabulary hook must yield {records}"
        )
        reason = "plugin_vocabulary_undeclared"
    else:
        message = f"Plugin '{plugin}' ships a canonical profile that does not load: {problem.message}"
        reason = "plugin_profile_invalid"
    return Problem(problem.location, reason, message, problem.profile, problem.kind)


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


def build_plugin_manager(extra: Mapping[str, object] | None = None) -> PluginManager:
    """A fresh manager with the entry-point plugins (filtered by PROXX_LOAD_PLUGINS) and `extra`."""
    pm = PluginManager()
    if os.environ.get("PROXX_TRACE_PLUGINS"):  # from the first call: registering asks `proxx_vocabulary`
        _trace(pm)
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
        pm.register_plugin(ep.name, plugin)
        pm.loaded_entry_points.append(ep)
    for name, plugin in (extra or {}).items():
        pm.register_plugin(name, plugin)
    pm.check_pending()
    return pm


def _document_kind(file: Path) -> str | None:
    from proxx.compile.parse import read_document

    return read_document(file)[0]


@functools.cache
def plugin_manager() -> PluginManager:
    """The process-wide manager, built on first use."""
    return build_plugin_manager()
