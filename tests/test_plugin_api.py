"""The public plugin API (`proxx.plugin`) is the only part of proxx that plugins and examples import."""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import subprocess
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import proxx.plugin
from proxx.cli import main
from proxx.plugin import (
    API_VERSION,
    CHECK_NAMES,
    Check,
    Command,
    ConfigurationError,
    JobValidationError,
    ProxxError,
    Reused,
    hookimpl,
)
from proxx.pluginmanager import PluginAPIWarning, build_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"proxx", "proxx.plugin"}


def allowed(module: str, in_tests: bool) -> bool:
    """The public API; in a plugin's tests, also the plugin authors' test kit (`proxx.testing`)."""
    return module in PUBLIC or (in_tests and (module == "proxx.testing" or module.startswith("proxx.testing.")))


def proxx_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a proxx module in `path`, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, m) for m in modules if m == "proxx" or m.startswith("proxx.")]
    return sorted(found)


# The render farm plugin runs jobs with proxx's own runner and store and mirrors into its job store:
# it is released with proxx (the same series on every host), not built on the public API alone. Its
# hook module is; the rest is not walked.
LOCKSTEP = ROOT / "plugins" / "farm"
LOCKSTEP_FACE = {LOCKSTEP / "proxx_farm" / "plugin.py"}


def plugin_files() -> list[Path]:
    found = (p for folder in ("plugins", "examples") for p in (ROOT / folder).rglob("*.py"))
    return sorted(p for p in found if not p.is_relative_to(LOCKSTEP) or p in LOCKSTEP_FACE)


def test_plugins_and_examples_import_only_the_public_api() -> None:
    assert len(plugin_files()) > 20  # the walk sees the bundled plugins and the example
    leaks = []
    for path in plugin_files():
        relative = path.relative_to(ROOT)
        in_tests = "tests" in relative.parts
        leaks += [f"{relative}:{line}: {m}" for line, m in proxx_imports(path) if not allowed(m, in_tests)]
    assert leaks == []


def test_the_walk_finds_an_internal_import(tmp_path: Path) -> None:
    module = tmp_path / "leak.py"
    module.write_text("def f():\n    from proxx.store import Store\nimport proxx.plugin\n", encoding="utf-8")
    assert proxx_imports(module) == [(2, "proxx.store"), (3, "proxx.plugin")]


@pytest.mark.parametrize("name", proxx.plugin.__all__)
def test_every_public_name_imports(name: str) -> None:
    assert getattr(proxx.plugin, name) is not None


def test_every_public_class_documents_itself() -> None:
    classes = [getattr(proxx.plugin, n) for n in proxx.plugin.__all__ if isinstance(getattr(proxx.plugin, n), type)]
    undocumented = [c.__name__ for c in classes if not (c.__doc__ or "").strip() or c.__doc__ == type.__doc__]
    assert undocumented == []


def test_every_public_function_and_method_documents_itself() -> None:
    """`help()` on any name of the three public modules says what it does: `proxx.testing.main`,
    `Proxx.open` and a record's `to_dict` or `digest` said nothing."""
    import proxx.testing

    undocumented = []
    for module in (proxx, proxx.plugin, proxx.testing):
        for name in module.__all__:
            thing = getattr(module, name)
            members = [(name, thing)] if inspect.isfunction(thing) else []
            if inspect.isclass(thing):
                for key, value in vars(thing).items():
                    if isinstance(value, (classmethod, staticmethod)):
                        value = value.__func__
                    elif isinstance(value, property):
                        value = value.fget
                    if inspect.isfunction(value):
                        members.append((f"{name}.{key}", value))
            undocumented += [
                f"{module.__name__}.{label}"
                for label, member in members
                if not label.rpartition(".")[2].startswith("_") and not (member.__doc__ or "").strip()
            ]
    assert undocumented == []


# --- the contract: API version, deprecation, commands, the typed manager ---------------------------


