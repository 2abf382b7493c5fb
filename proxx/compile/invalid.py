"""INVALID is remembered (docs/compatibility.md, section 3: an INVALID profile never becomes ACTIVE again; a fixed
one is a new profile or a new version).

Each intent found INVALID is recorded with the content digest of the file that defines it
(`PROXX_HOME/intents-invalid.json`). It stays INVALID, whatever the registry does later (its
canonical target coming back, say), until that file's content changes: an administrator changed its
definition. Then it is judged afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from proxx.home import write_cache


def file_digest(path: str) -> str | None:
    """sha256 of a profile file's content, or None when it cannot be read."""
    try:
        return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class InvalidMemory:
    """The intents once found INVALID, by name: the digest of their file then, and why."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, dict[str, str]] = {}
        with contextlib.suppress(OSError, ValueError):
            stored = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(stored, dict):
                self._entries = {k: v for k, v in stored.items() if isinstance(v, dict)}

    def still_invalid(self, name: str, digest: str | None) -> str | None:
        """The message it was found INVALID with, while its file is the same; else None (and a
        record of an older definition is forgotten)."""
        entry = self._entries.get(name)
        if entry is None:
            return None
        if digest is not None and entry.get("digest") == digest:
            return entry.get("message", "")
        del self._entries[name]
        write_cache(self.path, self._entries)
        return None

    def remember(self, name: str, digest: str | None, message: str) -> None:
        if digest is None or self._entries.get(name, {}).get("digest") == digest:
            return
        self._entries[name] = {"digest": digest, "message": message}
        write_cache(self.path, self._entries)
