"""The V2 contract (V2_PROFILE_SELECTION_AND_JOB_CREATION.md), one test per statement an operator or
an integrator can observe, each module named after the section of the spec it checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxx.media.samples import make_clip


@pytest.fixture(scope="package")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real clip (4 frames, 320x180), made once for the whole suite."""
    return make_clip(tmp_path_factory.mktemp("conformance") / "A001_C001.mov", frames=4, size="320x180")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


from tests.conformance.surfaces import operator_surfaces  # noqa: E402,F401  (made once, for several sections)
