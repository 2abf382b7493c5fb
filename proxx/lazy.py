"""The public modules' names, loaded on first use (PEP 562): `proxx` and `proxx.plugin` each re-export
names that live in proxx's other modules, and a caller pays only for the modules of the names it
touches (loading every name of `proxx.plugin` at once costs about 150 ms, and plugins import it
whenever proxx starts). Names on their way out import with a `ProxxDeprecationWarning`.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Mapping


class ProxxDeprecationWarning(DeprecationWarning):
    """A plugin API name or hook on its way out. It keeps working, with this warning, for the rest of
    the release series that deprecated it (proxx-media 0.1.x, API 1.x) and is removed with the next
    (API 2.0). The message names what to use instead; CHANGELOG.md lists every deprecation."""


def lazy_names(
    module: str, homes: Mapping[str, str], deprecated: Mapping[str, tuple[str, str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for the public module `module`: `homes` maps each public name to
    the module it lives in; `deprecated` maps each name leaving the contract to (where it lives, what
    to use instead)."""
    namespace = vars(sys.modules[module])

    def __getattr__(name: str) -> object:
        if name in deprecated:
            home, instead = deprecated[name]
            warnings.warn(
                f"{module}.{name} is deprecated since plugin API 1.1 and will be removed in 2.0; use {instead}",
                ProxxDeprecationWarning,
                stacklevel=2,
            )
            return getattr(importlib.import_module(home), name)
        if name not in homes:
            raise AttributeError(f"module '{module}' has no attribute '{name}'")
        value = getattr(importlib.import_module(homes[name]), name)
        namespace[name] = value  # the next use is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __getattr__, __dir__
