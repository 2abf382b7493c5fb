"""Polling (no inotify: network shares seldom deliver its events): which files are new, and which of
those have stopped growing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from proxx.media.files import MAX_FOLDER_DEPTH, depth_below, is_partial


def folders(root: Path, skip_dir: Callable[[Path], bool], recursive: bool = True) -> Iterator[tuple[Path, list[str]]]:
    """Each folder under `root` (`root` first) with the names of its files, sorted; hidden files and
    folders, and folders `skip_dir` rejects, are left out. Names, not paths: a pass over 100,000
    files that are known already makes no path for them."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        deeper = recursive and depth_below(root, folder) < MAX_FOLDER_DEPTH  # never past it (a stack overflow)
        dirs[:] = sorted(d for d in dirs if deeper and not d.startswith(".") and not skip_dir(here / d))
        yield here, sorted(name for name in files if not name.startswith("."))


def candidates(
    root: Path,
    wanted: Callable[[Path], bool],
    skip_dir: Callable[[Path], bool],
    recursive: bool = True,
) -> Iterator[Path]:
    """Files under `root` that `wanted` accepts, but files still being written (see `folders`)."""
    for here, names in folders(root, skip_dir, recursive):
        for name in names:
            if not is_partial(name) and wanted(path := here / name):
                yield path


@attrs.define
class _Seen:
    size: int
    mtime_ns: int
    stable_since: float
    seen_in: int  # the pass that last saw it


@attrs.define
class Settler:
    """A file is settled once its size and modification time stayed the same for `settle` seconds.
    It remembers the files still settling only; `forget_missing` ends a pass."""

    settle: float
    _seen: dict[Path, _Seen] = attrs.field(factory=dict)
    _pass_number: int = 0

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
            self._seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, now, self._pass_number)
            if self.settle > 0:
                return None
        elif now - seen.stable_since < self.settle:
            seen.seen_in = self._pass_number
            return None
        self._seen.pop(path, None)
        return stat

    def forget_missing(self) -> None:
        """End a pass: forget the settling files it did not see (removed or moved away meanwhile).
        Nothing the size of the folder is kept for this: a pass over 100,000 settled files holds
        none of them."""
        for path in [path for path, seen in self._seen.items() if seen.seen_in != self._pass_number]:
            del self._seen[path]
        self._pass_number += 1

    @property
    def pending(self) -> int:
        return len(self._seen)
