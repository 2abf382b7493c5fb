"""ffmpeg arguments every ffmpeg-based engine needs, public for other engines' use too (the in-house
example and any studio engine that runs ffmpeg: depend on `proxx-ffmpeg` and import this module).

    from proxx_ffmpeg.argv import colour_filters, colour_options, colour_unconvertible, file_url, input_options

proxx's contract says what to make (`RenderTask`, `ProxyTarget`, `ColourTarget`, `MediaInfo.demuxer`);
these functions say it in ffmpeg's words.
"""

from __future__ import annotations

from proxx.plugin import Colour, ColourTarget, ExecutionError, MediaInfo

# What ffmpeg's `colorspace` filter converts between (it takes no HDR curve, and YUV pictures only).
CONVERTIBLE = {
    "primaries": frozenset({"bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "smpte428", "film",
                            "smpte431", "smpte432", "bt2020", "jedec-p22", "ebu3213"}),
    "transfer": frozenset({"bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "linear", "iec61966-2-1",
                           "iec61966-2-4", "bt2020-10", "bt2020-12"}),
    "matrix": frozenset({"bt709", "fcc", "bt470bg", "smpte170m", "smpte240m", "ycgco", "bt2020nc"}),
}  # fmt: skip

# ffmpeg's swscale names a matrix its own way.
SWSCALE_MATRIX = {"bt709": "bt709", "bt470bg": "bt470", "smpte170m": "smpte170m", "fcc": "fcc",
                   "smpte240m": "smpte240m", "bt2020nc": "bt2020"}  # fmt: skip


def file_url(path: str) -> str:
    """ffmpeg reads `a:b.mov` as protocol `a` and `-x.mov` as an option: the file: prefix makes
    every path (leading dash, colon, spaces, quotes, unicode) mean exactly that file."""
    return "file:" + path


def input_options(source: MediaInfo) -> list[str]:
    """The input of a validated source: a local file only, through the very demuxer the probe
    found (`MediaInfo.demuxer`), so a file swapped after validation cannot bring in a playlist."""
    if source.demuxer is None:
        raise ExecutionError(
            "source_not_media",
            f"Source file '{source.path}' was not validated as a media container ({source.format_name}).",
            {"source": source.path},
        )
    return ["-protocol_whitelist", "file", "-f", source.demuxer, "-i", file_url(source.path)]


def sound_inputs(source: MediaInfo) -> list[str]:
    """The inputs after the pictures' file: a P2 clip's sound files (`MediaInfo.sound_files`), local
    files read as the MXF they validated as; none for any other source."""
    return [a for f in source.sound_files for a in ("-protocol_whitelist", "file", "-f", "mxf", "-i", file_url(f))]


def sound_maps(source: MediaInfo) -> list[str]:
    """Every audio stream, in order: the file's own, or each sound file's (`sound_inputs`)."""
    if not source.sound_files:
        return ["-map", "0:a?"]
    return [a for n in range(len(source.sound_files)) for a in ("-map", f"{n + 1}:a:0")]


def colour_filters(target: ColourTarget, pix_fmt: str) -> list[str]:
    """Filters that make the picture `target.output` from `target.source`, each property named on
    both sides (never a filter's guess), then label the frames with `target.output` exactly. An RGB
    source becomes YUV (`pix_fmt`, the encoder's) through swscale with the output matrix and range
    named, so no conversion is left for ffmpeg to insert by itself; a difference of range alone goes
    through swscale too; any other difference through the `colorspace` filter."""
    source, output = target.source, target.output
    filters: list[str] = []
    if source.matrix == "gbr":
        matrix = SWSCALE_MATRIX[output.matrix]
        filters += [f"scale=out_color_matrix={matrix}:out_range={output.range}", f"format={pix_fmt}"]
        source = Colour(source.primaries, source.transfer, output.matrix, output.range)
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


def colour_unconvertible(target: ColourTarget) -> str | None:
    """Why `colour_filters` cannot convert `target.source` to `target.output`, or None: an ffmpeg-based
    engine refuses such a source before rendering (its `validate_clip`, class B)."""
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


def colour_options(target: ColourTarget) -> list[str]:
    """The encoder's and muxer's colour description: what the codec header and container state."""
    output = target.output
    return [
        "-color_primaries", output.primaries, "-color_trc", output.transfer,
        "-colorspace", output.matrix, "-color_range", output.range,
    ]  # fmt: skip
