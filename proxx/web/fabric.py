"""Fabric lookup for integrators: the web shell asks the installed Fabric plugin, never Fabric's store.

Integration point: the plugin registered on the `proxx` entry-point group under the name `fabric`
(the same plugin that implements Fabric's hooks) exposes a module-level callable
`web_lookup() -> FabricLookup`. `lookup(fingerprint)` returns the Fabric record for a proxy
fingerprint as a JSON-able mapping (JobSpec id, canonical id, source and output fingerprints,
verification results), or None when Fabric knows no such fingerprint. Without the plugin the
endpoint answers 501; an unknown fingerprint is 404. Records carry canonical ids, so the endpoint
is an integrator one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pluggy

FABRIC_PLUGIN = "fabric"


class FabricLookup(Protocol):
    def lookup(self, fingerprint: str) -> Mapping[str, Any] | None:
        """The record for `fingerprint`, or None when Fabric does not know it."""


def find_fabric(pm: pluggy.PluginManager) -> FabricLookup | None:
    plugin = pm.get_plugin(FABRIC_PLUGIN)
    factory = getattr(plugin, "web_lookup", None)
    if not callable(factory):
        return None
    lookup: FabricLookup = factory()
    return lookup
