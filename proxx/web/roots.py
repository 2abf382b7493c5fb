"""Media roots: the only folders the web shell reads sources from and writes outputs into.

A path travels as a *reference* `<root name>/<relative path>`, never as an absolute path. A reference
with `..`, an absolute part, or a symlink leading out of its root is refused, and the refusal never
echoes where it led.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import attrs

from proxx.media.files import decodable, is_media, skipped_folder
from proxx.web.problems import WebError

# Bounds on what one listing shows, so a huge share cannot stall a page.
MAX_ENTRIES = 2000
MAX_DEPTH = 8  # how deep the source picker walks


@attrs.frozen
class MediaRoot:
    name: str
    path: Path  # resolved, absolute


@attrs.frozen
class Entry:
    ref: str
    name: str
    is_dir: bool
    depth: int


def parse_roots(specs: Iterable[str]) -> tuple[MediaRoot, ...]:
    """`NAME=DIR` or `DIR` (named after its folder) -> roots; names must be unique and folders exist."""
    roots: list[MediaRoot] = []
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep:
            name, folder = "", spec
        path = Path(folder).expanduser().resolve()
        name = name or path.name or "root"
        if not path.is_dir():
            raise ValueError(f"media root '{folder}' is not a folder")
        if "/" in name or name in (".", "..") or not name.strip():
            raise ValueError(f"media root name '{name}' must be a plain folder name")
        if any(r.name == name for r in roots):
            raise ValueError(f"media root name '{name}' is used twice")
        roots.append(MediaRoot(name, path))
    if not roots:
        raise ValueError("at least one media root is needed (--root NAME=DIR or PROXX_MEDIA_ROOTS)")
    return tuple(roots)


def _outside() -> WebError:
    return WebError(400, "outside_media_roots", "The path is not inside a media root.")


class MediaRoots:
    def __init__(self, roots: Iterable[MediaRoot], beside_outputs: Collection[str]) -> None:
        """`beside_outputs`: what exporters write beside proxies (`Proxx.beside_outputs`), never offered."""
        self.roots = tuple(roots)
        self.beside_outputs = frozenset(beside_outputs)
        self._by_name = {r.name: r for r in self.roots}
        self._names = {str(r.path): r.name for r in self.roots}
        folders = sorted(self._names, key=len, reverse=True)  # the deepest root wins
        self._pattern = re.compile("(" + "|".join(map(re.escape, folders)) + r")(?![^/\s'\"])")

    def resolve(self, ref: str) -> Path:
        """The real path of a reference, or WebError 400 when it is not inside its root."""
        if not ref or "\x00" in ref or "\\" in ref or len(ref) > 4096:
            raise _outside()
        pure = PurePosixPath(ref)
        if pure.is_absolute() or any(part in ("..", ".") for part in ref.split("/") if part):
            raise _outside()
        parts = pure.parts
        root = self._by_name.get(parts[0]) if parts else None
        if root is None:
            raise _outside()
        real = Path(os.path.realpath(root.path.joinpath(*parts[1:])))
        if real != root.path and root.path not in real.parents:
            raise _outside()  # a symlink led out of the root
        return real

    def ref_of(self, path: str | Path) -> str | None:
        """The reference of an absolute path inside a root (no symlink resolution), else None."""
        candidate = Path(os.path.abspath(path))
        for root in self.roots:
            if candidate == root.path or root.path in candidate.parents:
                rel = candidate.relative_to(root.path).as_posix()
                return root.name if rel == "." else f"{root.name}/{rel}"
        return None

    def display(self, path: str | Path) -> str:
        """How an operator sees a job's path: its reference, or only its file name when it lies
        outside every root (a job made with the CLI)."""
        return self.ref_of(path) or Path(path).name

    def relative(self, value: Any) -> Any:
        """`value` (text, or a JSON document's strings) with every absolute path inside a root
        written as its reference: operators see `media/day1/A001.mov`, never the server's folders."""
        if isinstance(value, str):
            return self.relative_text(value)
        if isinstance(value, list):
            return [self.relative(v) for v in value]
        if isinstance(value, dict):
            return {k: self.relative(v) for k, v in value.items()}
        return value

    def relative_text(self, text: str) -> str:
        return self._pattern.sub(lambda m: self._names[m.group(1)], text) if self.roots else text

    def tree(self) -> list[Entry]:
        """Every folder and file under the roots, depth first, sorted, hidden entries left out,
        symlinks leading outside the roots skipped; at most MAX_ENTRIES entries."""
        entries: list[Entry] = []
        for root in self.roots:
            entries.append(Entry(root.name, root.name, True, 0))
            for entry in self._walk(root.path, root.name, 1):
                if len(entries) >= MAX_ENTRIES:
                    return entries
                entries.append(entry)
        return entries

    def _walk(self, folder: Path, ref: str, depth: int, limit: int = MAX_DEPTH) -> Iterator[Entry]:
        if depth > limit:
            return
        try:
            children = sorted(os.scandir(folder), key=lambda e: (not e.is_dir(), e.name.lower()))
        except OSError:
            return
        for child in children:
            if skipped_folder(Path(child.name), self.beside_outputs):  # hidden, partial, proxies': never sources
                continue
            if not decodable(Path(child.name)):  # no reference, page or JSON can carry it: not offered
                continue
            child_ref = f"{ref}/{child.name}"
            try:
                real = self.resolve(child_ref)
            except WebError:
                continue
            if real.is_dir():
                yield Entry(child_ref, child.name, True, depth)
                yield from self._walk(real, child_ref, depth + 1, limit)
            elif real.is_file() and is_media(Path(child.name)):  # sidecars and other files are not offered
                yield Entry(child_ref, child.name, False, depth)

    def listing(self, ref: str) -> list[Entry]:
        """One folder's direct children."""
        folder = self.resolve(ref)
        if not folder.is_dir():
            raise WebError(404, "not_a_folder", "No such folder in the media roots.")
        return list(self._walk(folder, ref.rstrip("/"), 1, limit=1))
