"""The open vocabulary: a plugin's codecs, containers and audio policies (VP9 in WebM with Opus, from
the test plugin `tests/vp9webm`), and intents never coming from plugins."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from proxx import vocabulary
from proxx.plugin import Codec, ConfigurationError, hookimpl, probe
from proxx.pluginmanager import build_plugin_manager
from proxx.schemas import CANONICAL_PROFILE, violations
from proxx.testing.conformance import EngineConformance
from tests import vp9webm

VP9_PROFILE = {
    "canonical_profile_version": "1.0",
    "id": "vp9_check",
    "engine": "vp9webm",
    "codec": "vp9",
    "container": "webm",
    "resolution": "source",
    "audio": "opus",
}


class TestVP9WebMConformance(EngineConformance):
    engine = "vp9webm"
    canonical_profile = "vp9_webm_half"  # shipped by the plugin
    plugins: ClassVar[Mapping[str, object]] = {"vp9webm": vp9webm}


def test_the_schema_refuses_undeclared_names_and_accepts_declared_ones() -> None:
    undeclared = {**VP9_PROFILE, "codec": "av1_house", "container": "house", "audio": "house"}
    assert {v.path for v in violations(undeclared, CANONICAL_PROFILE)} == {("codec",), ("container",), ("audio",)}
    build_plugin_manager({"vp9webm": vp9webm})  # registering a plugin declares its vocabulary
    assert violations(VP9_PROFILE, CANONICAL_PROFILE) == []
    assert {v.path for v in violations(undeclared, CANONICAL_PROFILE)} == {("codec",), ("container",), ("audio",)}


def test_a_vp9_intent_compiles_renders_and_verifies(proxx_register, proxx_profiles, proxx_open, proxx_clip, proxx_run):
    proxx_register(vp9webm, name="vp9webm")
    intent = {"user_profile_version": "1.1", "name": "Browser review", "constraints": {"codecs": ["vp9"]}}
    app = proxx_open(profiles=[proxx_profiles({"user/browser.yaml": intent})])
    outcome = proxx_run(app, "Browser review", [proxx_clip(size="640x360", frames=12)])
    assert outcome.row.state == "COMPLETED", outcome.row.message
    assert outcome.spec.proxy_profile == "vp9_webm_half"
    assert outcome.outputs[0].suffix == ".webm"
    info = probe(str(outcome.outputs[0]))
    assert info.container == "webm" and info.video is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("vp9", 320, 180)
    checks = {c.name: c for c in outcome.result.clips[0].checks}
    assert checks["video_codec"].actual == "vp9" and checks["container"].actual == "webm"
    assert checks["audio[0].codec"].passed and checks["audio[0].codec"].actual == "opus"


def test_an_output_with_another_audio_codec_fails_the_declared_policy(proxx_register, proxx_open, proxx_clip):
    from proxx.verify.checks import verify_output

    proxx_register(vp9webm, name="vp9webm")
    profile = proxx_open().repository.registry.get("vp9_webm_half")
    assert profile is not None
    source = probe(str(proxx_clip()))
    checks = {c.name: c for c in verify_output(profile, source, source)}
    assert not checks["audio[0].codec"].passed and checks["audio[0].codec"].expected == "opus"


class RedefinesH264:
    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_vocabulary(self) -> Any:
        yield Codec("h264", family="h264", probe_codec="h264_house")


def test_a_plugin_cannot_redefine_a_bundled_name() -> None:
    with pytest.raises(ConfigurationError, match="Plugin 'house' declares the codec 'h264', which proxx already"):
        build_plugin_manager({"house": RedefinesH264()})
    assert vocabulary.codec("h264").probe_codec == "h264"


class ShipsAnIntent:
    PROXX_PLUGIN_API = "1.0"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def proxx_canonical_profiles(self) -> list[Path]:
        return [self.folder]


def test_a_plugin_shipping_a_user_profile_fails_at_load_naming_it(tmp_path: Path) -> None:
    (tmp_path / "hd_editorial.yaml").write_text(
        'user_profile_version: "1.1"\nname: HD Editorial LT\nconstraints: {codecs: [h264]}\n', encoding="utf-8"
    )
    (tmp_path / "canonical.yaml").write_text(
        "\n".join(f"{k}: {v}" for k, v in {**VP9_PROFILE, "codec": "h264", "container": "mp4"}.items()),
        encoding="utf-8",
    )
    pm = build_plugin_manager({"passthrough": ShipsAnIntent(tmp_path)})
    with pytest.raises(ConfigurationError) as caught:
        pm.canonical_profile_paths()
    assert caught.value.reason == "plugin_ships_intent"
    assert (
        "Plugin 'passthrough' ships the user profile" in caught.value.message
        and "hd_editorial.yaml" in caught.value.message
    )


def test_a_plugin_shipping_only_canonical_profiles_loads(tmp_path: Path) -> None:
    pm = build_plugin_manager({"vp9webm": vp9webm})
    assert vp9webm.PROFILES in pm.canonical_profile_paths()


class ShipsProfiles:
    """A plugin that ships canonical profiles and declares no vocabulary."""

    PROXX_PLUGIN_API = "1.1"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def proxx_canonical_profiles(self) -> list[Path]:
        return [self.folder]


def test_a_plugin_profile_with_undeclared_names_is_the_plugins_error_in_registry_and_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from proxx import pluginmanager
    from proxx.testing import main

    shipped = tmp_path / "plugin"
    shipped.mkdir()
    profile = {
        **VP9_PROFILE,
        "id": "studio_av1_half",
        "engine": "ffmpeg",
        "codec": "av1_house",
        "container": "mkv",
        "audio": "opus_house",
    }
    (shipped / "av1.yaml").write_text("\n".join(f"{k}: {v}" for k, v in profile.items()), encoding="utf-8")
    studio = tmp_path / "studio" / "user"
    studio.mkdir(parents=True)
    (studio / "hd.yaml").write_text('user_profile_version: "1.1"\nname: Studio HD\nconstraints: {codecs: [h264]}\n')
    pm = build_plugin_manager({"studio-av1": ShipsProfiles(shipped)})
    monkeypatch.setattr(pluginmanager, "plugin_manager", lambda: pm)
    monkeypatch.setattr("proxx.app.plugin_manager", lambda: pm)
    monkeypatch.setenv("PROXX_HOME", str(tmp_path / "home"))

    (problem,) = pm.plugin_profile_problems()
    assert problem.reason == "plugin_vocabulary_undeclared"
    assert problem.message.startswith(
        "Plugin 'studio-av1' ships a canonical profile using the codec 'av1_house', container 'mkv', audio policy 'opus_house'"
    )
    assert "Codec('av1_house', ...), Container('mkv', ...), AudioPolicy('opus_house', ...)" in problem.message

    assert main(["registry"]) == 6  # a broken plugin is a configuration error, named
    assert "Plugin 'studio-av1' ships a canonical profile" in capsys.readouterr().err
    assert main(["validate", str(studio.parent)]) == 3
    out = capsys.readouterr().out
    assert "Plugin 'studio-av1'" in out and "plugin_vocabulary_undeclared" in out

    # Operators see neither the broken profile's id nor the plugin's vocabulary.
    monkeypatch.setenv("PROXX_PROFILES", str(studio.parent))
    assert main(["profiles", "--all"]) == 0
    listed = capsys.readouterr().out
    assert "Studio HD" in listed and "studio_av1_half" not in listed and "av1" not in listed
