"""Where the files that ship with proxx live: the JSON Schemas and the bundled profile repository.

The repository keeps them at its top level (`schemas/`, `profiles/`) so that a studio's CI can point
any JSON Schema validator at the very files proxx uses; a wheel carries the same files under
`proxx/_data/`.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"proxx installation is incomplete: no '{name}' folder beside {_PACKAGE}")


def schemas_dir() -> Path:
    return data_dir("schemas")


def bundled_profiles_dir() -> Path:
    """The bundled profile repository (its `canonical/` and `user/` folders), as installed."""
    return data_dir("profiles")


def bundled_profiles_read(bundled: bool | None = None) -> bool:
    """Whether the bundled repository is a layer: `bundled` (a command's `--no-bundled-profiles`)
    when given, else unless PROXX_BUNDLED_PROFILES=0."""
    return os.environ.get("PROXX_BUNDLED_PROFILES", "1") != "0" if bundled is None else bundled
