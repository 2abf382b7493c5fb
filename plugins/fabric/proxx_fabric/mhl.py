"""ASC MHL generations for proxy output folders, at the same cost for a folder's 5,000th job as for
its first.

Each job that published proxies (COMPLETED, or FAILED with some clips published) adds one
generation to `<output folder>/ascmhl/` listing its proxies and the copy of its result JSON with
their xxh128 hashes, so the reference tool's own checks (`ascmhl create`, `ascmhl diff`,
`ascmhl-debug verify` of the output folder) prove later that they are the bytes proxx produced and
verified. The hashes are the ones Fabric already computed: nothing is read twice.

Why not the `ascmhl` library for writing: it loads the folder's whole history (every earlier
generation) to add one, so a watch folder's 5,000th job paid ~140 ms where the first paid 8 ms.
proxx writes the generation itself, in the ASC MHL v2 format the library writes (the `ascmhl create`
and `ascmhl diff` of the reference tool read it back, tested), and keeps what it needs to know of the
history in a small index (`.proxx/ascmhl-index.sqlite`: each recorded path's latest hash, the last
generation number, the ignore patterns). The index is checked against the chain file's last entry
before every generation and rebuilt from the history when they differ (the reference tool, or
anything else, added generations meanwhile). A folder holding a nested history of its own goes
through the library, which records files in the history that owns them.

Every file is written through descriptors (`proxx_fabric.folder`): `.proxx/` and `ascmhl/` must be
proxx's own folders, and nothing is created or opened through a link someone planted. A path that
XML 1.0 cannot hold (a control character, an undecodable byte) is never written into a generation.

Jobs finishing into one folder at once take turns: an exclusive lock (`fcntl`) on
`<output folder>/.proxx/ascmhl.lock` is held from reading the index to appending to the chain file, so
generation numbers never collide and the chain never loses an entry. The generations tell ascmhl to
ignore the lock, the index and proxx's partial outputs (`*.proxx-partial-*`), which come and go.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import platform
import re
import sqlite3
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import attrs

from proxx_fabric import PROXX_FOLDER, __version__
from proxx_fabric.folder import (
    FolderRefused,
    open_file,
    opened,
    own_database,
    own_folder,
    path_of,
    read,
    write_new,
)
from proxx_fabric.hashing import HASH_FORMAT

LOCK_NAME = "ascmhl.lock"
INDEX_NAME = "ascmhl-index.sqlite"
ASCMHL_FOLDER = "ascmhl"
CHAIN_NAME = "ascmhl_chain.xml"
# The reference tool matches ignore patterns (gitwildmatch) against absolute paths when it verifies or
# diffs a folder: a pattern anchored at the history's root ("/.proxx/ascmhl.lock") never matches
# there, so proxx's own files are named wherever they are ("**/").
IGNORE = [f"**/{PROXX_FOLDER}/{LOCK_NAME}", f"**/{PROXX_FOLDER}/{INDEX_NAME}*", "*.proxx-partial-*"]
# The patterns every history starts with (the reference tool's defaults).
DEFAULT_IGNORE = [".DS_Store", ASCMHL_FOLDER, f"{ASCMHL_FOLDER}/"]
HASHLIST_NS = "urn:ASC:MHL:v2.0"
CHAIN_NS = "urn:ASC:MHL:DIRECTORY:v2.0"
CHAIN_END = "</ascmhldirectory>"
C4_CHARSET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@attrs.frozen
class HashedFile:
    path: str
    size: int
    xxh128: str


class MHLMismatch(Exception):
    """A file's new hash differs from the one its folder's history recorded for that path."""


@contextlib.contextmanager
def folder_lock(proxx_folder: int) -> Iterator[None]:
    """Exclusive, blocking, released by the operating system even if this process dies; the lock
    file is opened inside the held `.proxx` folder, never through a link."""
    import fcntl

    fd = open_file(proxx_folder, LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


# What XML 1.0 can hold, less tab, line feed and carriage return (a parser turns a carriage return into
# a line feed, so the path read back would not be the file's): a name with anything else would make
# the generation, and the reference tool's reading of the history from it on, fail.
# Compared character by character: the equivalent regular expression's class over all of Unicode took
# 55 M instructions to compile, 5 % of a one-clip `proxx run`, for a few short paths.
def _in_xml(character: str) -> bool:
    return " " <= character <= "\ud7ff" or "\ue000" <= character <= "\ufffd" or character >= "\U00010000"


def xml_safe(text: str) -> bool:
    """Whether `text` can be written in an ASC MHL file and read back as it is."""
    return all(map(_in_xml, text))


def _xml_text(text: str, instead: str = "?") -> str:
    """`text` for a field that only describes (a host name, a comment): what XML cannot hold becomes '?'."""
    return "".join(character if _in_xml(character) else instead for character in text)


def add_generation(folder: Path, files: Sequence[HashedFile], comment: str) -> str:
    """Record `files` (inside `folder`) with their xxh128 in a new generation of `folder`'s ASC MHL
    history; returns the generation file's path. Raises MHLMismatch, writing nothing, when the
    history already knows one of these paths with different content."""
    root = folder.resolve()
    relative = [_relative(root, file.path) for file in files]
    for path in relative:
        if not xml_safe(path):
            raise ValueError(
                f"'{path!a}' cannot be written in an ASC MHL file (a control character or undecodable byte)"
            )
    with opened(root) as out, own_folder(out, PROXX_FOLDER, root) as own, folder_lock(own):
        if _nested_history(root, relative):
            return _add_generation_with_ascmhl(root, files, comment)
        with (
            own_folder(out, ASCMHL_FOLDER, root) as asc,
            contextlib.closing(_Index.opened(own, root / PROXX_FOLDER)) as index,
        ):
            if index.generation != _last_sequence(asc):
                index.rebuild(asc)
            actions = []
            for file, path in zip(files, relative, strict=True):
                known = index.hash_of(path)
                if known is not None and known != file.xxh128:
                    raise MHLMismatch(f"'{file.path}' differs from the file its folder's ASC MHL history recorded")
                actions.append("verified" if known else "original")
            number = index.generation + 1
            patterns = list(dict.fromkeys([*(index.patterns or DEFAULT_IGNORE), *IGNORE]))
            name = f"{number:04d}_{_file_name_part(root.name)}_{_utc_now():%Y-%m-%d_%H%M%SZ}.mhl"
            document = _hashlist(files, relative, actions, patterns, comment).encode("utf-8")
            write_new(asc, name, document)  # never over an existing generation, never through a link
            _append_to_chain(asc, number, name, _c4(document))
            index.record(number, zip(relative, (f.xxh128 for f in files), strict=True), patterns)
        return str(root / ASCMHL_FOLDER / name)


def _file_name_part(name: str) -> str:
    """The folder's name as part of a generation's file name: what XML or a file name could not
    hold (controls, separators, undecodable bytes) becomes '_'."""
    return re.sub(r"[/\\]", "_", _xml_text(name, "_")) or "_"


def _relative(root: Path, path: str) -> str:
    real = os.path.realpath(path)
    if os.path.commonpath([str(root), real]) != str(root):
        raise ValueError(f"'{path}' is outside the folder '{root}' whose history would record it")
    return Path(os.path.relpath(real, root)).as_posix()


def _nested_history(root: Path, relative: Sequence[str]) -> bool:
    """Whether a folder between `root` and one of the files has an ASC MHL history of its own. The
    reference library then writes by path, so every folder from `root` down to that history must be
    this user's, writable by no one else, and not a link: nobody else can then rename, swap or plant
    anything on the way (a chain file linked to someone else's file was written through)."""
    folders = {parent for path in relative for parent in Path(path).parents if parent != Path(".")}
    found = False
    for folder in sorted(folders):
        try:
            os.lstat(root / folder / ASCMHL_FOLDER)
        except FileNotFoundError:
            continue
        # The output folder itself too: anyone who may write in it could rename a folder of the
        # way and put their own in its place, or a link at its own `ascmhl`, after these checks.
        way = [root / Path(*folder.parts[:n]) for n in range(len(folder.parts) + 1)]
        own = root / ASCMHL_FOLDER
        for step in (*way, *([own] if os.path.lexists(own) else []), root / folder / ASCMHL_FOLDER):
            info = os.lstat(step)
            if not stat.S_ISDIR(info.st_mode):
                raise FolderRefused(f"'{step}' is not a folder (a link?); nothing was written")
            if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise FolderRefused(
                    f"'{step}' was not made by proxx (it belongs to another user or others can write to it), "
                    "and the ASC MHL history inside it would be written through it; nothing was written"
                )
        found = True
    return found


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def escape(text: str) -> str:
    """`text` as XML character data or inside a double-quoted attribute. (xml.sax.saxutils would
    do the same, but it imports urllib.request and the HTTP client, 8 ms of every job's export.)"""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _local_iso(moment: datetime.datetime, microseconds: bool = False) -> str:
    return moment.astimezone().isoformat(timespec="microseconds" if microseconds else "seconds")


def _hashlist(
    files: Sequence[HashedFile], relative: Sequence[str], actions: Sequence[str], patterns: Sequence[str], comment: str
) -> str:
    now = _utc_now()
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<hashlist version="2.0" xmlns="{HASHLIST_NS}">',
        "  <creatorinfo>",
        f"    <creationdate>{_local_iso(now)}</creationdate>",
        f"    <hostname>{escape(_xml_text(platform.node()))}</hostname>",  # the hashing host; no operator identity
        f'    <tool version="{escape(__version__)}">proxx-fabric</tool>',
        f"    <comment>{escape(_xml_text(comment))}</comment>",
        "  </creatorinfo>",
        "  <processinfo>",
        "    <process>in-place</process>",
        "    <ignore>",
        *(f"      <pattern>{escape(p)}</pattern>" for p in patterns),
        "    </ignore>",
        "  </processinfo>",
        "  <hashes>",
    ]
    for file, path, action in zip(files, relative, actions, strict=True):
        modified = datetime.datetime.fromtimestamp(os.path.getmtime(file.path), datetime.UTC)
        lines += [
            "    <hash>",
            f'      <path size="{file.size}" lastmodificationdate="{_local_iso(modified)}">{escape(path)}</path>',
            f'      <{HASH_FORMAT} action="{action}" hashdate="{_local_iso(now, True)}">{file.xxh128}</{HASH_FORMAT}>',
            "    </hash>",
        ]
    return "\n".join([*lines, "  </hashes>", "</hashlist>", ""])


