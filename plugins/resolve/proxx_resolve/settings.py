"""What proxx asks Resolve for: render format and codec per canonical codec flavour, the render
settings, and which settings keys each Resolve version accepts.

Format and codec are set explicitly with `SetCurrentRenderFormatAndCodec` instead of loading a
render preset: preset names are exact, case-sensitive and differ across versions (the reference's
preset table even maps DNxHR SQ to the LB preset). The identifiers are those that have worked in
practice: values of Resolve's `GetRenderFormats()` / `GetRenderCodecs(format)` dictionaries (the README
calls the first "format -> file extension" and shows no identifiers). The bridge checks that the
connected Resolve lists them (a format as a value or a key) before using them, and otherwise names
what it listed.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs

from proxx.plugin import CanonicalProfile, Colour

# canonical container -> Resolve render format identifier
RENDER_FORMATS = {"mov": "mov", "mxf": "mxf_op1a"}
# canonical codec flavour -> Resolve render codec identifier
RENDER_CODECS = {
    "prores_proxy": "ProRes422Proxy",
    "prores_lt": "ProRes422LT",
    "prores_standard": "ProRes422",
    "prores_hq": "ProRes422HQ",
    "dnxhr_lb": "DNxHRLB",
    "dnxhr_sq": "DNxHRSQ",
    "dnxhr_hq": "DNxHRHQ",
}
CONTAINERS = {
    **{codec: frozenset({"mov"}) for codec in RENDER_CODECS if codec.startswith("prores")},
    **{codec: frozenset({"mxf", "mov"}) for codec in RENDER_CODECS if codec.startswith("dnxhr")},
}
DNXHR_MIN_SIZE = (256, 120)

# The oldest Resolve this engine drives: Timeline.SetStartTimecode (the proxy keeps the source's
# timecode) arrived with 18.5.
MIN_VERSION = (18, 5)
# SetRenderSettings keys by the Resolve version from which proxx takes them as documented. The call
# is all-or-nothing, so every key is checked against this list before it is made.
# The 18.5 README (dated 26 May 2023) lists these:
_DOCUMENTED_IN_18_5 = frozenset(
    {
        "SelectAllFrames", "MarkIn", "MarkOut", "TargetDir", "CustomName", "UniqueFilenameStyle",
        "ExportVideo", "ExportAudio", "FormatWidth", "FormatHeight", "FrameRate", "PixelAspectRatio",
        "VideoQuality", "AudioCodec", "AudioBitDepth", "AudioSampleRate", "ColorSpaceTag", "GammaTag",
        "ExportAlpha", "EncodingProfile", "MultiPassEncode", "AlphaMode", "NetworkOptimization",
    }
)  # fmt: skip
# These first appear in the README revision dated 7 October 2025. Which release first shipped that
# revision is not established here, so they count from 21.0, the first major release after it: a key
# is never sent to a Resolve whose README may not list it. (proxx sends none of them today.)
_DOCUMENTED_IN_2025_10_07 = frozenset(
    {"ClipStartFrame", "TimelineStartTimecode", "ReplaceExistingFilesInPlace", "ExportSubtitle", "SubtitleFormat"}
)
SETTINGS_SINCE: dict[tuple[int, int], frozenset[str]] = {
    (18, 5): _DOCUMENTED_IN_18_5,
    (21, 0): _DOCUMENTED_IN_2025_10_07,
}


# The proxy's colour description, stated through the documented render settings ColorSpaceTag
# (primaries; Resolve derives the matrix from it) and GammaTag (transfer), by the names of the
# Deliver page's "Color Space Tag" and "Gamma Tag" lists; never "Same as Project", which would tag
# whatever the project's output colour space happens to be. Resolve renders ProRes and DNxHR at
# video (limited) levels, converting a full-range clip by its clip attributes. A tag the connected
# Resolve refuses fails the render ("settings_refused"); verification holds the result to the same
# policy as every engine, so a render Resolve tagged otherwise fails, never passes.
COLOUR_SPACE_TAGS = {
    "bt709": "Rec.709",
    "bt2020": "Rec.2020",
    "smpte170m": "Rec.601 (525)",
    "smpte240m": "Rec.601 (525)",  # the same primaries
    "bt470bg": "Rec.601 (625)",
    "smpte432": "P3-D65",
    "smpte431": "P3-DCI",
}
# BT.601's and BT.2020's SDR curves are BT.709's.
GAMMA_TAGS = {
    **dict.fromkeys(("bt709", "smpte170m", "bt2020-10", "bt2020-12"), "Rec.709"),
    "smpte2084": "ST2084",
    "arib-std-b67": "HLG",
}


class SettingsRefused(ValueError):
    """A settings key the connected Resolve does not accept; the message names it."""


def parse_version(parts: Any) -> tuple[int, ...]:
    """GetVersion() gives [major, minor, patch, build, suffix]; keep the numbers."""
    numbers: list[int] = []
    for part in parts or ():
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            numbers.append(int(part))
        else:
            break
    return tuple(numbers)


def allowed_keys(version: tuple[int, ...]) -> frozenset[str]:
    keys: frozenset[str] = frozenset()
    for since, added in SETTINGS_SINCE.items():
        if version[:2] >= since:
            keys |= added
    return keys


def check_keys(settings: dict[str, Any], version: tuple[int, ...]) -> None:
    allowed = allowed_keys(version)
    refused = sorted(key for key in settings if key not in allowed)
    if refused:
        shown = ".".join(str(n) for n in version)
        raise SettingsRefused(
            f"Resolve {shown} does not accept the render setting(s) {', '.join(refused)}; nothing was rendered"
        )


def resolve_frame_rate(rate: Fraction) -> str:
    """The frame rate as Resolve's project settings spell it: "24", "25", "23.976", "29.97"."""
    if rate <= 0:
        raise SettingsRefused("the clip has no frame rate")
    if rate.denominator == 1:
        return str(rate.numerator)
    if rate.denominator == 1001:
        return f"{rate.numerator / 1001:.3f}".rstrip("0").rstrip(".")
    raise SettingsRefused(f"Resolve has no timeline frame rate for {float(rate):g} fps ({rate})")


