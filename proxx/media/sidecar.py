"""What a camera's sidecar file says of its clip where the clip's own file does not: the start
timecode of a Sony camera's MP4.

Sony's XAVC S, XAVC HS and XAVC S-I cameras (the FX and Alpha series; XDCAM EX before them) write
a clip's timecode into a metadata track ffprobe does not read, and into the XML file beside it
(`C0001.MP4` and `C0001M01.XML`: "NonRealTimeMeta", whose `LtcChangeTable` gives the timecode at
each frame count where it changes). Editing systems show that timecode and relink proxies by it; a
proxy made without it would not relink.

The XML comes from the card: it is read only when small, without a document type (so no entities
are expanded), and believed only when it describes a clip of the same number of pictures, its
timecode counting at the pictures' rate (or, "half-step", in pairs of them).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ElementTree
from fractions import Fraction
from pathlib import Path
from stat import S_ISREG

# A NonRealTimeMeta document is a few kilobytes.
_MOST_BYTES = 256 * 1024
# How much of a Sony MP4's end is read for the copy its camera embeds there (a clip's index and
# metadata, after its pictures and sound, are a few megabytes at most).
_EMBEDDED_BYTES = 4 * 1024 * 1024
# The names a camera gives it, and the same in lower case (a copy tool that lowered them).
_SUFFIXES = ("M01.XML", "M01.xml", "m01.xml")
# SMPTE 12M in Sony's order: frames, seconds, minutes, hours, two hexadecimal digits each (BCD, with
# flag bits: drop frame is the frames' 0x40); some Alpha bodies write HH:MM:SS:FF instead.
_PACKED = re.compile(r"[0-9A-Fa-f]{8}")
_WRITTEN = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})([:;])([0-9]{2})")


def sidecar_timecode(path: str, rate: Fraction, pictures: int | None, embedded: bool = False) -> str | None:
    """The start timecode ("10:05:10:12", drop frame "09:59:59;15") the sidecar XML of the clip at
    `path` states, for a clip of `pictures` pictures at `rate`; None without a sidecar, or with one
    that is unreadable, too large, of another rate or another length. With `embedded` (a Sony MP4:
    brand XAVC), a clip copied without its sidecar is read for the copy its camera wrote near the
    file's end."""
    document = _read(Path(path))
    if document is None and embedded:
        document = _embedded(Path(path))
    if document is None:
        return None
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        return None
    elements: dict[str, ElementTree.Element] = {}
    for element in root.iter():
        elements.setdefault(_local(element.tag), element)  # the first of each name
    table = elements.get("LtcChangeTable")
    if _local(root.tag) != "NonRealTimeMeta" or table is None:
        return None
    counts, half_step = _number(table.get("tcFps")), table.get("halfStep", "false")
    # A half-step timecode counts pairs of pictures (50p, 59.94p at 25 or 30): its frames, doubled,
    # are the timecode at the pictures' rate, as editing systems show it.
    step = {"false": 1, "true": 2}.get(half_step)
    if counts is None or step is None or counts * step != round(rate):
        return None  # a timecode counting at another rate than the pictures': not one proxx can keep
    duration = elements.get("Duration")
    length = _number(duration.get("value")) if duration is not None else None
    if pictures is not None and (length is None or min(abs(length * n - pictures) for n in {1, step}) > 1):
        return None  # the sidecar of another recording, or of a clip cut short
    start = next((c for c in table if _local(c.tag) == "LtcChange" and c.get("frameCount") == "0"), None)
    return _timecode(start.get("value", ""), counts, step) if start is not None else None


def _read(path: Path) -> bytes | None:
    for suffix in _SUFFIXES:
        found = _file_end(path.with_name(path.stem + suffix), _MOST_BYTES)
        if found is not None:
            document, size = found
            return _plain(document) if size <= _MOST_BYTES else None
    return None


def _embedded(path: Path) -> bytes | None:
    """The NonRealTimeMeta document in the last `_EMBEDDED_BYTES` of a Sony MP4, or None."""
    found = _file_end(path, _EMBEDDED_BYTES)
    tail = found[0] if found is not None else b""
    end = tail.rfind(b"</NonRealTimeMeta>")
    start = tail.rfind(b"<NonRealTimeMeta", 0, end) if end >= 0 else -1
    return _plain(tail[start : end + len(b"</NonRealTimeMeta>")]) if start >= 0 else None


def _file_end(path: Path, most: int) -> tuple[bytes, int] | None:
    """The last `most` bytes of the regular file at `path`, and its size; None for anything else
    (missing, a link: never followed, a folder, a pipe: never waited on)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not S_ISREG(info.st_mode):
            return None
        return os.pread(fd, most, max(info.st_size - most, 0)), info.st_size
    except OSError:
        return None
    finally:
        os.close(fd)


def _plain(document: bytes) -> bytes | None:
    """`document`, when it is small and declares nothing (no document type: no entities expanded)."""
    if not document or len(document) > _MOST_BYTES or b"<!DOCTYPE" in document or b"<!ENTITY" in document:
        return None
    return document


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() and len(text) < 10 else None


def _timecode(value: str, counts: int, step: int) -> str | None:
    written = _WRITTEN.fullmatch(value)
    if written:
        hours, minutes, seconds, mark, frames = written.groups()
        parts, drop = [int(hours), int(minutes), int(seconds), int(frames)], mark == ";"
    elif _PACKED.fullmatch(value):
        packed = [int(value[i : i + 2], 16) for i in range(0, 8, 2)]  # frames, seconds, minutes, hours
        drop = bool(packed[0] & 0x40)
        digits = [packed[0] & 0x3F, packed[1] & 0x7F, packed[2] & 0x7F, packed[3] & 0x3F]
        if any(d >> 4 > 9 or d & 0xF > 9 for d in digits):
            return None
        frames, seconds, minutes, hours = ((d >> 4) * 10 + (d & 0xF) for d in digits)
        parts = [hours, minutes, seconds, frames]
    else:
        return None
    hours, minutes, seconds, frames = parts
    if hours > 23 or minutes > 59 or seconds > 59 or frames >= counts or (drop and counts not in (30, 60)):
        return None
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{';' if drop else ':'}{frames * step:02d}"
