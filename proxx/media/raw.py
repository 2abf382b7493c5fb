"""RAW camera media: what only an engine that declares `accepts_raw` can decode.

Told by extension and by the codec name ffprobe reports (docs/compatibility.md, section 1); a codec ffprobe
calls unknown counts as RAW too, since only a RAW-capable engine might read it.
"""

from __future__ import annotations

from pathlib import Path

from proxx.media.probe import MediaInfo

# extension -> format family, for extensions that are RAW whatever ffprobe says
RAW_EXTENSIONS = {
    ".ari": "ARRIRAW",
    ".r3d": "REDCODE RAW",
    ".braw": "Blackmagic RAW",
    ".crm": "Canon Cinema RAW Light",
    ".vraw": "Panasonic V-RAW",
    ".nev": "Nikon N-RAW",
    ".dng": "CinemaDNG",
}
RAW_CODECS = {
    "arriraw": "ARRIRAW",
    "redcode": "REDCODE RAW",
    "redraw": "REDCODE RAW",
    "braw": "Blackmagic RAW",
    "blackmagic_raw": "Blackmagic RAW",
    "sony_raw": "Sony X-OCN / RAW",
    "x-ocn": "Sony X-OCN / RAW",
    "xocn": "Sony X-OCN / RAW",
    "canon_raw": "Canon Cinema RAW Light",
    "craw": "Canon Cinema RAW Light",
    "cinema_raw_light": "Canon Cinema RAW Light",
    "nikon_raw": "Nikon N-RAW",
    "dji_raw": "DJI RAW",
    "prores_raw": "ProRes RAW",
    "prores_raw_hq": "ProRes RAW",
    "cinemadng": "CinemaDNG",
    "cdng": "CinemaDNG",
    "unknown": "an unknown codec",
}


def raw_format(path: str, info: MediaInfo | None) -> str | None:
    """The RAW family of a source, or None when it is ordinary video."""
    by_extension = RAW_EXTENSIONS.get(Path(path).suffix.lower())
    if by_extension:
        return by_extension
    if info is not None and info.video is not None:
        return RAW_CODECS.get(info.video.codec.lower())
    return None
