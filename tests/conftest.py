from __future__ import annotations

from typing import Any

import pytest

from proxx import Registry, UserProfile
from proxx.compile.repository import load_repository
from proxx.converter import converter
from proxx.pluginmanager import plugin_manager
from proxx.resources import bundled_profiles_dir
from tests.camera_media import camera_media, camera_media_missing  # noqa: F401  (one generation per session)

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session", autouse=True)
def _process_wide_plugin_manager() -> None:
    # Built once under the session's own environment: never first (and for every later test) under
    # one test's narrowed PROXX_LOAD_PLUGINS, whatever order the tests run in.
    plugin_manager()


@pytest.fixture(scope="session")
def bundled_registry() -> Registry:
    return load_repository([bundled_profiles_dir()]).registry


@pytest.fixture(scope="session")
def reference_registry(bundled_registry: Registry) -> Registry:
    """Exactly the reference implementation's ten canonical profiles."""
    return Registry.of(p for p in bundled_registry if "(reference registry)" in p.description)


def intent(version: str = "1.0", name: str = "Test", **constraints: Any) -> UserProfile:
    return converter.structure({"user_profile_version": version, "name": name, "constraints": constraints}, UserProfile)


# proxx_home and the other kit fixtures come from proxx.testing.plugin (the pytest11 entry point).
