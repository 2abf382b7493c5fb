"""INVALID is remembered (docs/compatibility.md, section 3: an INVALID profile never becomes ACTIVE again; a fixed
one is a new profile or a new version).

Each intent found INVALID is recorded by its name, its version (`user_profile_version`) and the file
that defined it, in `PROXX_HOME/intents-invalid.json`, with when it was found so and why then. It
stays INVALID, whatever the registry or its file does later (its canonical target coming back, a
conflicting canonical profile removed, an edit undone byte for byte), for as long as that file
defines an intent of that name with that version: the contract's rule is about versions, and a
file's content says nothing about one (an edit restored byte-identical would otherwise make an
INVALID intent selectable again). A corrected definition is a new version, or a new name; then it is
judged afresh. Another file defining the same name and version is another definition, judged on its
own: a repository named for one command (PROXX_PROFILES set for one `proxx run`) whose override of an
intent did not compile leaves the installation's own definition of it as it was. A record of before
files were recorded holds for every file.

Records of the earlier format (by name and the digest of the defining file) are read as records of
the version the intent has while its file still has that digest, and forgotten otherwise, as they were.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import attrs

from proxx.home import read_cache, write_cache
from proxx.jobspec.stamps import utc_now

MEMORY_FILE = "intents-invalid.json"


def defined_in(path: str | Path) -> str:
    """How the memory names a defining file: its absolute path (a repository may be named relative to
    the folder a command starts in)."""
    return os.path.abspath(path)


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


ANY_FILE = ""  # the file of a record of before files were recorded: it holds for every file


class InvalidMemory:
    """The intents once found INVALID, by name, version and defining file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # name -> version -> {"found_at", "why", "files": {file: {"found_at", "why"}}}: the first file found
        # INVALID at that version in "found_at" and "why" too (what earlier versions of proxx read).
        self._entries: dict[str, dict[str, dict[str, Any]]] = {}
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

    def held(self, name: str, version: str, digest: str | None = None, file: str = ANY_FILE) -> FoundInvalid | None:
        """The record of intent `name` at `version`, defined in `file`, found INVALID, or None; never
        writes (`proxx validate` asks). `digest`: the defining file's, for a record of the earlier format."""
        record = self._entries.get(name, {}).get(version)
        if record is not None:
            files = record.get("files")
            found = record if not isinstance(files, dict) or file == ANY_FILE else files.get(file)
            if isinstance(found, dict):
                return FoundInvalid(version, str(found.get("found_at", "")), str(found.get("why", "")))
        legacy = self._legacy.get(name)
        if legacy is not None and digest is not None and legacy.get("digest") == digest:
            return FoundInvalid(version, "", _why(name, legacy.get("message", "")))
        return None

    def still_invalid(
        self, name: str, version: str, digest: str | None = None, file: str = ANY_FILE
    ) -> FoundInvalid | None:
        """`held`, a record of the earlier format becoming one of `version` (or forgotten, when its
        file changed since, as the earlier format had it)."""
        found = self.held(name, version, digest, file)
        if name in self._legacy:
            del self._legacy[name]
            if found is not None:
                self._entries.setdefault(name, {})[version] = {"found_at": found.found_at, "why": found.why}
            self._write()
        return found

    def remember(self, name: str, version: str, message: str, file: str = ANY_FILE) -> None:
        """Intent `name` at `version`, defined in `file`, was found INVALID now, `message` saying why."""
        if self.held(name, version, file=file) is not None:
            return
        found = {"found_at": utc_now(), "why": _why(name, message)}
        record = self._entries.setdefault(name, {}).setdefault(version, dict(found))
        files = record.setdefault("files", {})
        if isinstance(files, dict):
            files[file] = found
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
