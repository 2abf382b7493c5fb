"""The engine conformance suite: what every engine plugin must do, checked against the real engine.

Subclass `EngineConformance` in your plugin's tests (the class name must start with `Test`), name
your engine and a canonical profile it renders, and pytest runs every check on your engine::

    from proxx.testing.conformance import EngineConformance

    class TestInhouseConformance(EngineConformance):
        engine = "inhouse"
        canonical_profile = "inhouse_hevc_quarter"

Settings (class attributes):

* `engine`: the engine name (what canonical profiles put in `engine`).
* `canonical_profile`: a canonical id already in the registry (bundled, shipped by a plugin through
  `proxx_canonical_profiles`, or on PROXX_PROFILES), a `Path` to a canonical profile YAML file, or
  the profile as a mapping. The suite adds a user profile graduated to it, so the job means exactly it.
* `plugins`: {name: plugin object} registered for each test, for an engine not installed through an
  entry point.
* `skip_when_unavailable`: False by default, so an engine that cannot run fails the checks that
  render. Set it True for an engine the test machine may lack (a licensed application): those checks
  are then skipped, with the engine's own reason, and the others still run.
* `timeout_seconds`: the timeout `test_a_timeout_fails_class_c` forces (PROXX_TIMEOUT_MIN with
  PROXX_TIMEOUT_FACTOR=0), 1 second by default. The render is first slowed down (`slow_down`) to
  take a minute, so the check never races an engine that finishes in milliseconds: the job must
  fail with reason `timeout` well before the minute is up.

Hooks (override the methods):

* `make_source(self, proxx_clip) -> Path`: the source clip every test renders. The default is
  `proxx_clip()`, a 320x180, 24-frame H.264 MOV with stereo audio and a start timecode; override it
  when your engine or profile needs another size, codec or audio layout (`make_clip` options).
* `slow_down(self, monkeypatch, folder)`: makes every render take a minute, for
  `test_a_timeout_fails_class_c`. The default points PROXX_FFMPEG at a wrapper (written in
  `folder`) that waits a minute before running the real ffmpeg for any command that reads an input
  (`-i`), and passes version and encoder queries straight through: that slows down every engine
  that runs ffmpeg through `proxx.plugin.find_tool` / `require_tool`. Override it for an engine that
  runs something else (make its binary or service slow the same way). If a render still completes,
  the check fails asking for the override.
* `make_unavailable(self, app, monkeypatch)`: makes the engine unavailable for
  `test_an_unavailable_engine_fails_class_b_and_runs_nothing`. The default replaces the engine's
  `availability()` with one saying no; override it to exercise your real check (a missing binary, an
  unreachable licence server), as the FFmpeg plugin's suite does by pointing PROXX_FFMPEG nowhere.

What is checked, on every outcome: the result JSON is written and valid against
`schemas/job-result-1.0.schema.json` and agrees with the job store; on every failure, no output has
its final name.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

from proxx.app import Proxx
from proxx.compile.repository import load_repository
from proxx.errors import CANCELLED
from proxx.execute.engine import Availability, Engine, RenderReport, RenderTask
from proxx.media.tools import find_tool
from proxx.result import CLIP_COMPLETED, CLIP_NOT_RUN
from proxx.schemas import JOB_RESULT, format_path, violations
from proxx.store import COMPLETED, FAILED
from proxx.testing.kit import JobOutcome, intent_for, run_job
from proxx.testing.plugin import MakeClip, Open, Register, WriteProfiles

INTENT = "Engine conformance"
PARTIAL_MARK = ".proxx-partial-"
# How long after a timed-out job returns the partial output must stay unchanged: a render that goes
# on writing after its engine gave up is a process the engine failed to stop.
SETTLE_SECONDS = 0.5
# How long after its render started the cancel check cancels it.
CANCEL_AFTER = 0.5
# How long a slowed-down render takes: far beyond any timeout the check sets.
SLOW_SECONDS = 60
# The default slow-down: ffmpeg, but a minute late for every command that reads an input.
# A render is slowed down (it reads a file and writes one), never verification's own reads of the
# pictures (they write to a pipe): an engine that renders without ffmpeg is checked in seconds.
SLOW_FFMPEG = """#!{python}
import os, sys, time
if "-i" in sys.argv[1:] and sys.argv[-1] != "pipe:1":
    time.sleep({seconds})
