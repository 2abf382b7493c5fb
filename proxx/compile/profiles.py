"""The records compilation works on: canonical proxy profiles and user proxy profiles (intents)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from fractions import Fraction

import attrs

from proxx import vocabulary

# Bundled codec flavour -> family, as in the reference vocabulary (docs/compatibility.md, section 1).
CODEC_FAMILY: Mapping[str, str] = {name: codec.family for name, codec in vocabulary.BUNDLED_CODECS.items()}

_FIT = re.compile(r"fit_([0-9]+)x([0-9]+)")
_SCALE = re.compile(r"scale_([0-9]+)")


def parse_frame_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


@attrs.frozen
class CanonicalProfile:
    """One canonical proxy profile: exactly one output description, rendered by the engine it names.

    Fields:
      id: the canonical id (immutable in meaning).
      engine: the engine that renders it; nothing else routes a job to an engine.
      codec: the codec flavour ("prores_lt", "h264", or one a plugin declared).
      container: "mov", "mp4", "mxf", or one a plugin declared.
      resolution: "source", "scale_50", "scale_25" or "fit_WxH".
      audio: the audio policy: "aac", "copy", "pcm", or one a plugin declared.
      description: the administrator's note (never shown to operators).
      canonical_profile_version: the format's version ("1.0").
      hdr: what an 8-bit proxy of an HDR (PQ or HLG) source keeps: "keep", its HDR description
        (the README's "Media policy"); a 10-bit codec keeps it whatever this says.
    Properties: `codec_family`, `intra_frame`, `scale_factor`, `fit_box`.
    """

    id: str
    engine: str
    codec: str
    container: str
    resolution: str
    audio: str
    description: str = ""
    canonical_profile_version: str = "1.0"
    hdr: str = "keep"

    @property
    def codec_family(self) -> str:
        """The family of its codec ("prores" for ProRes LT), what intents' `preferred_codecs` name."""
        return vocabulary.codec(self.codec).family

    @property
    def intra_frame(self) -> bool:
        """Its codec codes each picture alone (ProRes, DNxHR): what `intra_frame_only` keeps."""
        return not vocabulary.codec(self.codec).long_gop

    @property
    def scale_factor(self) -> Fraction | None:
        """1/2 for scale_50, 1/4 for scale_25; None for other policies."""
        match = _SCALE.fullmatch(self.resolution)
        return Fraction(int(match.group(1)), 100) if match else None

    @property
    def fit_box(self) -> tuple[int, int] | None:
        """(width, height) of a fit_WxH policy; None for other policies."""
        match = _FIT.fullmatch(self.resolution)
        return (int(match.group(1)), int(match.group(2))) if match else None


@attrs.frozen
class Constraints:
    """What an intent asks for. None means "not constrained". The 1.1 and 1.2 fields come after 1.0's."""

    intra_frame_only: bool | None = None
    allow_long_gop: bool | None = None
    max_resolution: str | None = None
    preferred_codecs: tuple[str, ...] | None = None
    codecs: tuple[str, ...] | None = None
    resolution: tuple[str, ...] | None = None
    max_frame_size: str | None = None
    containers: tuple[str, ...] | None = None  # 1.2
    audio: tuple[str, ...] | None = None  # 1.2
    engine_preference: tuple[str, ...] | None = None


class Lifecycle(enum.Enum):
    """An intent's lifecycle: active, deprecated (listed, not chosen), graduated (means exactly its
    `graduated_to` id), or invalid (computed: it does not compile); `selectable` for operators."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    GRADUATED = "graduated"
    INVALID = "invalid"

    @property
    def selectable(self) -> bool:
        """An operator may choose an intent of this lifecycle for a new job (active, graduated)."""
        return self in (Lifecycle.ACTIVE, Lifecycle.GRADUATED)


@attrs.frozen
class Naming:
    """How an intent names its outputs: <output folder>/[folder/]<source base name><suffix>.<ext>.

    Fields:
      suffix: appended to the source's base name ("_Proxy"), or "".
      folder: a sub-folder of the output folder the proxies go to ("Proxy"), or "".
    """

    suffix: str = ""
    folder: str = ""


@attrs.frozen
class UserProfile:
    """An operator intent (UserProxyProfile). `lifecycle` is the declared state; INVALID is computed."""

    user_profile_version: str
    name: str
    constraints: Constraints
    description: str = ""
    notes: str = ""
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    graduated_to: str | None = None
    naming: Naming = Naming()
    # What replaces a deprecated intent, by intent name: shown where it is listed, never chosen for
    # the operator (no fallback). graduated_to is a canonical id, which operators never see.
    replaced_by: tuple[str, ...] = ()
    # This file deliberately replaces an intent of the same name from an earlier layer (schema 1.1);
    # without it, a name defined twice is a problem and neither definition is used.
    overrides: bool = False


def _sorted_by_id(items: Iterable[CanonicalProfile]) -> tuple[CanonicalProfile, ...]:
    return tuple(sorted(items, key=lambda p: p.id))


@attrs.frozen
class Registry:
    """The canonical registry: profiles sorted by id, so nothing depends on file order."""

    profiles: tuple[CanonicalProfile, ...] = attrs.field(converter=_sorted_by_id)
    _by_id: Mapping[str, CanonicalProfile] = attrs.field(init=False, repr=False, eq=False)

    @_by_id.default
    def _index(self) -> Mapping[str, CanonicalProfile]:
        return {profile.id: profile for profile in self.profiles}

    def __iter__(self) -> Iterator[CanonicalProfile]:
        return iter(self.profiles)

    def __len__(self) -> int:
        return len(self.profiles)

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self._by_id

    def get(self, profile_id: str) -> CanonicalProfile | None:
        """The canonical profile of that id, or None."""
        return self._by_id.get(profile_id)

    @classmethod
    def of(cls, profiles: Iterable[CanonicalProfile]) -> Registry:
        """The registry of these canonical profiles."""
        return cls(tuple(profiles))
