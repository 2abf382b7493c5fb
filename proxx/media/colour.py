"""Colour: the description (primaries, transfer, matrix, range) every proxy carries, and how it is
worked out from the source's. One rule for every engine and every canonical profile; the README's
"Colour" row of the media policy is this module in prose.

* Definite. A proxy always states all four properties, in every place its codec and container
  keep one (the ProRes frame header and the QuickTime `colr` atom; the H.264/HEVC VUI; the MXF
  picture descriptor), never "unknown", and never an RGB matrix on a YUV picture.
* The source's, where the source states it. A property the source leaves unknown (or states
  impossibly, such as an RGB matrix on YUV pixels) takes the default for its picture size:
  larger than SD (wider than 1024 or taller than 576 lines) BT.709; SD 625-line (487 to 576 lines,
  or 288) BT.470BG primaries and matrix; other SD (525-line) SMPTE 170M; the transfer of every SD default is
  the BT.601 curve (SMPTE 170M), the range limited (full for RGB pictures, which have no matrix).
* Names that mean the same picture count as equal (`same_*`): BT.470BG and SMPTE 170M are one
  matrix, SMPTE 170M and 240M one set of primaries, and BT.709, SMPTE 170M and BT.2020's transfers
  one curve. A codec with no code for the source's own name writes the equal one it has (ProRes
  writes the BT.601 matrix as SMPTE 170M and its curve as BT.709).
* Converted explicitly, never by a filter's guess. Where the codec cannot carry a property at all
  (ProRes and DNxHR are limited range; ProRes has no code for a gamma 2.2 curve), the picture is
  converted from the source's named description to the proxy's named one (`ColourTarget.converts`).
  An engine refuses, before rendering, a source whose description it cannot convert (class B).
* HDR (PQ or HLG transfer) keeps its description; a 10-bit codec keeps 10 bits. An 8-bit codec
  (H.264 High, DNxHR LB/SQ) follows its canonical profile's `hdr` rule; the one rule bundled
  profiles state is "keep": the HDR description in 8 bits, which HDR-aware players show right.
"""

from __future__ import annotations

import attrs

# What ffprobe says of a property nobody stated.
UNSTATED = frozenset({"", "unknown", "unspecified", "reserved", "reserved0"})
# Pixel formats without a matrix: their pictures are RGB.
RGB_PREFIXES = ("gbr", "rgb", "bgr", "argb", "abgr", "0rgb", "0bgr", "x2rgb", "x2bgr", "pal8")
# Names that describe the same thing, mapped to one of them.
SAME_MATRIX = {"smpte170m": "bt470bg"}
SAME_PRIMARIES = {"smpte240m": "smpte170m"}
SAME_TRANSFER = {"smpte170m": "bt709", "bt2020-10": "bt709", "bt2020-12": "bt709"}
HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})
LIMITED, FULL = "tv", "pc"
_WORDS = {
    "bt709": "BT.709", "smpte170m": "SMPTE 170M", "bt470bg": "BT.470BG", "bt2020": "BT.2020",
    "bt2020nc": "BT.2020 NCL", "smpte2084": "PQ", "arib-std-b67": "HLG", "gbr": "RGB", "smpte432": "P3 D65",
    "smpte431": "DCI-P3", LIMITED: "limited", FULL: "full",
}  # fmt: skip

# What a codec family can state, where it cannot state every name ffmpeg knows (H.264 and HEVC's
# VUI can): ProRes's frame header (and so the QuickTime colr atom beside it) and DNxHR's MXF
# descriptor, limited range only (ProRes by definition, DNxHR as Avid reads it).
_PRORES_OR_DNX = {
    "primaries": frozenset({"bt709", "bt470bg", "smpte170m", "bt2020", "smpte431", "smpte432"}),
    "transfer": frozenset({"bt709", "smpte2084", "arib-std-b67"}),
    "matrix": frozenset({"bt709", "smpte170m", "bt2020nc"}),
    "range": frozenset({LIMITED}),
}
WRITABLE: dict[str, dict[str, frozenset[str]]] = {family: _PRORES_OR_DNX for family in ("prores", "dnxhr", "dnxhd")}


@attrs.frozen
class Colour:
    """A colour description in ffmpeg's names: primaries ("bt709"), transfer ("smpte2084"),
    matrix ("bt470bg"; "gbr" for RGB), range ("tv" limited, "pc" full). "" where not stated."""

    primaries: str = ""
    transfer: str = ""
    matrix: str = ""
    range: str = ""

    def __str__(self) -> str:
        """In words: "BT.709 primaries, BT.709 transfer, BT.709 matrix, limited range"."""
        named = [_WORDS.get(value, value) or "unknown" for value in attrs.astuple(self)]
        return f"{named[0]} primaries, {named[1]} transfer, {named[2]} matrix, {named[3]} range"

    @property
    def hdr(self) -> bool:
        """Its transfer is an HDR one (PQ, HLG)."""
        return self.transfer in HDR_TRANSFERS


def stated(value: str) -> str:
    return "" if value in UNSTATED else value


def is_rgb(pix_fmt: str) -> bool:
    return pix_fmt.startswith(RGB_PREFIXES)


