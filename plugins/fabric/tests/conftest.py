from __future__ import annotations

import pytest

from proxx import Registry, load_repository
from proxx.testing import bundled_profiles_dir


@pytest.fixture(scope="session")
def bundled_registry() -> Registry:
    return load_repository([bundled_profiles_dir()]).registry