def _plugin(api: str | None) -> types.SimpleNamespace:
    return types.SimpleNamespace() if api is None else types.SimpleNamespace(PROXX_PLUGIN_API=api)


@pytest.mark.parametrize("api", [API_VERSION, "1", "1.0", "1.1"])
def test_a_plugin_built_for_this_contract_loads_silently(api: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pm = build_plugin_manager({"studio": _plugin(api)})
    assert pm.get_plugin("studio") is not None


@pytest.mark.parametrize("api", ["1.3", "2.0", "0.9", "one"])
def test_a_plugin_built_for_a_newer_or_another_major_contract_fails_naming_it(api: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_plugin_manager({"studio": _plugin(api)})
    assert caught.value.reason == "plugin_api_mismatch"
    assert f"Plugin 'studio' was built for the proxx plugin API {api}" in caught.value.message
    assert f"this proxx provides {API_VERSION}" in caught.value.message


def test_a_plugin_declaring_no_contract_loads_with_a_warning() -> None:
    with pytest.warns(PluginAPIWarning, match="Plugin 'studio' does not declare"):
        pm = build_plugin_manager({"studio": _plugin(None)})
    assert pm.get_plugin("studio") is not None


def test_every_bundled_plugin_declares_the_contract() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginAPIWarning)
        pm = build_plugin_manager()
    assert {"ffmpeg", "fabric"} <= {name for name, _ in pm.list_name_plugin()}


class OldCommands:
    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_commands(self, subparsers: Any) -> None:
        parser = subparsers.add_parser("old", help="an old-style command")
        parser.set_defaults(handler=lambda args: 7)


def test_the_deprecated_commands_hook_warns_and_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.warns(DeprecationWarning, match="proxx_commands is deprecated .* proxx_subcommands"):
        pm = build_plugin_manager({"old": OldCommands()})
    monkeypatch.setattr("proxx.pluginmanager.plugin_manager", lambda: pm)
    assert main(["old"]) == 7


class NewCommands:
    PROXX_PLUGIN_API = "1.0"

    def __init__(self, name: str = "hello") -> None:
        self.name = name

    @hookimpl
    def proxx_subcommands(self) -> Iterator[Command]:
        def configure(parser: argparse.ArgumentParser) -> None:
            parser.add_argument("who")

        def run(args: argparse.Namespace) -> int:
            print(f"hello {args.who}")
            return 3

        yield Command(self.name, "says hello", configure, run)


def test_a_plugin_command_is_configured_and_run(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    pm = build_plugin_manager({"hello": NewCommands()})
    monkeypatch.setattr("proxx.pluginmanager.plugin_manager", lambda: pm)
    assert main(["hello", "world"]) == 3
    assert capsys.readouterr().out == "hello world\n"


def test_the_subcommand_hooks_example_says_no_job_matches_an_unknown_id(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, proxx_home: Path
) -> None:
    """The example of `proxx_subcommands` in docs/hooks.md, run as a plugin's command: an id that names
    no job is one line saying so, never "internal error (KeyError)" as a command written from the
    earlier example, which never read a job, gave."""
    import inspect
    import textwrap

    from proxx import hookspecs

    example = textwrap.dedent(inspect.cleandoc(hookspecs.proxx_subcommands.__doc__ or "").split("Example::", 1)[1])
    plugin = types.ModuleType("review_plugin")
    plugin.__dict__.update(hookimpl=hookimpl, Command=Command, ProxxError=ProxxError, PROXX_PLUGIN_API=API_VERSION)
    exec(example, plugin.__dict__)
    pm = build_plugin_manager({"review": plugin})
    monkeypatch.setattr("proxx.pluginmanager.plugin_manager", lambda: pm)
    assert main(["review", "job-nosuch"]) == 1
    assert capsys.readouterr().err == "proxx: No job matches 'job-nosuch'.\n"


def test_a_plugin_command_cannot_take_a_builtin_name(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    # Plugins' commands are loaded when the command line names none of proxx's own (the usage lists
    # them all): the clash is said there; proxx's own command is never replaced.
    pm = build_plugin_manager({"clash": NewCommands("run")})
    monkeypatch.setattr("proxx.pluginmanager.plugin_manager", lambda: pm)
    for command_line in ([], ["--help"], ["hello"]):
        assert main(command_line) == 6
        assert "adds the subcommand 'run', which proxx already has" in capsys.readouterr().err


def test_proxx_own_commands_load_no_plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # `proxx jobs list` reads the store only: it neither loads plugins nor imports the facade.
    monkeypatch.setenv("PROXX_HOME", str(tmp_path))
    code = (
        "import sys; from proxx.cli import main; code = main(['jobs', 'list']); "
        "print(sorted(m for m in ('proxx.pluginmanager', 'proxx.app', 'proxx.compile.repository') if m in sys.modules)); "
        "sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["No jobs.", "[]"]


def test_two_plugins_with_one_command_name_fail_naming_both() -> None:
    pm = build_plugin_manager({"one": NewCommands(), "two": NewCommands()})
    with pytest.raises(ConfigurationError, match="'one' and 'two'"):
        pm.commands()


class Hooks:
    """One implementation of every job-flow hook, to see the typed manager's methods reach them."""

    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_validate_job(self, spec: Any, sources: Any) -> Iterator[JobValidationError]:
        yield JobValidationError("studio_rule", f"{len(sources)} sources")

    @hookimpl
    def proxx_verify_output(self, spec: Any, clip: Any, source: Any, output: Any) -> Iterator[Check]:
        yield Check("studio_check", "x", output, output == "x")

    @hookimpl
    def proxx_reuse_output(self, spec: Any, clip: Any, source: Any) -> Reused | None:
        return Reused("job-1", f"{clip}.mov") if source else None


def test_the_typed_manager_calls_each_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "")  # these hooks alone
    pm = build_plugin_manager({"hooks": Hooks()})
    (problem,) = pm.validate_job(spec=None, sources={0: None, 1: None})  # type: ignore[arg-type]
    assert (problem.reason, problem.message) == ("studio_rule", "2 sources")
    checks = pm.verify_output(None, None, None, "y")  # type: ignore[arg-type]
    assert checks == [Check("studio_check", "x", "y", False)]
    assert pm.reuse_output(None, "A001", object()) == Reused("job-1", "A001.mov")  # type: ignore[arg-type]
    assert pm.reuse_output(None, "A001", None) is None  # type: ignore[arg-type]


class Reuses:
    """Answers `proxx_reuse_output` with its own name, to see which plugin's answer is taken."""

    PROXX_PLUGIN_API = "1.0"

    def __init__(self, answer: str | None) -> None:
        self.answer = answer

    @hookimpl
    def proxx_reuse_output(self, spec: Any, clip: Any, source: Any) -> Reused | None:
        return Reused(self.answer, f"{clip}.mov") if self.answer else None


def test_the_first_plugin_in_name_order_to_answer_a_reuse_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "")
    # pluggy alone would ask the last registered first ("c"): the order must be the names'.
    pm = build_plugin_manager({"a": Reuses(None), "b": Reuses("job-b"), "c": Reuses("job-c")})
    assert pm.reuse_output(None, "A001", None) == Reused("job-b", "A001.mov")  # type: ignore[arg-type]
    pm = build_plugin_manager({"a": Reuses(None)})
    assert pm.reuse_output(None, "A001", None) is None  # type: ignore[arg-type]


def test_docs_reference_md_is_in_step_with_the_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))  # the doc generators are repository tools, not shipped
    import refdoc

    monkeypatch.chdir(ROOT)
    assert refdoc.main(["--check"]) == 0, "run: .venv/bin/python scripts/refdoc.py"
    page = refdoc.render()
    assert all(f"### {name}" in page for name in ("JobSpec", "RenderTask", "MediaInfo", "ClipFacts", "Codec"))


