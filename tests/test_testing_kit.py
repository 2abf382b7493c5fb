"""The plugin authors' kit: its fixtures, and a conformance suite that fails engines that break the
contract (a suite that cannot fail proves nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proxx.testing import intent_for


def test_fixtures_run_a_bundled_intent_end_to_end(proxx_open, proxx_clip, proxx_run, proxx_home):
    app = proxx_open()
    outcome = proxx_run(app, "Review H.264", [proxx_clip(size="160x90", frames=12)])
    assert outcome.row.state == "COMPLETED"
    assert outcome.outputs[0].is_file()
    assert outcome.row.result_path.startswith(str(proxx_home))
    assert json.loads(Path(outcome.row.result_path).read_text())["state"] == "COMPLETED"


def test_profiles_written_from_a_dict_join_the_registry(proxx_open, proxx_profiles):
    canonical = {
        "canonical_profile_version": "1.0", "id": "studio_prores_lt_720", "engine": "ffmpeg",
        "codec": "prores_lt", "container": "mov", "resolution": "fit_1280x720", "audio": "copy",
    }  # fmt: skip
    repository = proxx_profiles(
        {"canonical/studio.yaml": canonical, "user/studio.yaml": intent_for("studio_prores_lt_720", "Studio 720")}
    )
    app = proxx_open(profiles=[repository])
    assert app.repository.problems == ()
    assert app.select("Studio 720").canonical.id == "studio_prores_lt_720"


def test_a_registered_plugin_is_gone_after_its_test(pytester):
    pytester.makepyfile(
        """
        from proxx.plugin import Availability, Engine, hookimpl

        class Idle(Engine):
            name = "idle"
            def availability(self):
                return Availability(True)
            def render(self, task):
                raise NotImplementedError

        class Plugin:
            @hookimpl
            def proxx_engines(self):
                yield Idle()

        managers = []

        def test_registered(proxx_register, proxx_plugin_manager):
            proxx_register(Plugin(), name="idle-plugin")
            managers.append(proxx_plugin_manager)
            assert "idle" in proxx_plugin_manager.engines()

        def test_unregistered_after():
            assert managers[0].get_plugin("idle-plugin") is None
            assert "idle" not in managers[0].engines()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_conformance_suite_fails_an_engine_that_breaks_the_contract(pytester):
    # This engine copies its source: the output is not what the profile says, and it never times out.
    pytester.makepyfile(
        """
        import shutil
        from proxx.plugin import Availability, Engine, hookimpl
        from proxx.execute.engine import RenderReport
        from proxx.testing.conformance import EngineConformance

        class CopyEngine(Engine):
            name = "copy"
            def availability(self):
                return Availability(True, version="1")
            def render(self, task):
                shutil.copyfile(task.clip.source, task.partial_path)
                return RenderReport("1")

        class Plugin:
            @hookimpl
            def proxx_engines(self):
                yield CopyEngine()

        class TestCopyConformance(EngineConformance):
            engine = "copy"
            plugins = {"copy-plugin": Plugin()}
            canonical_profile = {
                "canonical_profile_version": "1.0", "id": "copy_prores_proxy", "engine": "copy",
                "codec": "prores_proxy", "container": "mov", "resolution": "source", "audio": "copy",
            }

            def make_source(self, proxx_clip):
                return proxx_clip(size="160x90", frames=12)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=3)
    result.stdout.fnmatch_lines(
        [
            "FAILED *::TestCopyConformance::test_renders_a_verified_output_under_its_final_name*",
            "FAILED *::TestCopyConformance::test_a_timeout_fails_class_c*",
            "FAILED *::TestCopyConformance::test_a_cancel_stops_the_render*",
        ]
    )
    # What the engine must fix, which operators' words leave out ("the proxy's video is not the format
    # this intent promises"): each failed check with its values (`JobOutcome.why`).
    result.stdout.fnmatch_lines(["*A001.mov: check video_codec: expected prores*, actual h264*"])


def test_an_engine_missing_here_can_skip_the_checks_that_render(pytester):
    pytester.makepyfile(
        """
        from proxx.plugin import Availability, Engine, hookimpl
        from proxx.testing.conformance import EngineConformance

        class Licensed(Engine):
            name = "licensed"
            def availability(self):
                return Availability(False, "no licence server")
            def render(self, task):
                raise AssertionError("never called")

        class Plugin:
            @hookimpl
            def proxx_engines(self):
                yield Licensed()

        class TestLicensedConformance(EngineConformance):
            engine = "licensed"
            plugins = {"licensed-plugin": Plugin()}
            skip_when_unavailable = True
            canonical_profile = {
                "canonical_profile_version": "1.0", "id": "licensed_prores_proxy", "engine": "licensed",
                "codec": "prores_proxy", "container": "mov", "resolution": "source", "audio": "copy",
            }
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=6)
    result.stdout.fnmatch_lines(["SKIPPED *licensed is not available here: no licence server*"])


def test_make_clip_names_the_known_codecs_for_an_unknown_one(tmp_path):
    from proxx.testing import make_clip

    with pytest.raises(ValueError, match="unknown video_codec 'vp8'; known: h264, prores, ffv1, mjpeg"):
        make_clip(tmp_path / "A.mov", video_codec="vp8")
    assert not (tmp_path / "A.mov").exists()