def _c4(data: bytes) -> str:
    """The C4 id (SMPTE ST 2114) of `data`, as the chain file records each generation."""
    value = int.from_bytes(hashlib.sha512(data).digest(), "big")
    digits = ""
    while value:
        value, remainder = divmod(value, 58)
        digits = C4_CHARSET[remainder] + digits
    return "c4" + digits.rjust(88, "1")


def _append_to_chain(asc: int, number: int, name: str, c4: str) -> None:
    """Add the generation's entry in place, before the closing tag: no rewrite of earlier entries."""
    entry = f'  <hashlist sequencenr="{number}">\n    <path>{escape(name)}</path>\n    <c4>{c4}</c4>\n  </hashlist>\n'
    try:
        fd = open_file(asc, CHAIN_NAME, os.O_RDWR)
    except FileNotFoundError:
        header = f'<?xml version="1.0" encoding="UTF-8"?>\n<ascmhldirectory xmlns="{CHAIN_NS}">\n'
        write_new(asc, CHAIN_NAME, f"{header}{entry}{CHAIN_END}\n".encode())
        return
    with os.fdopen(fd, "r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - 256))
        tail = handle.read()
        end = tail.rfind(CHAIN_END.encode())
        if end < 0:
            raise ValueError(f"{CHAIN_NAME} does not end with {CHAIN_END}")
        handle.seek(size - len(tail) + end)
        handle.write(f"{entry}{CHAIN_END}\n".encode())
        handle.truncate()


_SEQUENCE = re.compile(rb'sequencenr="(\d+)"')


def _last_sequence(asc: int) -> int:
    """The last generation number the chain file records (0 without one), read from its end."""
    try:
        with os.fdopen(open_file(asc, CHAIN_NAME, os.O_RDONLY), "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 4096))
            numbers = _SEQUENCE.findall(handle.read())
    except FileNotFoundError:
        return 0
    return int(numbers[-1]) if numbers else 0


class _Index:
    """What proxx keeps of a folder's history: each path's latest hash, the last generation, the ignore
    patterns. A cache of the history, never its authority: rebuilt whenever the chain disagrees."""

    @classmethod
    def opened(cls, own: int, shown: Path) -> _Index:
        """The index in the held `.proxx` folder `own`. SQLite opens by name, following a link: the
        index (created here exclusively when missing) and its journal, if any, are first checked to
        be this user's plain files, never links, with no other name (a hard link would alias someone
        else's file), and refused (FolderRefused) otherwise (`proxx_fabric.folder.own_database`);
        SQLite then gets the folder through its descriptor."""
        own_database(own, INDEX_NAME, shown)
        return cls(path_of(own, shown) / INDEX_NAME)

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(
            "CREATE TABLE IF NOT EXISTS paths (path TEXT PRIMARY KEY, xxh128 TEXT NOT NULL) STRICT;"
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
        )

    def close(self) -> None:
        self._db.close()

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    @property
    def patterns(self) -> list[str]:
        stored = self._meta("patterns")
        return stored.split("\n") if stored else []

    def hash_of(self, path: str) -> str | None:
        row = self._db.execute("SELECT xxh128 FROM paths WHERE path = ?", (path,)).fetchone()
        return None if row is None else str(row[0])

    def record(self, generation: int, hashes: Iterable[tuple[str, str]], patterns: Sequence[str]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO paths VALUES (?, ?)", list(hashes))
            self._db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("generation", str(generation)), ("patterns", "\n".join(patterns))],
            )

    def rebuild(self, asc: int) -> None:
        """Read the whole history once: every generation the chain lists, in order (each file read
        inside the held `ascmhl` folder, never through a link)."""
        from xml.etree import ElementTree  # only here: a new folder's first job reads nothing

        hashes: dict[str, str] = {}
        patterns: list[str] = []
        last = 0
        chain = read(asc, CHAIN_NAME)
        if chain is not None:
            for entry in ElementTree.fromstring(chain).iter(f"{{{CHAIN_NS}}}hashlist"):
                last = max(last, int(entry.get("sequencenr", "0")))
                name = entry.findtext(f"{{{CHAIN_NS}}}path") or ""
                data = read(asc, name) if name not in ("", ".", "..") and "/" not in name else None
                if data is None:
                    raise FolderRefused(f"the ASC MHL chain names a generation '{name}' that is not in its folder")
                generation = ElementTree.fromstring(data)
                for item in generation.iter(f"{{{HASHLIST_NS}}}hash"):
                    path = item.findtext(f"{{{HASHLIST_NS}}}path")
                    digest = item.findtext(f"{{{HASHLIST_NS}}}{HASH_FORMAT}")
                    if path and digest:
                        hashes[path] = digest
                found = [p.text or "" for p in generation.iter(f"{{{HASHLIST_NS}}}pattern")]
                patterns = found or patterns
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM paths")
            self._db.execute("DELETE FROM meta")
        self.record(last, hashes.items(), patterns)


def _add_generation_with_ascmhl(root: Path, files: Sequence[HashedFile], comment: str) -> str:
    """Through the reference library, which loads the whole history: for folders with nested ones."""
    from ascmhl import utils
    from ascmhl.generator import MHLGenerationCreationSession
    from ascmhl.hashlist import MHLCreatorInfo, MHLProcess, MHLProcessInfo, MHLTool
    from ascmhl.history import MHLHistory
    from ascmhl.ignore import MHLIgnoreSpec

    history = MHLHistory.load_from_path(str(root))
    session = MHLGenerationCreationSession(history, MHLIgnoreSpec(history.latest_ignore_patterns(), IGNORE))
    for file in files:
        modified = datetime.datetime.fromtimestamp(os.path.getmtime(file.path))
        if not session.append_file_hash(os.path.realpath(file.path), file.size, modified, HASH_FORMAT, file.xxh128):
            raise MHLMismatch(f"'{file.path}' differs from the file its folder's ASC MHL history recorded")
    creator = MHLCreatorInfo()
    creator.tool = MHLTool("proxx-fabric", __version__)
    creator.creation_date = utils.datetime_now_isostring()
    creator.host_name = platform.node()
    creator.comment = comment
    process = MHLProcessInfo()
    process.process = MHLProcess("in-place")
    session.commit(creator, process)
    return str(history.hash_lists[-1].file_path)