# What a hook's example takes from its module: the public API and the standard library, and the
# plugin's own things it only names (its index of outputs, its hashing, its shot list).
HOOK_EXAMPLE_MODULE = """from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from proxx.plugin import (
    AudioPolicy, Availability, Check, ClipSpec, ClipState, Codec, Command, Container, Dispatcher, Engine, Exporter,
    JobResult, JobSpec, JobValidationError, MediaInfo, ProxxError, RenderReport, RenderTask, Reused, WebLookup, hookimpl,
)

my_index: Any
hash_of: Any
shots: dict[str, dict[str, Any]]
MyEngine: Any

"""
# Sketches rather than code to copy: a Dispatcher's example elides the methods an ABC requires, and
# the deprecated hook takes argparse's private subparsers object.
SKETCHES = {"proxx_dispatchers", "proxx_commands"}


def test_every_hook_has_an_example_that_passes_mypy_strict(tmp_path: Path) -> None:
    """Plugin authors copy the hook reference's examples (docs/hooks.md): each compiles, and each
    but the two sketches passes `mypy --strict` with the module's own imports, as the preamble says."""
    import inspect
    import os
    import textwrap

    from mypy import api

    sys.path.insert(0, str(ROOT / "scripts"))
    from hookdoc import hooks

    import proxx.hookspecs

    modules = []
    module_doc = inspect.cleandoc(proxx.hookspecs.__doc__ or "")
    preamble = textwrap.dedent(module_doc.split("built for::", 1)[1].split("\nand register", 1)[0])
    for hook in hooks():
        doc = inspect.cleandoc(hook.__doc__ or "")
        assert "Example::" in doc, f"{hook.__name__} has no example"
        example = textwrap.dedent(doc.split("Example::", 1)[1])
        compile(example, f"<{hook.__name__} example>", "exec")
        if hook.__name__ not in SKETCHES:
            modules.append(tmp_path / f"{hook.__name__}_example.py")
            modules[-1].write_text(HOOK_EXAMPLE_MODULE + example, encoding="utf-8")
    modules.append(tmp_path / "preamble_example.py")
    modules[-1].write_text(HOOK_EXAMPLE_MODULE + preamble, encoding="utf-8")
    out, err, code = api.run(["--strict", "--no-incremental", "--config-file", os.devnull, *map(str, modules)])
    assert code == 0, out + err


