"""proxx without the render farm plugin (`proxx-farm`, left out the way an installation without it
is: PROXX_LOAD_PLUGINS names only the FFmpeg engine). Everything else works; whatever asks for the
farm says how to get it, as a configuration error (exit 6), never as an unknown command or a job
quietly run here instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.errors import ConfigurationError
from proxx.plugin import hookimpl
from proxx.pluginmanager import build_plugin_manager
from proxx.testing import make_clip


def proxx_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxx", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def without_farm(proxx_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg")
    monkeypatch.delenv("PROXX_FARM_BROKER", raising=False)
    return {**os.environ}


def test_proxx_farm_says_how_to_get_the_plugin(without_farm: dict[str, str]) -> None:
    done = proxx_command("farm", "worker", "--engines", "ffmpeg", env=without_farm)
    assert done.returncode == 6, done.stderr
    assert "needs the render farm plugin, which is not installed: pip install proxx-farm" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_farm_setting_without_the_plugin_is_refused_not_run_here(
    without_farm: dict[str, str], tmp_path: Path
) -> None:
    source = make_clip(tmp_path / "A001.mov", frames=2)
    (tmp_path / "out").mkdir()
    env = {**without_farm, "PROXX_FARM_BROKER": "redis://127.0.0.1:1/0"}
    done = proxx_command("submit", "--profile", "Review H.264", "--output", str(tmp_path / "out"), str(source), env=env)
    assert done.returncode == 6, done.stdout + done.stderr
    assert "PROXX_FARM_BROKER names a render farm, but the render farm plugin is not installed" in done.stderr
    assert "pip install proxx-farm" in done.stderr and "Traceback" not in done.stderr

    pm = build_plugin_manager()
    assert pm.dispatchers() == {}
    proxx = Proxx.open(pm=pm)
    with pytest.raises(ConfigurationError, match="pip install proxx-farm") as refused:
        proxx.submit("Review H.264", [source], tmp_path / "out", farm="redis://127.0.0.1:1/0")
    assert refused.value.reason == "dispatcher_not_installed"
    assert proxx.store.jobs() == []  # nothing was created, nothing queued here

    # Everything else works: a job made and run here.
    done = proxx_command(
        "run", "--profile", "Review H.264", "--output", str(tmp_path / "out"), str(source), env=without_farm
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_farm_jobs_in_the_store_say_the_plugin_is_missing(without_farm: dict[str, str], tmp_path: Path) -> None:
    from proxx.jobspec.model import create_jobspec, utc_now

    proxx = Proxx.open(pm=build_plugin_manager())
    source = make_clip(tmp_path / "A001.mov", frames=2)
    spec = create_jobspec(proxx.select("Review H.264"), [source], tmp_path, utc_now(), proxx.requirements("ffmpeg"))
    proxx.store.add(spec, "redis://farm.example:6379/0")  # sent to the farm when the plugin was there
    done = proxx_command("jobs", "list", env=without_farm)
    assert done.returncode == 0, done.stderr
    assert "No installed plugin sends jobs to 'redis://farm.example:6379/0'" in done.stderr
    assert "pip install proxx-farm" in done.stderr
    done = proxx_command("jobs", "cancel", spec.job_id, env=without_farm)
    assert done.returncode == 6 and "pip install proxx-farm" in done.stderr, done.stdout + done.stderr


class StudioQueue:
    """A plugin claiming the dispatcher name the farm plugin has."""

    PROXX_PLUGIN_API = "1.2"

    @hookimpl
    def proxx_dispatchers(self):
        from proxx_farm.dispatch import FarmDispatcher

        yield FarmDispatcher()


def test_dispatchers_are_plugins_records_checked_like_every_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    pm = build_plugin_manager()
    assert list(pm.dispatchers()) == ["farm"]
    assert pm.distribution_of("farm") == ("proxx-farm", "0.1.0")  # loaded from its own distribution
    with pytest.raises(ConfigurationError) as caught:
        build_plugin_manager(extra={"studio-queue": StudioQueue()}).dispatchers()
    assert caught.value.reason == "duplicate_dispatcher"
    assert "'farm' and 'studio-queue'" in caught.value.message