def default_colour(width: int, height: int, pix_fmt: str = "") -> Colour:
    """The description of a picture of this coded size that states nothing."""
    rgb = is_rgb(pix_fmt)
    if width > 1024 or height > 576:
        picture = Colour("bt709", "bt709", "bt709", LIMITED)
    elif 486 < height <= 576 or height == 288:
        picture = Colour("bt470bg", "smpte170m", "bt470bg", LIMITED)
    else:
        picture = Colour("smpte170m", "smpte170m", "smpte170m", LIMITED)
    return attrs.evolve(picture, matrix="gbr", range=FULL) if rgb else picture


def source_colour(tags: Colour, width: int, height: int, pix_fmt: str) -> Colour:
    """What the source's picture is: each stated property as stated, the rest by `default_colour`
    (an RGB matrix on YUV pixels, or a matrix on RGB ones, is not a statement)."""
    default = default_colour(width, height, pix_fmt)
    matrix = stated(tags.matrix)
    if is_rgb(pix_fmt) or matrix == "gbr":
        matrix = ""
    return Colour(
        stated(tags.primaries) or default.primaries,
        stated(tags.transfer) or default.transfer,
        matrix or default.matrix,
        tags.range if tags.range in (LIMITED, FULL) else default.range,
    )


def same_primaries(a: str, b: str) -> bool:
    return SAME_PRIMARIES.get(a, a) == SAME_PRIMARIES.get(b, b)


def same_transfer(a: str, b: str) -> bool:
    return SAME_TRANSFER.get(a, a) == SAME_TRANSFER.get(b, b)


def same_matrix(a: str, b: str) -> bool:
    return SAME_MATRIX.get(a, a) == SAME_MATRIX.get(b, b)


def complete(colour: Colour) -> bool:
    """Every property stated, and no RGB matrix (proxies are YUV)."""
    return all(stated(value) for value in attrs.astuple(colour)) and colour.matrix != "gbr"


def same_colour(a: Colour, b: Colour) -> bool:
    """Whether two descriptions describe the same picture."""
    return (
        same_primaries(a.primaries, b.primaries)
        and same_transfer(a.transfer, b.transfer)
        and same_matrix(a.matrix, b.matrix)
        and a.range == b.range
    )


def _writable(value: str, can: frozenset[str], same: dict[str, str], fallback: str) -> str:
    """`value`, or the equal name the codec has, or (converted) `fallback`."""
    if value in can:
        return value
    equal = [name for name in sorted(can) if same.get(name, name) == same.get(value, value)]
    return equal[0] if equal else fallback


@attrs.frozen
class ColourTarget:
    """The colour of one proxy: `source` is what the source's picture is (`source_colour`), `output`
    what the proxy states and is. `converts`: the picture is converted from `source` to `output`
    (they differ by more than names); else only described. `differs`: which properties change;
    `converts_colours`: more than the range changes."""

    source: Colour
    output: Colour

    @property
    def converts(self) -> bool:
        """The picture is converted from `source` to `output` (they differ by more than names)."""
        return not same_colour(self.source, self.output)

    @property
    def differs(self) -> frozenset[str]:
        """The properties ("primaries", "transfer", "matrix", "range") whose values differ by more
        than names between `source` and `output`: what a conversion must change."""
        source, output = self.source, self.output
        same = {
            "primaries": same_primaries(source.primaries, output.primaries),
            "transfer": same_transfer(source.transfer, output.transfer),
            "matrix": same_matrix(source.matrix, output.matrix),
            "range": source.range == output.range,
        }
        return frozenset(name for name, equal in same.items() if not equal)

    @property
    def converts_colours(self) -> bool:
        """The primaries, the transfer or the matrix differ by more than names: more than a change of
        range (which `converts` alone means when this is False)."""
        return bool(self.differs - {"range"})


def colour_target(codec_family: str, source: Colour, width: int, height: int) -> ColourTarget:
    """The proxy's description for a source whose picture is `source`, in a codec of `codec_family`
    at the output size. YUV proxies: an RGB source gets the default matrix of the output size."""
    default = default_colour(width, height)
    matrix = default.matrix if source.matrix == "gbr" else source.matrix
    wanted = Colour(source.primaries, source.transfer, matrix, LIMITED if source.matrix == "gbr" else source.range)
    can = WRITABLE.get(codec_family)
    if can is None:
        return ColourTarget(source, wanted)
    hdr_default = "bt2020" if wanted.hdr else default.primaries
    output = Colour(
        _writable(wanted.primaries, can["primaries"], SAME_PRIMARIES, hdr_default),
        _writable(wanted.transfer, can["transfer"], SAME_TRANSFER, default.transfer),
        _writable(wanted.matrix, can["matrix"], SAME_MATRIX, "bt2020nc" if wanted.hdr else default.matrix),
        _writable(wanted.range, can["range"], {}, LIMITED),
    )
    return ColourTarget(source, output)


# ffmpeg's swscale names a matrix its own way (sample media are made with ffmpeg).
SWSCALE_MATRIX = {"bt709": "bt709", "bt470bg": "bt470", "smpte170m": "smpte170m", "fcc": "fcc",
                   "smpte240m": "smpte240m", "bt2020nc": "bt2020"}  # fmt: skip