def test_the_job_store_view_reads_jobs_and_cannot_write(proxx_open: Any, proxx_home: Path, tmp_path: Path) -> None:
    import sqlite3

    from proxx.media.samples import make_clip

    with pytest.deprecated_call():
        from proxx.plugin import JobStoreView

    app = proxx_open()
    (tmp_path / "out").mkdir()
    source = make_clip(tmp_path / "A001.mov", frames=2)  # a job that passes validation when created
    spec = app.create_job("Review H.264", [str(source)], tmp_path / "out")
    with JobStoreView() as jobs:
        assert jobs.spec(spec.job_id) == spec
        assert jobs.job(spec.job_id).state == "QUEUED"
        with pytest.raises(KeyError):
            jobs.spec("job-unknown")
        assert jobs._store is not None  # the store's own read path, over a read-only connection
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            jobs._store.hide([spec.job_id])


def test_the_job_store_view_of_a_home_without_a_store_knows_no_job(tmp_path: Path) -> None:
    with pytest.deprecated_call():
        from proxx.plugin import JobStoreView

    with JobStoreView(tmp_path) as jobs, pytest.raises(KeyError):
        jobs.spec("job-1")
    assert not (tmp_path / "proxx.db").exists()  # looking never creates a store


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from proxx.settings import Settings  # no longer a plugin contract name

    monkeypatch.setenv("PROXX_TIMEOUT_FACTOR", "3")
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "5")
    monkeypatch.delenv("PROXX_LEASE_SECONDS", raising=False)
    settings = Settings.from_env()
    assert settings == Settings(timeout_factor=3.0, timeout_minimum=5.0, lease_seconds=30.0)
    assert settings.timeout_for(None) == 5.0


