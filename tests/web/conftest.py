"""Fixtures for the web shell: a media root with a real clip and a broken one, a studio profile
layer, the service and an HTTP client."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from web_helpers import write_studio_intent

from proxx import Proxx
from proxx.media.samples import make_clip
from proxx.web.app import create_app
from proxx.web.roots import MediaRoots, parse_roots
from proxx.web.service import WebService


@pytest.fixture(scope="session")
def sample_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny real clip for the whole session (copied into each test's media root)."""
    return make_clip(tmp_path_factory.mktemp("clips") / "A001_C001.mov", size="160x90", frames=12)


CHROMIUM = os.environ.get("PROXX_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every browser test of the session (each test opens its own context)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/install-chromium.sh installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def progress_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip long enough that its job is seen RUNNING with a progress bar (15 s at 640x360), made
    once for the session and copied into each browser test's media root."""
    return make_clip(tmp_path_factory.mktemp("clips") / "A001_C002.mov", size="640x360", frames=360)


@pytest.fixture
def media(tmp_path: Path, sample_clip: Path) -> Path:
    """media/day1/A001_C001.mov (a real clip), media/day1/broken.mov (not media), media/out/."""
    root = tmp_path / "media"
    (root / "day1").mkdir(parents=True)
    (root / "out").mkdir()
    shutil.copy(sample_clip, root / "day1" / "A001_C001.mov")
    (root / "day1" / "broken.mov").write_text("this is not a video\n", encoding="utf-8")
    return root


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    folder = tmp_path / "studio-profiles"
    write_studio_intent(folder)
    return folder


@pytest.fixture
def service(proxx_home: Path, media: Path, layer: Path) -> Iterator[WebService]:
    proxx = Proxx.open(profiles=[layer])
    web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs), profiles=[layer])
    yield web
    web.proxx.store.close()


@pytest.fixture
def client(service: WebService) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as http:
        yield http
