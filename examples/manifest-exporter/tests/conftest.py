"""The exporter's tests pass whether or not it is installed. Installed, proxx loads it through its
entry point like any plugin; not installed (proxx's own test suite: installed, it would export every
job of that suite), its package is imported from this folder and registered for each test."""

import sys
from collections.abc import Callable
from pathlib import Path

import pluggy
import pytest

try:
    import proxx_manifest
except ModuleNotFoundError:  # not installed: import it from the folder above tests/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import proxx_manifest


@pytest.fixture
def manifest_plugin(proxx_plugin_manager: pluggy.PluginManager, proxx_register: Callable[..., object]) -> object:
    """The exporter in this test's plugin manager: the installed one, or registered for this test
    only. Registering it again under its entry-point name would fail: "Plugin name already registered"."""
    if not proxx_plugin_manager.has_plugin("manifest"):
        proxx_register(proxx_manifest, name="manifest")
    return proxx_plugin_manager.get_plugin("manifest")