os.execv({ffmpeg!r}, [{ffmpeg!r}, *sys.argv[1:]])
"""


@attrs.frozen
class Bench:
    """One check's setting: the app (with the conformance intent), the engine under test, the source
    clip, and the (empty) output folder."""

    app: Proxx
    engine: Engine
    source: Path
    output_directory: Path

    def run(self) -> JobOutcome:
        return run_job(self.app, INTENT, [self.source], self.output_directory)


def _exporter_record(path: Path, bench: Bench) -> bool:
    """What exporters declare they write beside outputs (`Exporter.beside_outputs`: Fabric's MHL
    history and result copies, say) is not the engine's doing."""
    first = path.relative_to(bench.output_directory).parts[0]
    return any(first in exporter.beside_outputs for exporter in bench.app.exporters.values())


class EngineConformance:
    """The checks every engine plugin passes; subclass it as the module documentation says."""

    engine: ClassVar[str]
    canonical_profile: ClassVar[str | Path | Mapping[str, Any]]
    plugins: ClassVar[Mapping[str, object]] = {}
    skip_when_unavailable: ClassVar[bool] = False
    timeout_seconds: ClassVar[float] = 1.0

    # --- hooks ------------------------------------------------------------------------------------

    def make_source(self, proxx_clip: MakeClip) -> Path:
        """The source clip each test renders."""
        return proxx_clip()

    def slow_down(self, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
        """Make every render take SLOW_SECONDS, for the timeout check. Override for an engine that
        does not run ffmpeg through proxx's tool lookup."""
        ffmpeg = find_tool("ffmpeg")
        if ffmpeg is None:
            pytest.fail("the default slow_down wraps ffmpeg, which is not installed: override slow_down")
        wrapper = folder / "slow-ffmpeg"
        wrapper.write_text(SLOW_FFMPEG.format(python=sys.executable, seconds=SLOW_SECONDS, ffmpeg=ffmpeg.path))
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PROXX_FFMPEG", str(wrapper))
        find_tool.cache_clear()  # it remembers the ffmpeg it found

    @pytest.fixture(autouse=True)
    def _forget_tools(self) -> Iterator[None]:
        """The tool lookup remembers its answer: forget one a check changed, once its environment is back."""
        yield
        find_tool.cache_clear()

    def make_unavailable(self, app: Proxx, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make the engine unavailable on this machine for one test. Override to use the real cause."""
        unavailable = Availability(False, "made unavailable by the proxx conformance suite")
        monkeypatch.setattr(app.engines[self.engine], "availability", lambda: unavailable)

    # --- setting ----------------------------------------------------------------------------------

    @pytest.fixture
    def bench(
        self,
        tmp_path: Path,
        proxx_register: Register,
        proxx_open: Open,
        proxx_profiles: WriteProfiles,
        proxx_clip: MakeClip,
    ) -> Bench:
        for name, plugin in self.plugins.items():
            proxx_register(plugin, name=name)
        layers, canonical_id = self._canonical_layers()
        files: dict[str, Any] = {"user/conformance.yaml": intent_for(canonical_id, INTENT)}
        if isinstance(self.canonical_profile, Mapping):
            files["canonical/conformance.yaml"] = dict(self.canonical_profile)
        app = proxx_open(profiles=[*layers, proxx_profiles(files)])
        profile = app.repository.registry.get(canonical_id)
        if profile is None:
            known = ", ".join(sorted(p.id for p in app.repository.registry)) or "none"
            problems = f" Problems loading it: {list(app.repository.problems)}." if app.repository.problems else ""
            pytest.fail(
                f"canonical profile '{canonical_id}' is not in the registry (it holds: {known}).{problems} "
                "Set `canonical_profile` to the id of one the bundled repository or an installed plugin ships, a "
                "Path to its YAML file, or the profile itself as a mapping."
            )
        if profile.engine != self.engine:
            pytest.fail(f"canonical profile '{canonical_id}' names engine '{profile.engine}', not '{self.engine}'")
        if self.engine not in app.engines:
            chosen = os.environ.get("PROXX_LOAD_PLUGINS")
            hint = (
                f"; PROXX_LOAD_PLUGINS={chosen} loads only the plugins it names: add the engine's plugin (its "
                "entry-point name)"
                if chosen is not None
                else "; install the plugin (its `proxx` entry point), or register it for the suite with `plugins`"
            )
            pytest.fail(f"no plugin provides the engine '{self.engine}' (engines: {sorted(app.engines)}){hint}")
        source = self.make_source(proxx_clip)
        output_directory = tmp_path / "out"
        output_directory.mkdir()
        return Bench(app, app.engines[self.engine], source, output_directory)

    def _canonical_layers(self) -> tuple[list[Path], str]:
        profile = self.canonical_profile
        if isinstance(profile, Path):
            repository = load_repository([profile])
            ids = [p.id for p in repository.registry]
            if len(ids) != 1:
                intents = [p.name for p in repository.user_profiles]
                why = f"; it holds the intents {intents}, not canonical profiles" if intents else ""
                problems = f"; problems: {list(repository.problems)}" if repository.problems else ""
                pytest.fail(
                    f"{profile} must hold exactly one canonical profile (a file starting with "
                    f"`canonical_profile_version`), not {ids}{why}{problems}"
                )
            return [profile], ids[0]
        if isinstance(profile, Mapping):
            return [], str(profile["id"])
        return [], profile

    def _needs_available(self, bench: Bench) -> None:
        availability = bench.engine.availability()
        if not availability.available and self.skip_when_unavailable:
            pytest.skip(f"{self.engine} is not available here: {availability.reason}")

    # --- the checks -------------------------------------------------------------------------------

    def test_the_engine_is_available_here(self, bench: Bench) -> None:
        self._needs_available(bench)
        availability = bench.engine.availability()
        assert availability.available, f"{self.engine} is not available: {availability.reason}"

    def test_renders_a_verified_output_under_its_final_name(self, bench: Bench) -> None:
        self._needs_available(bench)
        outcome = bench.run()
        assert_result_json(outcome)
        assert outcome.row.state == COMPLETED, outcome.why
        assert outcome.result.engine.name == self.engine
        assert outcome.result.engine.version, "RenderReport.engine_version must say what ran"
        (clip,) = outcome.result.clips
        assert clip.state == CLIP_COMPLETED
        assert clip.checks and all(check.passed for check in clip.checks)
        final = Path(clip.output)
        assert final.is_file() and final.stat().st_size == clip.output_bytes
        written = sorted(p for p in bench.output_directory.rglob("*") if p.is_file() and not _exporter_record(p, bench))
        assert written == [final], "the engine must write its partial path and nothing else"

    def test_an_unavailable_engine_fails_class_b_and_runs_nothing(
        self, bench: Bench, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.make_unavailable(bench.app, monkeypatch)
        renders = spy_render(bench.engine, monkeypatch, lambda render, task: render(task))
        outcome = bench.run()
        assert_failed(outcome, "B")
        assert outcome.row.reason == "engine_unavailable", outcome.why
        assert renders == [], "the engine rendered although it was unavailable"
        assert all(clip.state == CLIP_NOT_RUN for clip in outcome.result.clips)
        assert list(bench.output_directory.rglob("*")) == []

    @pytest.mark.parametrize("damage", ["truncated", "missing"])
    def test_an_output_that_fails_verification_fails_class_c(
        self, bench: Bench, monkeypatch: pytest.MonkeyPatch, damage: str
    ) -> None:
        def render_then_damage(render: Callable[[RenderTask], RenderReport], task: RenderTask) -> RenderReport:
            report = render(task)
            partial = Path(task.partial_path)
            if damage == "truncated":  # the first bytes of a real output: no container reads back from them
                data = partial.read_bytes()[:64]
                partial.write_bytes(data)
            else:
                partial.unlink()
            return report

        self._needs_available(bench)
        spy_render(bench.engine, monkeypatch, render_then_damage)
        outcome = bench.run()
        assert_failed(outcome, "C")
        assert outcome.row.reason == "verification_failed", outcome.why
        assert outcome.row.message and outcome.row.message.startswith("Output file generated but failed verification")

    def test_a_timeout_fails_class_c(self, bench: Bench, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self._needs_available(bench)
        self.slow_down(monkeypatch, tmp_path)
        monkeypatch.setenv("PROXX_TIMEOUT_MIN", str(self.timeout_seconds))
        monkeypatch.setenv("PROXX_TIMEOUT_FACTOR", "0")
        tasks = spy_render(bench.engine, monkeypatch, lambda render, task: render(task))
        started = time.monotonic()
        outcome = bench.run()
        elapsed = time.monotonic() - started
        assert [task.timeout for task in tasks] == [self.timeout_seconds]
        assert outcome.row.state == FAILED, "the slowed-down render completed: override slow_down() for this engine"
        assert elapsed < SLOW_SECONDS / 2, f"the job took {elapsed:.0f} s: the engine waited instead of stopping"
        assert_failed(outcome, "C")
        assert outcome.row.reason == "timeout", outcome.why
        sizes = partial_sizes(bench.output_directory)
        time.sleep(SETTLE_SECONDS)
        assert partial_sizes(bench.output_directory) == sizes, "the render went on after the engine timed out"

    def test_a_cancel_stops_the_render(self, bench: Bench, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """The operator cancels while the clip renders: the engine, asking `task.is_cancelled()`
        (`proxx.plugin.run_process` asks for it), stops its process and raises `cancelled_error`."""
        self._needs_available(bench)
        self.slow_down(monkeypatch, tmp_path)

        def cancel_soon(render: Callable[[RenderTask], RenderReport], task: RenderTask) -> RenderReport:
            when = time.monotonic() + CANCEL_AFTER
            return render(attrs.evolve(task, cancel_signal=lambda: time.monotonic() > when))

        spy_render(bench.engine, monkeypatch, cancel_soon)
        started = time.monotonic()
        outcome = bench.run()
        elapsed = time.monotonic() - started
        assert outcome.row.state == FAILED, "the slowed-down render completed: override slow_down() for this engine"
        assert elapsed < SLOW_SECONDS / 2, f"the job took {elapsed:.0f} s: the engine never asked task.is_cancelled()"
        assert_failed(outcome, "C")
        assert outcome.row.reason == CANCELLED, outcome.why
        sizes = partial_sizes(bench.output_directory)
        time.sleep(SETTLE_SECONDS)
        assert partial_sizes(bench.output_directory) == sizes, "the render went on after the engine was cancelled"


def spy_render(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    around: Callable[[Callable[[RenderTask], RenderReport], RenderTask], RenderReport],
) -> list[RenderTask]:
    """Route `engine.render` through `around(real_render, task)` for one test; returns the list of
    tasks it was called with, filled as the job runs."""
    real = engine.render
    tasks: list[RenderTask] = []

    def render(task: RenderTask) -> RenderReport:
        tasks.append(task)
        return around(real, task)

    monkeypatch.setattr(engine, "render", render)
    return tasks


def partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if PARTIAL_MARK in p.name) if folder.exists() else []


def partial_sizes(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in partials(folder)}


def assert_result_json(outcome: JobOutcome) -> None:
    """The result JSON on disk is valid against its schema and agrees with the store and the API."""
    problems = [f"{format_path(v.path)}: {v.message}" for v in violations(outcome.document, JOB_RESULT)]
    assert problems == [], f"result JSON breaks {JOB_RESULT}: {problems}"
    assert outcome.document == json.loads(json.dumps(outcome.result.to_dict()))
    assert outcome.document["job_id"] == outcome.row.job_id
    assert outcome.document["state"] == outcome.row.state
    failure = outcome.document.get("failure") or {}
    assert failure.get("failure_class") == outcome.row.failure_class


def assert_failed(outcome: JobOutcome, failure_class: str) -> None:
    """FAILED in `failure_class`, a valid result JSON, and no output under its final name."""
    assert_result_json(outcome)
    assert outcome.row.state == FAILED, f"expected a class {failure_class} failure, the job is {outcome.row.state}"
    assert outcome.row.failure_class == failure_class, outcome.why
    named = [str(path) for path in outcome.outputs if os.path.lexists(path)]
    assert named == [], f"a failed job left outputs under their final names: {named}"