def parse_resolve_rate(text: str) -> Fraction:
    """Back from Resolve's spelling: "23.976" is 24000/1001, as in Resolve's own list."""
    value = Fraction(str(text).split()[0])
    for base in (24, 30, 48, 60, 120):
        if abs(value - Fraction(base * 1000, 1001)) < Fraction(1, 500):
            return Fraction(base * 1000, 1001)
    return value


def colour_tags(colour: Colour) -> dict[str, str]:
    """ColorSpaceTag and GammaTag for a proxy whose colour is `colour` (`ProxyTarget.colour.output`)."""
    space, gamma = COLOUR_SPACE_TAGS.get(colour.primaries), GAMMA_TAGS.get(colour.transfer)
    if space is None or gamma is None:
        raise SettingsRefused(f"Resolve has no colour tag for {colour}")
    return {"ColorSpaceTag": space, "GammaTag": gamma}


def unsupported(profile: CanonicalProfile, size: tuple[int, int] | None) -> str | None:
    """Why Resolve cannot render `profile` (at output `size`, when known), or None."""
    if profile.codec not in RENDER_CODECS:
        return f"the Resolve engine has no render codec for {profile.codec}"
    if profile.container not in CONTAINERS[profile.codec]:
        return f"the Resolve engine cannot write {profile.codec} in {profile.container}"
    if size and profile.codec.startswith("dnxhr") and (size[0] < DNXHR_MIN_SIZE[0] or size[1] < DNXHR_MIN_SIZE[1]):
        return f"the output frame {size[0]}x{size[1]} is below DNxHR's minimum of 256x120"
    return None


@attrs.frozen
class RenderPlan:
    """Everything the bridge sets, in the order it sets it."""

    render_format: str
    render_codec: str
    timeline_width: int
    timeline_height: int
    frame_rate: str
    start_timecode: str | None
    settings: dict[str, Any]

    def to_message(self) -> dict[str, Any]:
        return {"op": "settings", **attrs.asdict(self)}


def render_plan(
    profile: CanonicalProfile,
    source_size: tuple[int, int],
    output_size: tuple[int, int],
    rate: Fraction,
    start_timecode: str | None,
    target_dir: str,
    custom_name: str,
    version: tuple[int, ...],
    colour: Colour,
) -> RenderPlan:
    """The plan for one clip; raises SettingsRefused when the connected Resolve cannot take it."""
    why = unsupported(profile, output_size)
    if why:
        raise SettingsRefused(why)
    frame_rate = resolve_frame_rate(rate)
    settings: dict[str, Any] = {
        "SelectAllFrames": True,
        "ExportVideo": True,
        "ExportAudio": True,
        "TargetDir": target_dir,
        "CustomName": custom_name,
        "FormatWidth": output_size[0],
        "FormatHeight": output_size[1],
        "FrameRate": float(frame_rate),  # a float for SetRenderSettings; the project setting is text
        **colour_tags(colour),
    }
    check_keys(settings, version)
    return RenderPlan(
        RENDER_FORMATS[profile.container],
        RENDER_CODECS[profile.codec],
        source_size[0],
        source_size[1],
        frame_rate,
        start_timecode,
        settings,
    )
