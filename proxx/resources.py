"""Where the files that ship with proxx live: the JSON Schemas and the bundled profile repository.

The repository keeps them at its top level (`schemas/`, `profiles/`) so that a studio's CI can point
any JSON Schema validator at the very files proxx uses; a wheel carries the same files under
`proxx/_data/`.
"""

from __future__ import annotations

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
    return data_dir("profiles")
