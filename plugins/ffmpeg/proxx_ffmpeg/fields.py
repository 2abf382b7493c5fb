"""The field order a QuickTime file declares, set to the source's.

ffmpeg's command line flags every interlaced top-field-first encode "tb" (QuickTime `fiel` detail 9:
bottom field displayed first) whatever the source was, and offers no option to say otherwise; an
editing system would then play the proxy's fields in the wrong order. The MOV muxer writes the
`fiel` atom (10 bytes: size, type, field count, detail) in the video sample description, so the
engine rewrites its two data bytes in the partial file before verification reads them back.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

# ffmpeg's field order -> QuickTime (field count, detail), as ffmpeg's own MOV muxer and demuxer map them.
FIEL = {"tt": (2, 1), "bb": (2, 6), "tb": (2, 9), "bt": (2, 14)}
_ATOM = struct.Struct(">I4s")
_FIEL_ATOM = struct.pack(">I4s", 10, b"fiel")


class FieldOrderError(Exception):
    """The file does not have exactly one `fiel` atom in its movie header."""


def _movie_header(handle: BinaryIO, size: int) -> tuple[int, bytes]:
    """(offset, bytes) of the top-level `moov` atom."""
    offset = 0
    while offset + _ATOM.size <= size:
        handle.seek(offset)
        length, kind = _ATOM.unpack(handle.read(_ATOM.size))
        if length == 1:  # 64-bit size follows the type
            length = struct.unpack(">Q", handle.read(8))[0]
        elif length == 0:  # to the end of the file
            length = size - offset
        if length < _ATOM.size:
            break
        if kind == b"moov":
            handle.seek(offset)
            return offset, handle.read(length)
        offset += length
    raise FieldOrderError("no movie header (moov) found")


def set_field_order(path: Path, field_order: str) -> None:
    """Make the one `fiel` atom of the QuickTime file at `path` declare `field_order`."""
    count, detail = FIEL[field_order]
    with open(path, "r+b") as handle:
        offset, moov = _movie_header(handle, os.fstat(handle.fileno()).st_size)
        found = moov.find(_FIEL_ATOM)
        if found < 0 or moov.find(_FIEL_ATOM, found + 1) >= 0:
            raise FieldOrderError("expected exactly one field description (fiel) in the movie header")
        handle.seek(offset + found + len(_FIEL_ATOM))
        handle.write(bytes((count, detail)))