def test_the_timeout_check_does_not_race_an_engine_that_finishes_in_milliseconds(pytester):
    # A stream-copy engine finishes a 12-frame clip in a few milliseconds: the check slows its ffmpeg
    # down instead of hoping a tiny timeout beats it, so it passes every time.
    pytester.makepyfile(
        """
        import subprocess
        from proxx.plugin import Availability, Engine, ExecutionError, RenderReport, hookimpl, require_tool
        from proxx.testing.conformance import EngineConformance

        class Remux(Engine):
            name = "remux"
            def availability(self):
                return Availability(True, version="1")
            def render(self, task):
                command = [require_tool("ffmpeg").path, "-nostdin", "-i", task.clip.source, "-c", "copy",
                           "-f", "mov", task.partial_path]
                try:
                    subprocess.run(command, capture_output=True, timeout=task.timeout, check=True)
                except subprocess.TimeoutExpired:
                    raise ExecutionError("timeout", f"Remux timed out after {task.timeout:g} seconds") from None
                return RenderReport("1")

        class Plugin:
            @hookimpl
            def proxx_engines(self):
                yield Remux()

        class TestRemuxConformance(EngineConformance):
            engine = "remux"
            plugins = {"remux-plugin": Plugin()}
            canonical_profile = {
                "canonical_profile_version": "1.0", "id": "remux_prores", "engine": "remux",
                "codec": "prores_standard", "container": "mov", "resolution": "source", "audio": "copy",
            }

            def make_source(self, proxx_clip):
                return proxx_clip(size="160x90", frames=12, video_codec="prores")
        """
    )
    for _ in range(3):  # the old 0.01 s race failed a remux 4 runs in 6
        result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_a_timeout_fails_class_c")
        result.assert_outcomes(passed=1, deselected=6)


def test_registering_a_plugin_after_proxx_open_says_to_register_first(proxx_open, proxx_register):
    """The Proxx `proxx_open` made has collected its engines: a plugin registered after it was never
    seen, and its jobs failed "... which no installed plugin provides". Now the kit says so."""
    proxx_open()
    with pytest.raises(RuntimeError, match=r"name='late'\) was called after proxx_open.*Register the plugin first"):
        proxx_register(object(), name="late")


def test_an_outcomes_why_lists_each_class_b_problem(proxx_open, proxx_run, tmp_path):
    outcome = proxx_run(proxx_open(), "Review H.264", [tmp_path / "missing.mov"])
    assert outcome.why.splitlines() == [
        f"FAILED: {outcome.row.message}",
        f"  problem source_missing: Source file '{tmp_path / 'missing.mov'}' does not exist.",
    ]


def test_a_canonical_id_the_registry_lacks_is_said_with_what_it_holds_and_what_to_give(pytester):
    """A misspelled `canonical_profile` failed every check with "is not in the registry: ()"."""
    pytester.makepyfile(
        """
        from proxx.testing.conformance import EngineConformance

        class TestTypo(EngineConformance):
            engine = "ffmpeg"
            canonical_profile = "proxy_h264_lowe"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "available_here")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*canonical profile 'proxy_h264_lowe' is not in the registry (it holds: *proxy_h264_low, *). Set "
            "`canonical_profile` to the id of one the bundled repository or an installed plugin ships, a Path to its "
            "YAML file, or the profile itself as a mapping."
        ]
    )


def test_a_canonical_profile_file_that_holds_an_intent_says_so(pytester):
    pytester.makefile(".yaml", oops='user_profile_version: "1.1"\nname: Oops\nconstraints: {codecs: [h264]}\n')
    pytester.makepyfile(
        """
        from pathlib import Path
        from proxx.testing.conformance import EngineConformance

        class TestIntentFile(EngineConformance):
            engine = "ffmpeg"
            canonical_profile = Path(__file__).with_name("oops.yaml")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "available_here")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*oops.yaml must hold exactly one canonical profile (a file starting with `canonical_profile_version`), "
            "not *; it holds the intents *'Oops'*, not canonical profiles"
        ]
    )


def test_an_engine_left_out_by_proxx_load_plugins_is_said_so(pytester, monkeypatch):
    """The tutorial runs the kit with PROXX_LOAD_PLUGINS=ffmpeg,inhouse: an engine's plugin left out
    of that list failed every check with "no installed plugin provides the engine", though installed."""
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg")
    pytester.makepyfile(
        """
        from proxx.testing.conformance import EngineConformance

        class TestLeftOut(EngineConformance):
            engine = "inhouse"
            canonical_profile = {
                "canonical_profile_version": "1.0", "id": "left_out", "engine": "inhouse",
                "codec": "prores_proxy", "container": "mov", "resolution": "source", "audio": "copy",
            }
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "available_here")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no plugin provides the engine 'inhouse' (engines: *'ffmpeg'*); PROXX_LOAD_PLUGINS=ffmpeg loads only the "
            "plugins it names: add the engine's plugin (its entry-point name)"
        ]
    )
