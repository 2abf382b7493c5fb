"""The entry points of one group, found as `importlib.metadata.entry_points(group=...)` finds them, without
importing `importlib.metadata` (it loads `email`, `zipfile` and `csv`: 51 M instructions, 5 % of a
one-clip `proxx run`) or parsing every installed distribution's entry points (27 M more).

The same distributions in the same order: each folder of `sys.path` in turn, its `*.dist-info` and
`*.egg-info` folders grouped by normalised name in the folder's listing order, the first of each name
kept. A path that importlib.metadata reads otherwise (a zip file, an `.egg`) or a finder of its own on
`sys.meta_path` makes this module ask importlib.metadata itself.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from importlib.machinery import PathFinder
from typing import Any, Protocol

import attrs


class Distribution(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...


class EntryPoint(Protocol):
    """What proxx reads of an entry point: importlib.metadata's `EntryPoint` is one too."""

    @property
    def name(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def group(self) -> str: ...

    @property
    def dist(self) -> Distribution | None: ...

    def load(self) -> Any: ...


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")  # importlib.metadata's Prepared.normalize


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None


@attrs.frozen
class InstalledDistribution:
    """A `*.dist-info` or `*.egg-info` folder; its name and version are read from its metadata's headers."""

    path: str

    def _header(self, field: str) -> str:
        text = _read(os.path.join(self.path, "METADATA")) or _read(os.path.join(self.path, "PKG-INFO")) or ""
        wanted = field.lower() + ":"
        for line in text.splitlines():
            if not line.strip():
                break  # the headers end at the first empty line
            if line.lower().startswith(wanted):
                return line[len(wanted) :].strip()
        raise KeyError(field)

    @property
    def name(self) -> str:
        return self._header("Name")

    @property
    def version(self) -> str:
        return self._header("Version")


@attrs.frozen
class InstalledEntryPoint:
    name: str
    value: str
    group: str
    dist: InstalledDistribution

    def load(self) -> Any:
        """The module or object `value` names (`module`, `module:attribute`, with optional `[extras]`)."""
        found = re.match(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$", self.value)
        assert found is not None, self.value
        module = importlib.import_module(found.group("module"))
        return functools.reduce(getattr, filter(None, (found.group("attr") or "").split(".")), module)


def _distribution_folders() -> list[str] | None:
    """Every installed distribution's metadata folder, the first of each name; None when a path or a
    finder is one only importlib.metadata reads."""
    if [finder for finder in sys.meta_path if hasattr(finder, "find_distributions")] != [PathFinder]:
        return None
    seen: set[str] = set()
    folders: list[str] = []
    for root in sys.path:
        if os.path.basename(root).lower().endswith(".egg"):
            return None
        try:
            children = os.listdir(root or ".")
        except OSError:
            if os.path.isfile(root):
                return None  # a zip file
            continue
        grouped: dict[str, list[str]] = {}
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                grouped.setdefault(_normalize(low.rpartition(".")[0].partition("-")[0]), []).append(child)
        for child in (child for named in grouped.values() for child in named):
            stem, extension = os.path.splitext(child)
            if extension not in (".dist-info", ".egg-info"):
                return None  # named by its metadata's Name, which importlib.metadata reads
            key = _normalize(stem.partition("-")[0])
            if key not in seen:
                seen.add(key)
                folders.append(os.path.join(root, child))
    return folders


def entry_points(group: str) -> list[EntryPoint]:
    """The entry points of `group` of every installed distribution, in importlib.metadata's order."""
    folders = _distribution_folders()
    if folders is None:
        import importlib.metadata

        return list(importlib.metadata.entry_points(group=group))
    found: list[EntryPoint] = []
    heading = f"[{group}]"
    for folder in folders:
        text = _read(os.path.join(folder, "entry_points.txt"))
        if text is None or heading not in text:
            continue
        section = None
        for line in map(str.strip, text.splitlines()):
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line.strip("[]")
            elif section == group:
                name, value = line.split("=", 1)
                found.append(InstalledEntryPoint(name.strip(), value.strip(), group, InstalledDistribution(folder)))
    return found
