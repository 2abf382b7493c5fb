"""Which files in a folder are media to proxy, and which folders never hold any: one rule for folder
sources, watch folders and the web page's source picker."""

from __future__ import annotations

import os
from pathlib import Path

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


def decodable(path: Path) -> bool:
    """Whether `path` is text (a name of undecodable bytes reaches Python as lone surrogates)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(path: Path | str) -> str:
    """`path` as text a log, a database or a terminal can take: undecodable bytes as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
