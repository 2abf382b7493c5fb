"""ASC MHL generations for proxy output folders, written through the `ascmhl` package (1.2).

Each COMPLETED job adds one generation to `<output folder>/ascmhl/` listing its proxies and the copy
of its result JSON with their xxh128 hashes, so the reference tool's own check (`ascmhl create
<output folder>`) proves later that they are the bytes proxx produced and verified. The hashes are
the ones Fabric already computed: nothing is read twice.

Jobs finishing into one folder at once take turns: an exclusive `fcntl` lock on
`<output folder>/.proxx/ascmhl.lock` is held from loading the history to writing the chain file, so
generation numbers never collide and the chain never loses an entry. The generations tell ascmhl to
ignore that lock file and proxx's partial outputs (`*.proxx-partial-*`), which come and go.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import platform
from collections.abc import Iterator, Sequence
from importlib.metadata import version
from pathlib import Path

import attrs
from ascmhl import utils
from ascmhl.generator import MHLGenerationCreationSession
from ascmhl.hashlist import MHLCreatorInfo, MHLProcess, MHLProcessInfo, MHLTool
from ascmhl.history import MHLHistory
from ascmhl.ignore import MHLIgnoreSpec

from proxx_fabric import PROXX_FOLDER
from proxx_fabric.hashing import HASH_FORMAT

LOCK_NAME = "ascmhl.lock"
IGNORE = [f"{PROXX_FOLDER}/{LOCK_NAME}", "*.proxx-partial-*"]


@attrs.frozen
class HashedFile:
    path: str
    size: int
    xxh128: str


class MHLMismatch(Exception):
    """A file's new hash differs from the one its folder's history recorded for that path."""


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive, blocking, released by the kernel even if this process dies."""
    lock_dir = folder / PROXX_FOLDER
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def add_generation(folder: Path, files: Sequence[HashedFile], comment: str) -> str:
    """Record `files` (inside `folder`) with their xxh128 in a new generation of `folder`'s ASC MHL
    history; returns the generation file's path. Raises MHLMismatch, writing nothing, when the
    history already knows one of these paths with different content."""
    root = str(folder.resolve())
    with folder_lock(folder):
        history = MHLHistory.load_from_path(root)
        session = MHLGenerationCreationSession(history, MHLIgnoreSpec(history.latest_ignore_patterns(), IGNORE))
        for file in files:
            modified = datetime.datetime.fromtimestamp(os.path.getmtime(file.path))
            path = os.path.realpath(file.path)
            if os.path.commonpath([root, path]) != root:
                raise ValueError(f"'{file.path}' is outside the folder '{root}' whose history would record it")
            if not session.append_file_hash(path, file.size, modified, HASH_FORMAT, file.xxh128):
                raise MHLMismatch(f"'{file.path}' differs from the file its folder's ASC MHL history recorded")
        creator = MHLCreatorInfo()
        creator.tool = MHLTool("proxx-fabric", version("proxx-fabric"))
        creator.creation_date = utils.datetime_now_isostring()
        creator.host_name = platform.node()  # the MHL header names the hashing host; no operator
        creator.comment = comment
        process = MHLProcessInfo()
        process.process = MHLProcess("in-place")
        session.commit(creator, process)
        return str(history.hash_lists[-1].file_path)
