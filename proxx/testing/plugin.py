"""pytest fixtures for proxx plugin authors, registered on the `pytest11` entry point: installing
proxx makes them available in every test suite, with no conftest.py.

    def test_my_engine_renders(proxx_register, proxx_open, proxx_profiles, proxx_clip, proxx_run):
        proxx_register(MyPlugin(), name="my-plugin")
        profiles = proxx_profiles({"canonical/mine.yaml": {...}, "user/mine.yaml": intent_for("mine")})
        app = proxx_open(profiles=[profiles])
        outcome = proxx_run(app, "Test mine", [proxx_clip()])
        assert outcome.row.state == "COMPLETED"

Every fixture is function-scoped: a test gets its own PROXX_HOME, its own plugin manager (the
process-wide one, `proxx.pluginmanager.plugin_manager()`, is cached and never touched), and its own files.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest

from proxx.app import Proxx
from proxx.media.samples import make_clip
from proxx.pluginmanager import PluginManager, build_plugin_manager
from proxx.testing.kit import JobOutcome, RepositoryFiles, run_job, write_repository

# The conformance checks' asserts report their values like a test's own, as pytest does for plugins.
pytest.register_assert_rewrite("proxx.testing.conformance")


class Register(Protocol):
    def __call__(self, plugin: object, name: str) -> object: ...


class Open(Protocol):
    def __call__(self, profiles: Sequence[Path] = (), bundled: bool | None = None) -> Proxx: ...


class MakeClip(Protocol):
    def __call__(self, name: str = "A001.mov", **options: Any) -> Path: ...


class WriteProfiles(Protocol):
    def __call__(self, files: RepositoryFiles) -> Path: ...


class RunJob(Protocol):
    def __call__(
        self, app: Proxx, intent: str, sources: Sequence[str | Path], output_directory: str | Path | None = None
    ) -> JobOutcome: ...


@pytest.fixture
def proxx_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PROXX_HOME (store, job logs, results) for this test."""
    home = tmp_path / "proxx-home"
    monkeypatch.setenv("PROXX_HOME", str(home))
    return home


@pytest.fixture
def proxx_plugin_manager(proxx_home: Path) -> PluginManager:
    """A plugin manager of this test's own: the installed plugins (PROXX_LOAD_PLUGINS applies)."""
    return build_plugin_manager()


@pytest.fixture
def _proxx_opened() -> list[Proxx]:
    """The `Proxx` objects `proxx_open` made in this test (it closes their stores at the end)."""
    return []


@pytest.fixture
def proxx_register(proxx_plugin_manager: PluginManager, _proxx_opened: list[Proxx]) -> Iterator[Register]:
    """`proxx_register(plugin, name=...)` adds a plugin object for this test only; call it before
    `proxx_open`, which collects engines and exporters once: after it, it fails saying so."""
    names: list[str] = []

    def register(plugin: object, name: str) -> object:
        if _proxx_opened:  # the Proxx opened has its engines and exporters: it would never see this one
            raise RuntimeError(
                f"proxx_register(..., name={name!r}) was called after proxx_open: the Proxx it opened has "
                "collected its engines and exporters already. Register the plugin first, then call proxx_open."
            )
        proxx_plugin_manager.register(plugin, name=name)
        names.append(name)
        return plugin

    try:
        yield register
    finally:
        for name in reversed(names):
            proxx_plugin_manager.unregister(name=name)


@pytest.fixture
def proxx_open(proxx_plugin_manager: PluginManager, proxx_home: Path, _proxx_opened: list[Proxx]) -> Iterator[Open]:
    """`proxx_open(profiles=[...], bundled=None)` -> a `Proxx` on this test's plugin manager and home."""
    opened = _proxx_opened

    def open_(profiles: Sequence[Path] = (), bundled: bool | None = None) -> Proxx:
        app = Proxx.open(profiles, bundled, pm=proxx_plugin_manager)
        opened.append(app)
        return app

    yield open_
    for app in opened:
        app.store.close()  # SQLite connections closed here, not whenever garbage collection runs


@pytest.fixture
def proxx_clip(tmp_path: Path) -> MakeClip:
    """`proxx_clip(name="A001.mov", **options)` -> a small real clip (`proxx.media.samples.make_clip`
    options: size, rate, frames, audio, timecode, video_codec, ...) in this test's media folder."""

    def clip(name: str = "A001.mov", **options: Any) -> Path:
        return make_clip(tmp_path / "media" / name, **options)

    return clip


@pytest.fixture
def proxx_profiles(tmp_path: Path) -> WriteProfiles:
    """`proxx_profiles({"canonical/x.yaml": ..., "user/y.yaml": ...})` -> a new profile repository
    folder holding those files (YAML text, or mappings)."""
    counter = itertools.count(1)

    def write(files: RepositoryFiles) -> Path:
        return write_repository(tmp_path / f"profiles-{next(counter)}", files)

    return write


@pytest.fixture
def proxx_run(tmp_path: Path) -> RunJob:
    """`proxx_run(app, intent, sources, output_directory=None)` -> `JobOutcome`: creates the job and
    runs it here (create_job + run_job); outputs go to this test's `out` folder (created) by default."""

    def run(
        app: Proxx, intent: str, sources: Sequence[str | Path], output_directory: str | Path | None = None
    ) -> JobOutcome:
        if output_directory is None:
            output_directory = tmp_path / "out"
            output_directory.mkdir(exist_ok=True)
        return run_job(app, intent, sources, output_directory)

    return run