# --- three public modules, each complete, and names that leave through a warning --------------------


def _leaving() -> list[tuple[str, str, str]]:
    import proxx

    return [
        *(("proxx.plugin", name, instead) for name, (_, instead) in proxx.plugin.DEPRECATED.items()),
        *(("proxx", name, instead) for name, (_, instead) in proxx._DEPRECATED.items()),
    ]


@pytest.mark.parametrize(("module", "name", "instead"), _leaving())
def test_a_name_leaving_the_contract_still_imports_with_a_warning_naming_its_replacement(
    module: str, name: str, instead: str
) -> None:
    import importlib

    from proxx.plugin import ProxxDeprecationWarning

    public = importlib.import_module(module)
    with pytest.warns(
        ProxxDeprecationWarning, match=rf"{module}\.{name} is deprecated since plugin API 1\.1.*{re.escape(instead)}"
    ):
        value = getattr(public, name)
    assert value is not None
    assert name not in public.__all__ and name not in vars(public)  # it warns at every use, never cached


def test_each_public_module_types_exactly_the_names_it_loads() -> None:
    # A public module names each export twice: for type checkers (`if TYPE_CHECKING:` imports) and
    # for the loader (the table of homes); the two lists must not drift apart.
    import proxx

    for module, homes, leaving in (
        (proxx, proxx._MODULE_OF, proxx._DEPRECATED),
        (proxx.plugin, proxx.plugin._MODULE_OF, proxx.plugin.DEPRECATED),
    ):
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        (block,) = [
            node for node in tree.body if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        ]
        typed = {
            alias.asname: (node.module, alias.name)
            for node in block.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        loaded = {name: (home, name) for name, home in homes.items()}
        loaded |= {name: (home, name) for name, (home, _) in leaving.items()}
        assert typed == loaded, module.__name__


def test_the_names_that_left_still_work_as_they_did() -> None:
    from proxx.media.colour import Colour, ColourTarget
    from proxx.media.probe import MediaInfo
    from proxx.plugin import ClipState, JobState, ProxxDeprecationWarning
    from proxx_ffmpeg import argv

    with pytest.warns(ProxxDeprecationWarning):
        from proxx.plugin import (  # type: ignore[attr-defined]
            CLIP_COMPLETED,
            COMPLETED,
            colour_unconvertible,
            ffmpeg_colour_filters,
            ffmpeg_colour_options,
            file_url,
            input_restrictions,
            top_field_first,
        )
    assert (CLIP_COMPLETED, COMPLETED) == (ClipState.COMPLETED, JobState.COMPLETED) == ("completed", "COMPLETED")
    assert [top_field_first(order) for order in ("tt", "bt", "bb", "tb", "progressive")] == [1, 1, 0, 0, 0]
    source = MediaInfo("/m/-A:001.mov", "mov,mp4,m4a,3gp,3g2,mj2", 1, 1.0, None, (), None)
    assert source.demuxer == "mov"
    assert [*input_restrictions(source), "-i", file_url(source.path)] == argv.input_options(source)
    rgb, hd, sd = (
        Colour("bt709", "bt709", "gbr", "pc"),
        Colour("bt709", "bt709", "bt709", "tv"),
        Colour("smpte170m", "bt709", "smpte170m", "tv"),
    )
    for target in (
        ColourTarget(rgb, hd),
        ColourTarget(sd, hd),
        ColourTarget(hd, hd),
        ColourTarget(Colour("bt709", "bt709", "bt709", "pc"), hd),
    ):
        assert ffmpeg_colour_filters(target, "yuv420p") == argv.colour_filters(target, "yuv420p")
        assert ffmpeg_colour_options(target) == argv.colour_options(target)
    hlg = Colour("bt2020", "arib-std-b67", "bt2020nc", "tv")
    for target in (ColourTarget(hlg, hd), ColourTarget(Colour("bt709", "bt709", "chroma-derived-nc", "tv"), hd)):
        assert argv.colour_unconvertible(target) is not None
    for target in (ColourTarget(hlg, hd), ColourTarget(sd, hd), ColourTarget(hd, hd), ColourTarget(rgb, hd)):
        assert colour_unconvertible(target) == argv.colour_unconvertible(target)
    with pytest.raises(ProxxError):
        argv.input_options(MediaInfo("/m/list.m3u8", "hls", 1, 1.0, None, (), None))


def test_every_record_a_public_record_names_is_public_and_in_the_reference() -> None:
    import re
    import sys

    import attrs

    import proxx

    page = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    for module in (proxx.plugin, proxx):
        public = set(module.__all__)
        for name in module.__all__:
            value = getattr(module, name)
            if not (isinstance(value, type) and attrs.has(value)):
                continue
            assert f"### {name}\n" in page, f"{module.__name__}.{name} has no reference entry"
            namespace = vars(sys.modules[value.__module__])
            for field in attrs.fields(value):
                for word in re.findall(r"[A-Za-z_]\w*", str(field.type)):
                    record = namespace.get(word)
                    if isinstance(record, type) and attrs.has(record):
                        assert record.__name__ in public, f"{module.__name__}.{name}.{field.name}: {record.__name__}"


def test_the_readme_states_the_size_of_each_public_module() -> None:
    import proxx
    import proxx.testing

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for module in (proxx, proxx.plugin, proxx.testing):
        assert f"`{module.__name__}` ({len(module.__all__)} names)" in readme, module.__name__
    distinct = {*proxx.__all__, *proxx.plugin.__all__, *proxx.testing.__all__}
    assert f"{len(distinct)} names in all" in readme


def test_a_render_task_extends_its_timeout_by_proxx_own_rule() -> None:
    from proxx.plugin import RenderTask

    task = RenderTask(None, None, None, "p", "l", 120.0, lambda f: None, timeout_rule=lambda s: 10 * s)  # type: ignore[arg-type]
    assert (task.timeout_for(5.0), task.timeout_for(60.0)) == (120.0, 600.0)
    assert RenderTask(None, None, None, "p", "l", 120.0, lambda f: None).timeout_for(60.0) == 120.0  # type: ignore[arg-type]


def test_the_job_store_view_takes_a_home_or_its_store_file(proxx_open, proxx_clip, proxx_home, tmp_path) -> None:
    with pytest.deprecated_call():
        from proxx.plugin import JobStoreView

    app = proxx_open()
    (tmp_path / "out").mkdir()
    spec = app.create_job("Review H.264", [proxx_clip(frames=6)], tmp_path / "out")
    for where in (proxx_home, JobStoreView(proxx_home).path):
        with JobStoreView(where) as jobs:
            assert jobs.spec(spec.job_id) == spec and jobs.job(spec.job_id).state == "QUEUED"


def test_the_exporter_tutorial_names_every_check_proxx_records() -> None:
    text = (ROOT / "docs" / "writing-an-exporter-plugin.md").read_text(encoding="utf-8")
    assert [name for name in CHECK_NAMES if f"`{name}`" not in text] == []


def test_the_tutorials_and_the_integrators_guide_name_only_public_modules() -> None:
    import re

    pages = ["writing-an-engine-plugin.md", "writing-an-exporter-plugin.md", "integrating.md", "reference.md"]
    internal = []
    for page in pages:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        internal += [
            f"{page}: {m}" for m in re.findall(r"`(proxx\.(?!plugin\b|testing\b|toml\b)[a-z_]+(?:\.[\w.]+)?)`", text)
        ]
        internal += [f"{page}: {m}" for m in re.findall(r"`(expand_sources|proxx\.dispatch\b[\w.]*)`", text)]
    assert sorted(set(internal)) == []
