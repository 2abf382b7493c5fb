"""A cache of profile files that passed their schema, keyed by path, size and modification time.

Starting `proxx run` then costs no YAML parsing and no JSON Schema import for unchanged files
(~60 ms saved on every start). Entries are only ever written for files without problems, and the
whole cache is dropped when proxx or any schema file changes. `proxx validate` never uses it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from proxx import vocabulary
from proxx.home import file_stamp, read_cache, write_cache
from proxx.resources import schemas_dir
from proxx.version import __version__


def _rules_key() -> str:
    """Changes whenever proxx, a schema file or the vocabulary plugins declared changes."""
    digest = hashlib.sha256(f"{__version__}:{vocabulary.fingerprint()}".encode())
    for schema in sorted(schemas_dir().glob("*.schema.json")):
        digest.update(f"{schema.name}:{file_stamp(schema)}".encode())
    return digest.hexdigest()


class ProfileCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._key = _rules_key()
        self._entries: dict[str, Any] = {}
        self._dirty = False
        stored = read_cache(path)
        if isinstance(stored, dict) and stored.get("key") == self._key and isinstance(stored.get("files"), dict):
            self._entries = stored["files"]

    def get(self, file: Path) -> tuple[str, dict[str, Any]] | None:
        entry = self._entries.get(str(file))
        if entry is None or entry["stamp"] != file_stamp(file):
            return None
        return entry["kind"], entry["document"]

    def put(self, file: Path, kind: str, document: dict[str, Any]) -> None:
        self._entries[str(file)] = {"stamp": file_stamp(file), "kind": kind, "document": document}
        self._dirty = True

    def save(self) -> None:
        """Best effort: a cache that cannot be written only costs speed."""
        if not self._dirty:
            return
        write_cache(self.path, {"key": self._key, "files": self._entries})
        self._dirty = False
