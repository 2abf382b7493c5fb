"""INVALID is remembered (docs/compatibility.md, section 3: an INVALID profile never becomes ACTIVE again; a fixed
one is a new profile or a new version).

Each intent found INVALID is recorded by its name and version (`user_profile_version`) in
`PROXX_HOME/intents-invalid.json`, with when it was found so and why then. It stays INVALID, whatever
the registry or its file does later (its canonical target coming back, a conflicting canonical
profile removed, an edit undone byte for byte), for as long as an intent of that name has that
version: the contract's rule is about versions, and a file's content says nothing about one (an edit
restored byte-identical would otherwise make an INVALID intent selectable again). A corrected
definition is a new version, or a new name; then it is judged afresh.

Records of the earlier format (by name and the digest of the defining file) are read as records of
the version the intent has while its file still has that digest, and forgotten otherwise, as they were.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import attrs

from proxx.home import read_cache, write_cache
from proxx.jobspec.stamps import utc_now

MEMORY_FILE = "intents-invalid.json"


def file_digest(path: str) -> str | None:
    """sha256 of a profile file's content, or None when it cannot be read."""
    try:
        return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


@attrs.frozen
class FoundInvalid:
    """When an intent of one version was found INVALID, and why then (the operator's words)."""

    version: str
    found_at: str  # UTC, ISO 8601; "" for a record of the earlier format, which did not say
    why: str


class InvalidMemory:
    """The intents once found INVALID, by name and version."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, dict[str, dict[str, str]]] = {}
        self._legacy: dict[str, dict[str, str]] = {}  # name -> {"digest", "message"}: the earlier format
        stored = read_cache(path)  # proxx's own file only: a planted one could forget an INVALID intent
        if isinstance(stored, dict):
            for name, entry in stored.items():
                if not isinstance(entry, dict):
                    continue
                if isinstance(entry.get("digest"), str):
                    self._legacy[name] = {k: str(v) for k, v in entry.items()}
                else:
                    self._entries[name] = {v: dict(r) for v, r in entry.items() if isinstance(r, dict)}

    @classmethod
    def at(cls, home: Path) -> InvalidMemory:
        """The memory of the installation whose PROXX_HOME is `home`."""
        return cls(home / MEMORY_FILE)

    def held(self, name: str, version: str, digest: str | None = None) -> FoundInvalid | None:
        """The record of intent `name` at `version` found INVALID, or None; never writes (`proxx
        validate` asks). `digest`: the defining file's, for a record of the earlier format."""
        record = self._entries.get(name, {}).get(version)
        if record is not None:
            return FoundInvalid(version, record.get("found_at", ""), record.get("why", ""))
        legacy = self._legacy.get(name)
        if legacy is not None and digest is not None and legacy.get("digest") == digest:
            return FoundInvalid(version, "", _why(name, legacy.get("message", "")))
        return None

    def still_invalid(self, name: str, version: str, digest: str | None = None) -> FoundInvalid | None:
        """`held`, a record of the earlier format becoming one of `version` (or forgotten, when its
        file changed since, as the earlier format had it)."""
        found = self.held(name, version, digest)
        if name in self._legacy:
            del self._legacy[name]
            if found is not None:
                self._entries.setdefault(name, {})[version] = {"found_at": found.found_at, "why": found.why}
            self._write()
        return found

    def remember(self, name: str, version: str, message: str) -> None:
        """Intent `name` at `version` was found INVALID now, `message` saying why."""
        if self.held(name, version) is not None:
            return
        self._entries.setdefault(name, {})[version] = {"found_at": utc_now(), "why": _why(name, message)}
        self._write()

    def _write(self) -> None:
        document: dict[str, object] = {**self._legacy, **self._entries}
        write_cache(self.path, document)


def _why(name: str, message: str) -> str:
    """The reason of a class A message ("Intent 'X' no longer compiles: <reason>."), without the
    pointer to `proxx validate`: that tool shows what was wrong when it is still wrong, not then."""
    why = message.removeprefix(f"Intent '{name}' no longer compiles: ").rstrip(".")
    return why.replace(" (an administrator sees which with `proxx validate`)", "")


def stays_invalid_message(name: str, found: FoundInvalid) -> str:
    """What an operator (and `proxx validate`) is told of an intent the memory holds as INVALID: it
    was found so, when and why then, that it stays so, and what an administrator does about it."""
    when = f" on {found.found_at}" if found.found_at else ""
    return (
        f"Intent '{name}' no longer compiles: it was found INVALID{when} ({found.why}), and an INVALID intent "
        f"stays invalid even when what made it fail is gone. A corrected definition needs a new version "
        f"(user_profile_version, now {found.version}) or a new name, from an administrator."
    )
