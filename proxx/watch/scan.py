"""Polling (no inotify: network shares seldom deliver its events): which files are new, and which of
those have stopped growing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

# Camera and editorial media proxx may be asked to proxy; anything else in a watch folder is left alone.
# (.m2t: HDV captures; .mod/.tod: JVC and Panasonic SD cameras; .3gp: phones; .vob: DVD; .m2v:
# MPEG-2 elementary video; .gxf: broadcast servers; .wmv and .flv: screen and web captures.)
MEDIA_EXTENSIONS = frozenset(
    [
        ".mov",
        ".mp4",
        ".m4v",
        ".3gp",
        ".mxf",
        ".mkv",
        ".avi",
        ".mts",
        ".m2ts",
        ".m2t",
        ".mod",
        ".tod",
        ".mpg",
        ".mpeg",
        ".vob",
        ".m2v",
        ".ts",
        ".webm",
        ".dv",
        ".gxf",
        ".wmv",
        ".flv",
        ".r3d",
        ".braw",
        ".ari",
        ".crm",
        ".dng",
    ]
)
# Names that copy tools and proxx itself give to files still being written.
PARTIAL_MARKERS = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart", ".!sync", "~")


# Folders of proxies and of their checksums, never media to proxy: Resolve's and proxx's Proxy/
# folders, and the ASC MHL history Fabric writes beside proxies.
SKIPPED_FOLDERS = frozenset({"Proxy", "ascmhl"})


def is_partial(name: str) -> bool:
    lower = name.lower()
    return ".proxx-partial-" in lower or lower.endswith(PARTIAL_MARKERS)


def is_media(path: Path) -> bool:
    """A media file to proxy: not hidden, not being written, and a media extension (sidecars such as
    .xml, .mhl, .thm, .bin are not)."""
    name = path.name
    return not name.startswith(".") and not is_partial(name) and path.suffix.lower() in MEDIA_EXTENSIONS


def skipped_folder(path: Path) -> bool:
    """A folder no media is taken from: hidden (.proxx, .Trashes), partial, or a proxies' folder."""
    return path.name.startswith(".") or is_partial(path.name) or path.name in SKIPPED_FOLDERS


def candidates(
    root: Path,
    wanted: Callable[[Path], bool],
    skip_dir: Callable[[Path], bool],
    recursive: bool = True,
    partial: bool = False,
) -> Iterator[Path]:
    """Files under `root` that `wanted` accepts; hidden files and folders, folders `skip_dir`
    rejects, and (unless `partial`) files still being written are left out."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if recursive and not d.startswith(".") and not skip_dir(Path(folder) / d))
        for name in sorted(files):
            if name.startswith(".") or (is_partial(name) and not partial):
                continue
            path = Path(folder) / name
            if wanted(path):
                yield path


@attrs.define
class _Seen:
    size: int
    mtime_ns: int
    stable_since: float


@attrs.define
class Settler:
    """A file is settled once its size and modification time stayed the same for `settle` seconds."""

    settle: float
    _seen: dict[Path, _Seen] = attrs.field(factory=dict)

    def observe(self, path: Path, now: float | None = None) -> os.stat_result | None:
        """The file's stat if it has settled, else None (and it is remembered as pending)."""
        now = time.monotonic() if now is None else now
        try:
            stat = path.stat()
        except OSError:
            self._seen.pop(path, None)
            return None
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            self._seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            if self.settle > 0:
                return None
        elif now - seen.stable_since < self.settle:
            return None
        self._seen.pop(path, None)
        return stat

    def forget_missing(self, present: set[Path]) -> None:
        for path in set(self._seen) - present:
            del self._seen[path]

    @property
    def pending(self) -> int:
        return len(self._seen)
