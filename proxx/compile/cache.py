"""A cache of profile files that passed their schema, keyed by path, size and modification time.

Starting `proxx run` then costs no YAML parsing and no JSON Schema import for unchanged files
(~60 ms of a ~200 ms start-up). Entries are only ever written for files without problems, and the
whole cache is dropped when proxx or any schema file changes. `proxx validate` never uses it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from proxx.resources import schemas_dir
from proxx.version import __version__


def _stamp(file: Path) -> list[int] | None:
    try:
        stat = file.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _rules_key() -> str:
    """Changes whenever proxx or a schema file changes."""
    digest = hashlib.sha256(__version__.encode())
    for schema in sorted(schemas_dir().glob("*.schema.json")):
        digest.update(f"{schema.name}:{_stamp(schema)}".encode())
    return digest.hexdigest()


class ProfileCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._key = _rules_key()
        self._entries: dict[str, Any] = {}
        self._dirty = False
        with contextlib.suppress(OSError, ValueError):
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("key") == self._key:
                self._entries = stored["files"]

    def get(self, file: Path) -> tuple[str, dict[str, Any]] | None:
        entry = self._entries.get(str(file))
        if entry is None or entry["stamp"] != _stamp(file):
            return None
        return entry["kind"], entry["document"]

    def put(self, file: Path, kind: str, document: dict[str, Any]) -> None:
        self._entries[str(file)] = {"stamp": _stamp(file), "kind": kind, "document": document}
        self._dirty = True

    def save(self) -> None:
        """Best effort: a cache that cannot be written only costs speed."""
        if not self._dirty:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": self._key, "files": self._entries}), encoding="utf-8")
            os.replace(tmp, self.path)
            self._dirty = False
