"""Roots: the folders an entry point (web server, watch folder, JobSpec inbox, farm worker) lets a
job read sources from and write outputs into.

They are resolved once, when the entry point starts, and recorded with every job it creates (the job
store's `job_roots`), so that they are checked again, after resolving links, when the job runs: a
folder swapped for a symlink after the job was created leads nowhere. A job created on the command
line has no roots (the operator's own account is the limit).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import attrs


def _resolved(folders: Iterable[str | Path]) -> tuple[str, ...]:
    return tuple(sorted({os.path.realpath(os.path.expanduser(str(f))) for f in folders}))


@attrs.frozen
class Roots:
    """Real (symlink-free) absolute folders; a path is inside when its real path is one of them or
    lies below one."""

    paths: tuple[str, ...] = attrs.field(converter=_resolved)

    def contains(self, path: str | Path) -> bool:
        """`path`, links resolved, is one of the folders or lies below one."""
        real = os.path.realpath(path)
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.paths)

    def __str__(self) -> str:
        return ", ".join(self.paths)


def roots_from_env(variable: str) -> Roots | None:
    """Roots from an environment variable holding folders separated like PATH; None when unset."""
    raw = os.environ.get(variable, "")
    folders = [part for part in raw.split(os.pathsep) if part.strip()]
    return Roots(folders) if folders else None
