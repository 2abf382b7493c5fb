"""The canonical vocabulary: the codecs, containers and audio policies a canonical profile may name.

The bundled vocabulary is fixed (the schema files list it). A plugin whose engine writes something
else declares it through the `proxx_vocabulary` hook, with the names ffprobe gives it, so that a
canonical profile naming it validates, compiles and is verified like a bundled one. Declarations are
process-wide and last for the process: a plugin's vocabulary is declared once, when the plugin
manager registers it (`proxx.pluginmanager.PluginManager.register`), and a declared name can never
redefine a bundled one or another plugin's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from proxx.errors import ConfigurationError


@attrs.frozen
class Codec:
    """A codec flavour an engine writes, declared by a plugin (hook `proxx_vocabulary`).

    Fields:
      name: the flavour canonical profiles name in `codec` (e.g. "vp9"); intents' `codecs` too.
      family: the family intents' `preferred_codecs` name (e.g. "vp9"; ProRes LT's is "prores").
      probe_codec: ffprobe's `codec_name` for it, which verification checks the output against.
      probe_profile: ffprobe's `profile` that must match too, or None when it is not pinned.
      long_gop: True for an inter-frame codec (refused by intents asking for intra-frame only).
      bits_per_pixel: an upper bound of bits per pixel per frame, for the free-space check.
      chroma: the chroma subsampling its pictures have ("4:2:0", "4:2:2", "4:4:4"), which
        verification checks the output's ffprobe pix_fmt against, or None when not pinned.
      bit_depth: the bits per sample its pictures have (8), checked likewise, or None when not pinned
        (a codec whose bitstream leaves the depth to its decoder: ProRes).
    """

    name: str
    family: str
    probe_codec: str
    probe_profile: str | None = None
    long_gop: bool = True
    bits_per_pixel: float = 0.5
    chroma: str | None = None
    bit_depth: int | None = None


@attrs.frozen
class Container:
    """A container an engine writes, declared by a plugin (hook `proxx_vocabulary`).

    Fields:
      name: the container canonical profiles name in `container` (e.g. "webm").
      extension: the outputs' file extension, with its dot (".webm").
      probe_format: ffprobe's `format_name` of such a file, in full ("matroska,webm"); a probed
        file whose format_name is exactly this reads as this container.
    """

    name: str
    extension: str
    probe_format: str


@attrs.frozen
class AudioPolicy:
    """An audio policy an engine applies, declared by a plugin (hook `proxx_vocabulary`).

    Every audio stream is kept, with its channels, layout and sample rate (what verification checks
    for every policy), coded as this policy says.

    Fields:
      name: the policy canonical profiles name in `audio` (e.g. "opus").
      probe_codecs: ffprobe `codec_name`s an output's audio streams may have ("opus",); verification
        checks each stream against them.
    """

    name: str
    probe_codecs: tuple[str, ...]


Term = Codec | Container | AudioPolicy

# The bundled vocabulary, as the schema files list it: codec flavour -> (family, ffprobe codec_name,
# ffprobe profile or None when not pinned, bits per pixel per frame for the free-space estimate,
# chroma subsampling and bit depth or None when not pinned).
BUNDLED_CODECS: Mapping[str, Codec] = {
    codec.name: codec
    for codec in (
        # Bits per pixel: what the FFmpeg recipe wrote on full-frame luma noise (camera grain, the worst
        # picture a camera makes) at the proxy's own size, plus 25 % (`benchmarks/space_estimate.py`).
        # 4444, DNxHD/HQ and HEVC have no bundled FFmpeg profile: 4444 is taken at 1.5x HQ (the
        # white paper's ratio), the constant-rate DNx flavours at their rate, HEVC as H.264.
        # ProRes leaves the bit depth to its decoder (ffmpeg's decodes 422 at 10 bits, 4444 at 12).
        Codec("prores_proxy", "prores", "prores", "Proxy", False, 5.1, "4:2:2"),
        Codec("prores_lt", "prores", "prores", "LT", False, 8.6, "4:2:2"),
        Codec("prores_standard", "prores", "prores", "Standard", False, 11.0, "4:2:2"),
        Codec("prores_hq", "prores", "prores", "HQ", False, 12.6, "4:2:2"),
        Codec("prores_4444", "prores", "prores", "4444", False, 19.0, "4:4:4"),
        # DNxHD's flavours come in 8 and 10 bits; DNxHR LB, SQ and HQ are 8-bit only (HQX is 10/12).
        Codec("dnxhd", "dnxhr", "dnxhd", None, False, 3.6, "4:2:2"),
        Codec("dnxhr_lb", "dnxhr", "dnxhd", "DNXHR LB", False, 0.95, "4:2:2", 8),
        Codec("dnxhr_sq", "dnxhr", "dnxhd", "DNXHR SQ", False, 2.4, "4:2:2", 8),
        Codec("dnxhr_hq", "dnxhr", "dnxhd", "DNXHR HQ", False, 3.6, "4:2:2", 8),
        # H.264 for review, which plays anywhere: 8-bit 4:2:0 (High 10, 4:2:2 and 4:4:4 do not).
        Codec("h264", "h264", "h264", None, True, 2.9, "4:2:0", 8),
        # "h265" is the ITU name and "hevc" the MPEG one for the same codec: both are accepted. No
        # bundled engine writes it: its 8-bit Main and 10-bit Main 10 are both common, so unpinned.
        Codec("h265", "hevc", "hevc", None, True, 2.9),
        Codec("hevc", "hevc", "hevc", None, True, 2.9),
    )
}
BUNDLED_CONTAINERS = frozenset({"mov", "mp4", "mxf"})
BUNDLED_AUDIO = frozenset({"aac", "copy", "pcm"})

_declared: dict[tuple[str, str], Term] = {}


def _kind(term: Term) -> str:
    return {Codec: "codec", Container: "container", AudioPolicy: "audio policy"}[type(term)]


def declare(terms: Iterable[tuple[str, Term]]) -> None:
    """Add (plugin name, term) declarations; the same declaration again changes nothing."""
    bundled = {"codec": BUNDLED_CODECS.keys(), "container": BUNDLED_CONTAINERS, "audio policy": BUNDLED_AUDIO}
    for plugin, term in terms:
        kind = _kind(term)
        if term.name in bundled[kind]:
            raise ConfigurationError(
                "vocabulary_redefined",
                f"Plugin '{plugin}' declares the {kind} '{term.name}', which proxx already defines; "
                "a plugin can add names, never change what a bundled one means.",
                {"plugin": plugin, kind: term.name},
            )
        known = _declared.get((kind, term.name))
        if known is not None and known != term:
            raise ConfigurationError(
                "vocabulary_conflict",
                f"Plugin '{plugin}' declares the {kind} '{term.name}' differently from an earlier "
                f"declaration ({known}).",
                {"plugin": plugin, kind: term.name},
            )
        _declared[(kind, term.name)] = term


def codec(name: str) -> Codec:
    """The codec flavour `name`, bundled or declared; KeyError when neither."""
    found = BUNDLED_CODECS.get(name) or _declared.get(("codec", name))
    if not isinstance(found, Codec):
        raise KeyError(name)
    return found


def container_of(format_name: str) -> str | None:
    """The declared container whose ffprobe format_name is `format_name`, or None."""
    for term in _declared.values():
        if isinstance(term, Container) and term.probe_format == format_name:
            return term.name
    return None


def extension(container: str) -> str:
    """The file extension of outputs in `container` (".mov")."""
    if container in BUNDLED_CONTAINERS:
        return f".{container}"
    found = _declared.get(("container", container))
    if not isinstance(found, Container):
        raise KeyError(container)
    return found.extension


def audio_policy(name: str) -> AudioPolicy | None:
    """The declared audio policy `name`, or None for a bundled (or unknown) one."""
    found = _declared.get(("audio policy", name))
    return found if isinstance(found, AudioPolicy) else None


# Schema fields whose values are vocabulary names: the field -> the declared names it accepts.
def _accepted(field: str) -> set[str]:
    declared = list(_declared.values())
    if field in ("codec", "codecs"):
        return {t.name for t in declared if isinstance(t, Codec)}
    if field == "preferred_codecs":
        return {t.family for t in declared if isinstance(t, Codec)}
    if field in ("container", "containers"):
        return {t.name for t in declared if isinstance(t, Container)}
    if field == "audio":
        return {t.name for t in declared if isinstance(t, AudioPolicy)}
    return set()


def accepts(field: str, value: object) -> bool:
    """Whether `value`, refused by a schema's list of names for `field`, is a declared name."""
    return isinstance(value, str) and value in _accepted(field)


def undeclared(canonical: Mapping[str, object]) -> list[tuple[str, str]]:
    """The (kind, name) pairs of a canonical profile document's codec, container and audio policy
    that neither proxx nor any plugin defines: what its plugin must declare."""
    known = {
        "codec": BUNDLED_CODECS.keys() | _accepted("codec"),
        "container": BUNDLED_CONTAINERS | _accepted("container"),
        "audio policy": BUNDLED_AUDIO | _accepted("audio"),
    }
    fields = {"codec": "codec", "container": "container", "audio policy": "audio"}
    return [
        (kind, value)
        for kind, field in fields.items()
        if isinstance(value := canonical.get(field), str) and value not in known[kind]
    ]


def fingerprint() -> str:
    """Changes whenever the declared vocabulary does (cached schema verdicts depend on it)."""
    import hashlib

    return hashlib.sha256(repr(sorted(_declared.items())).encode()).hexdigest()
