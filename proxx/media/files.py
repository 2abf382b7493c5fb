"""Which files in a folder are media to proxy, and which folders never hold any: one rule for folder
sources, watch folders and the web page's source picker."""

from __future__ import annotations

import os
import re
from collections.abc import Collection
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


# The folder of proxies proxx writes beside each source when no output folder is named (the convention
# of camera-side proxy generators, which editing applications relink from): never media to proxy.
# What exporters write beside proxies (checksum histories and the like) they declare themselves
# (`Exporter.beside_outputs`); callers pass those names in.
PROXY_FOLDER = "Proxy"


# How deep a folder walk goes (a card nests a few folders deep): Python's walk recurses once a level,
# and a folder nested a thousand deep overflowed its stack. Card sources beyond it are refused;
# a watch folder's walk stops there.
MAX_FOLDER_DEPTH = 64


def depth_below(top: Path, folder: str) -> int:
    """How many folders `folder` (a path the walk of `top` gave) lies below `top`."""
    return len(Path(folder).relative_to(top).parts)


# Frames of an image sequence (a VFX plate, a scan, a render): numbered pictures, one file a frame.
SEQUENCE_EXTENSIONS = frozenset({".dpx", ".cin", ".exr", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".tga"})
# Picture formats hardly ever used but for sequences (a camera's stills are JPEG, TIFF or PNG).
SEQUENCE_ONLY_EXTENSIONS = frozenset({".dpx", ".cin", ".exr"})
# plate.0001.dpx, A001_C002_0001001.exr, frame_12.tif: the frame number is the last digits of the name.
_FRAME_NUMBER = re.compile(r"^(?P<stem>.*?)(?P<number>\d+)$")


def sequence_frame(path: Path) -> bool:
    """Whether `path` looks like one frame of an image sequence: a picture file whose name ends in
    a frame number."""
    return path.suffix.lower() in SEQUENCE_EXTENSIONS and _FRAME_NUMBER.match(path.stem) is not None


def image_sequences_under(folder: Path, beside_outputs: Collection[str] = ()) -> list[str]:
    """The image sequences beneath `folder`, each as "<folder>/<stem>####.<ext> (N frames)": two or more
    numbered pictures of one name and extension. Hidden and proxies' folders are left out, and so are
    the folders named in `beside_outputs` (see `skipped_folder`)."""
    sequences: dict[tuple[str, str, str], int] = {}
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not skipped_folder(Path(parent) / d, beside_outputs))
        for name in names:
            path = Path(parent) / name
            match = _FRAME_NUMBER.match(path.stem)
            if name.startswith(".") or match is None or path.suffix.lower() not in SEQUENCE_EXTENSIONS:
                continue
            key = (parent, match.group("stem") + "#" * len(match.group("number")), path.suffix)
            sequences[key] = sequences.get(key, 0) + 1
    return [f"{os.path.join(p, stem)}{ext} ({n} frames)" for (p, stem, ext), n in sorted(sequences.items()) if n > 1]


def is_partial(name: str) -> bool:
    lower = name.lower()
    return ".proxx-partial-" in lower or lower.endswith(PARTIAL_MARKERS)


# What a card's other files are, by their names, for the reason an operator reads beside each one.
_NOT_CLIPS = {
    "a still picture": (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".dng", ".cr2", ".cr3",
                        ".nef", ".arw", ".raf", ".orf", ".rw2", ".gif", ".bmp"),
    "a thumbnail": (".thm",),
    "a sound file": (".wav", ".bwf", ".mp3", ".m4a", ".aac", ".aif", ".aiff", ".flac"),
    "a low-resolution copy the camera made": (".lrv", ".lrf"),
    "a sidecar (the camera's metadata)": (".xml", ".xmp", ".cpi", ".mpl", ".bdm", ".bim", ".smi", ".ind",
                                          ".ppn", ".sif", ".rmd", ".mhl", ".md5"),
}  # fmt: skip


def not_media_reason(name: str) -> str:
    """Why a file `is_media` leaves out is not proxied, in the words of what it is."""
    if is_partial(name):
        return "still being written (a partial file)"
    suffix = os.path.splitext(name)[1].lower()
    kind = next((kind for kind, suffixes in _NOT_CLIPS.items() if suffix in suffixes), "not a video file")
    return f"{kind}, not a camera clip"


def is_media(path: Path) -> bool:
    """A media file to proxy: not hidden, not being written, and a media extension (sidecars such as
    .xml, .mhl, .thm, .bin are not)."""
    name = path.name
    return not name.startswith(".") and not is_partial(name) and path.suffix.lower() in MEDIA_EXTENSIONS


def skipped_folder(path: Path, beside_outputs: Collection[str] = ()) -> bool:
    """A folder no media is taken from: hidden (.proxx, .Trashes), partial, a Proxy/ folder, or one of
    `beside_outputs`: what the installed exporters write beside proxies (`Proxx.beside_outputs`)."""
    name = path.name
    return name.startswith(".") or is_partial(name) or name == PROXY_FOLDER or name in beside_outputs


# A P2 card (Panasonic's broadcast and VariCam cameras) records a clip in files of their own, one
# essence each (MXF OP-Atom): its pictures in CONTENTS/VIDEO/<clip>.MXF, each sound channel in
# CONTENTS/AUDIO/<clip><channel, 00-15>.MXF. Editing systems join them into one clip by these names.
_P2_VIDEO = ("CONTENTS", "VIDEO")
_P2_CHANNEL = re.compile(r"([0-9]{2})\.MXF")


def separate_sound(path: Path) -> list[Path]:
    """The files holding the sound of the clip whose pictures are `path`, by channel, where its camera
    recorded them apart from the pictures (a P2 card); [] for any other file. Names are matched
    ignoring letter case, as a card's FAT or exFAT does; only regular files are taken."""
    video, contents = path.parent, path.parent.parent
    if path.suffix.upper() != ".MXF" or (contents.name.upper(), video.name.upper()) != _P2_VIDEO:
        return []
    stem = path.stem.upper()
    try:
        audio = next(e.path for e in os.scandir(contents) if e.name.upper() == "AUDIO" and e.is_dir())
        with os.scandir(audio) as entries:
            found = [
                Path(e.path)
                for e in entries
                if (up := e.name.upper()).startswith(stem) and _P2_CHANNEL.fullmatch(up[len(stem) :]) and e.is_file()
            ]
    except (StopIteration, OSError):
        return []
    return sorted(found, key=lambda p: p.name.upper())


def pictures_of(path: Path) -> Path | None:
    """The pictures' file of the P2 clip whose sound `path` holds one channel of, or None. Looked up
    by name, never by listing the card's folders again for each of its sound files (a card of 300
    clips of 8 channels took 3.4 s so)."""
    audio, contents, clip = path.parent, path.parent.parent, path.stem[:-2]
    if (contents.name.upper(), audio.name.upper()) != ("CONTENTS", "AUDIO") or not clip:
        return None
    if not _P2_CHANNEL.fullmatch(path.name[len(clip) :].upper()):
        return None
    try:
        videos = [e.path for e in os.scandir(contents) if e.name.upper() == "VIDEO" and e.is_dir()]
    except OSError:
        return None
    names = {clip + path.suffix, f"{clip}.MXF".upper(), f"{clip}.mxf".lower()}
    return next((Path(v, n) for v in videos for n in sorted(names) if os.path.isfile(os.path.join(v, n))), None)


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
