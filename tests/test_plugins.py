"""The plugin host: entry points, the allow-list, tracing, named engines, loud failures."""

from __future__ import annotations

import logging
import shutil

import pytest

from proxx import ConfigurationError, Proxx
from proxx.execute.engine import RenderReport, RenderTask
from proxx.plugin import Availability, Engine, hookimpl
from proxx.pluginmanager import build_plugin_manager


class CopyEngine(Engine):
    """Renders by copying the source: enough to be a real engine for registration tests."""

    name = "copy"

    def availability(self) -> Availability:
        return Availability(True, version="1.0")

    def render(self, task: RenderTask) -> RenderReport:
        shutil.copyfile(task.clip.source, task.partial_path)
        return RenderReport("1.0")


class InhouseEngine(CopyEngine):
    name = "inhouse"


class FakeFFmpeg(CopyEngine):
    name = "ffmpeg"


class InhousePlugin:
    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_engines(self):
        yield InhouseEngine()


class ClaimsFFmpeg:
    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_engines(self):
        yield FakeFFmpeg()


class Misspelled:
    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_engine(self):  # not a hook: the spec is proxx_engines
        return []


def test_the_builtin_ffmpeg_plugin_loads_through_its_entry_point():
    pm = build_plugin_manager()
    assert pm.get_plugin("ffmpeg") is not None
    assert "ffmpeg" in pm.engines()


def test_a_plugin_registered_for_one_test_adds_an_engine(monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg")  # other installed engines (examples/) stay out
    pm = build_plugin_manager()
    installed = sorted(pm.engines())  # ffmpeg, and resolve when plugins/resolve is installed
    assert "ffmpeg" in installed
    pm.register(InhousePlugin(), name="inhouse-test")
    try:
        assert sorted(pm.engines()) == sorted([*installed, "inhouse"])
    finally:
        pm.unregister(name="inhouse-test")
    assert sorted(pm.engines()) == installed


def test_a_second_plugin_claiming_ffmpeg_fails_naming_both():
    pm = build_plugin_manager(extra={"studio-ffmpeg": ClaimsFFmpeg()})
    with pytest.raises(ConfigurationError) as caught:
        pm.engines()
    assert caught.value.reason == "duplicate_engine"
    assert "'ffmpeg'" in caught.value.message
    assert "'ffmpeg' and 'studio-ffmpeg'" in caught.value.message


def test_a_misspelled_hook_fails_loudly():
    with pytest.raises(ConfigurationError) as caught:
        build_plugin_manager(extra={"typo": Misspelled()})
    assert "proxx_engine" in caught.value.message and "proxx_engines" in caught.value.message


def test_load_plugins_allow_list(monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "")
    assert build_plugin_manager().engines() == {}
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg, other")
    assert list(build_plugin_manager().engines()) == ["ffmpeg"]


def test_with_only_the_core_every_bundled_intent_is_invalid_saying_a_renderer_is_missing(monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "")
    proxx = Proxx.open(pm=build_plugin_manager())
    statuses = {s.name: s for s in proxx.intents()}
    assert not statuses["HD Editorial LT"].selectable
    problem = statuses["HD Editorial LT"].problem or ""
    assert "renderer that is not installed here" in problem and "ffmpeg" not in problem


def test_trace_logs_every_hook_call(monkeypatch, caplog):
    monkeypatch.setenv("PROXX_TRACE_PLUGINS", "1")
    pm = build_plugin_manager()
    with caplog.at_level(logging.DEBUG, logger="proxx.plugins"):
        pm.engines()
    text = caplog.text
    assert "call proxx_engines" in text and "returned" in text


def test_trace_logs_the_vocabulary_a_plugin_declares_as_it_registers(monkeypatch, caplog):
    from tests import vp9webm

    monkeypatch.setenv("PROXX_TRACE_PLUGINS", "1")
    with caplog.at_level(logging.DEBUG, logger="proxx.plugins"):
        build_plugin_manager({"vp9webm": vp9webm})
    assert "call proxx_vocabulary({}) -> [vp9webm]" in caplog.text


def test_plugin_canonical_profiles_join_the_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg")  # the installed inhouse example is not this test's
    (tmp_path / "inhouse.yaml").write_text(
        'canonical_profile_version: "1.0"\nid: studio_h264\nengine: inhouse\ncodec: h264\n'
        "container: mp4\nresolution: source\naudio: aac\n"
    )

    class Ships:
        PROXX_PLUGIN_API = "1.0"

        @hookimpl
        def proxx_canonical_profiles(self):
            return [tmp_path]

    pm = build_plugin_manager(extra={"ships": Ships(), "inhouse": InhousePlugin()})
    proxx = Proxx.open(pm=pm)
    assert proxx.repository.registry.get("studio_h264") is not None
    assert proxx.repository.problems == ()


def test_an_engine_names_the_distribution_it_came_from(proxx_home):
    from importlib.metadata import distribution

    from proxx.pluginmanager import build_plugin_manager

    class CopyPlugin:
        PROXX_PLUGIN_API = "1.0"

        @hookimpl
        def proxx_engines(self):
            yield CopyEngine()

    pm = build_plugin_manager(extra={"in-process": CopyPlugin()})
    proxx = Proxx.open(pm=pm)
    assert proxx.engine_plugins["ffmpeg"] == "ffmpeg" and proxx.engine_plugins["copy"] == "in-process"
    assert pm.distribution_of("ffmpeg") == ("proxx-ffmpeg", distribution("proxx-ffmpeg").version)
    assert pm.distribution_of("in-process") is None  # registered in-process, not installed
    assert proxx.requirements("ffmpeg")["proxx-ffmpeg"] == distribution("proxx-ffmpeg").version
    assert set(proxx.requirements("copy")) == {"proxx"}
