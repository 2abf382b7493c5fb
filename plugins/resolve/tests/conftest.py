"""Fixtures for the Resolve engine: the fake DaVinciResolveScript (fake_resolve/Modules), a control
file that sets how the fake "Resolve" behaves, and one intent per Resolve profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from resolve_helpers import FAKE_SCRIPTING, RESOLVE_PROFILES, FakeResolve

from proxx import Proxx
from proxx.testing import make_clip


@pytest.fixture
def fake_resolve(tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeResolve]:
    folder = tmp_path / "fake-resolve"
    folder.mkdir()
    fake = FakeResolve(folder)
    monkeypatch.setenv("RESOLVE_SCRIPT_API", str(FAKE_SCRIPTING))
    monkeypatch.delenv("RESOLVE_SCRIPT_LIB", raising=False)
    monkeypatch.delenv("PROXX_RESOLVE_START", raising=False)
    monkeypatch.setenv("FAKE_RESOLVE_CONTROL", str(fake.control_path))
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "30")
    monkeypatch.setenv("PROXX_TIMEOUT_FACTOR", "0")
    monkeypatch.setenv("PROXX_RESOLVE_CLEANUP_SECONDS", "5")
    yield fake


@pytest.fixture
def intents(tmp_path: Path) -> Path:
    """A repository layer with one intent per Resolve profile: "Resolve <codec>"."""
    folder = tmp_path / "intents" / "user"
    folder.mkdir(parents=True)
    for codec in RESOLVE_PROFILES:
        (folder / f"{codec}.yaml").write_text(
            f'user_profile_version: "1.1"\nname: Resolve {codec}\n'
            f"constraints:\n  codecs: [{codec}]\n  engine_preference: [resolve]\n",
            encoding="utf-8",
        )
    return folder.parent


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 frames at 23.976 with a timecode that is not Resolve's default timeline start."""
    return make_clip(
        tmp_path_factory.mktemp("resolve-media") / "A001.mov", size="320x180", frames=12, timecode="02:03:04:05"
    )


@pytest.fixture
def app(fake_resolve: FakeResolve, intents: Path) -> Proxx:
    return Proxx.open(profiles=[intents])
