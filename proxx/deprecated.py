"""Plugin API names on their way out, with the code they had: each imports from `proxx.plugin` with a
ProxxDeprecationWarning naming its replacement until plugin API 2.0, when this module is deleted.

ffmpeg's arguments belong to the FFmpeg plugin (`proxx_ffmpeg.argv`), which other ffmpeg-based
engines import: the core only says what to make (`MediaInfo.demuxer`, `ColourTarget`).
"""

from __future__ import annotations

import attrs

from proxx.errors import ExecutionError
from proxx.media.colour import SWSCALE_MATRIX, ColourTarget
from proxx.media.probe import MediaInfo

# What ffmpeg's `colorspace` filter converts between (it takes no HDR curve, and YUV pictures only).
CONVERTIBLE = {
    "primaries": frozenset({"bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "smpte428", "film",
                            "smpte431", "smpte432", "bt2020", "jedec-p22", "ebu3213"}),
    "transfer": frozenset({"bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "linear", "iec61966-2-1",
                           "iec61966-2-4", "bt2020-10", "bt2020-12"}),
    "matrix": frozenset({"bt709", "fcc", "bt470bg", "smpte170m", "smpte240m", "ycgco", "bt2020nc"}),
}  # fmt: skip


def colour_unconvertible(target: ColourTarget) -> str | None:
    """Why no ffmpeg filter converts `target.source` to `target.output`, or None. Deprecated:
    `proxx_ffmpeg.argv.colour_unconvertible`."""
    source = target.source
    if not target.converts or source.matrix == "gbr":
        return None  # described only; or an RGB picture, which scaling to YUV converts with named matrices
    unconvertible = [name for name in ("primaries", "transfer") if getattr(source, name) not in CONVERTIBLE[name]]
    if target.differs & {"primaries", "transfer"} and unconvertible:
        name = unconvertible[0]
        return f"its colour {name} ({getattr(source, name)}) cannot be converted to what the proxy's format can state"
    if "matrix" in target.differs and source.matrix not in CONVERTIBLE["matrix"]:
        return f"its colour matrix ({source.matrix}) cannot be converted to what the proxy's format can state"
    return None


def input_restrictions(info: MediaInfo) -> list[str]:
    """ffmpeg input options for a validated source: local files only, through the very demuxer the
    probe found. Deprecated: `proxx_ffmpeg.argv.input_options`."""
    if info.demuxer is None:
        raise ExecutionError(
            "source_not_media",
            f"Source file '{info.path}' was not validated as a media container ({info.format_name}).",
            {"source": info.path},
        )
    return ["-protocol_whitelist", "file", "-f", info.demuxer]


def ffmpeg_colour_filters(target: ColourTarget, pix_fmt: str) -> list[str]:
    """ffmpeg filters that make the picture `target.output` from `target.source`, then label it.
    Deprecated: `proxx_ffmpeg.argv.colour_filters`."""
    source, output = target.source, target.output
    filters: list[str] = []
    if source.matrix == "gbr":
        matrix = SWSCALE_MATRIX[output.matrix]
        filters += [f"scale=out_color_matrix={matrix}:out_range={output.range}", f"format={pix_fmt}"]
        source = attrs.evolve(source, matrix=output.matrix, range=output.range)
        target = ColourTarget(source, output)
    if target.converts_colours:
        filters.append(
            f"colorspace=iprimaries={source.primaries}:itrc={source.transfer}:ispace={source.matrix}"
            f":irange={source.range}:primaries={output.primaries}:trc={output.transfer}"
            f":space={output.matrix}:range={output.range}"
        )
    elif target.converts:
        matrix = SWSCALE_MATRIX[output.matrix]
        filters.append(
            f"scale=in_color_matrix={matrix}:out_color_matrix={matrix}:in_range={source.range}:out_range={output.range}"
        )
    filters.append(
        f"setparams=color_primaries={output.primaries}:color_trc={output.transfer}"
        f":colorspace={output.matrix}:range={output.range}"
    )
    return filters


def ffmpeg_colour_options(target: ColourTarget) -> list[str]:
    """The encoder's and muxer's colour description. Deprecated: `proxx_ffmpeg.argv.colour_options`."""
    output = target.output
    return [
        "-color_primaries", output.primaries, "-color_trc", output.transfer,
        "-colorspace", output.matrix, "-color_range", output.range,
    ]  # fmt: skip
