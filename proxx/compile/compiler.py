"""The profile compiler: one intent + the canonical registry -> exactly one canonical profile, or a
class A error. Pure and deterministic: the registry is sorted by id, the filters run in a fixed order,
and nothing else (time, file order, installed plugins) changes which id is chosen.

Filter order (each keeps the candidates that pass; docs/compatibility.md, section 2, for the 1.0 fields):

1. intra_frame_only: true keeps intra-frame codecs (ProRes, DNx).
2. allow_long_gop: false drops long-GOP codecs (H.264, HEVC).
3. max_resolution: same keeps `source` resolution only; 1080p and 2k keep every profile (schema 1.0
   semantics, kept in 1.1: the source size is unknown at compile time).
4. preferred_codecs: keeps profiles whose codec family is listed.
5. codecs (1.1): keeps profiles whose exact codec flavour is listed.
6. resolution (1.1): keeps profiles whose resolution policy is listed.
7. max_frame_size (1.1): keeps profiles guaranteed to fit WxH whatever the source (fit_ policies).
8. containers (1.2): keeps profiles whose container is listed.
9. audio (1.2): keeps profiles whose audio policy is listed.
10. engine_preference: only if more than one candidate remains, keeps the candidates of the first
   listed engine that has any.

Then: one candidate is the result; none is "unsatisfiable"; several is "ambiguous". Installed engines
are checked last, on the result only, so that installing or removing a plugin can turn a success into
an explicit failure but never change which canonical id an intent means.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import attrs

from proxx.compile.profiles import (
    CanonicalProfile,
    Constraints,
    Lifecycle,
    Registry,
    UserProfile,
    parse_frame_size,
)
from proxx.errors import PreJobError

Filter = Callable[[CanonicalProfile], bool]


@attrs.frozen
class Definition:
    """Where an intent was defined when it was chosen: its file, the sha256 of the file's content, and
    the file of a definition it deliberately replaced ("" if none)."""

    file: str
    digest: str
    overrides: str = ""


@attrs.frozen
class Compiled:
    """A successful compile: the intent, the canonical profile it means, and the origin metadata
    (`definition`: set when the intent was chosen from a repository)."""

    user_profile: UserProfile
    canonical: CanonicalProfile
    definition: Definition | None = None

    @property
    def origin(self) -> dict[str, str]:
        """The intent compiled, as a JobSpec's origin records it: type, name, version."""
        return {
            "type": "user_profile",
            "name": self.user_profile.name,
            "version": self.user_profile.user_profile_version,
        }


def constraint_filters(constraints: Constraints) -> list[tuple[str, Filter]]:
    """The filters of steps 1-9 that `constraints` switch on, in order, each with its field name."""
    c = constraints
    steps: list[tuple[str, Filter]] = []
    if c.intra_frame_only:
        steps.append(("intra_frame_only", lambda p: p.intra_frame))
    if c.allow_long_gop is False:
        steps.append(("allow_long_gop", lambda p: p.intra_frame))
    if c.max_resolution == "same":
        steps.append(("max_resolution", lambda p: p.resolution == "source"))
    if c.preferred_codecs is not None:
        families = frozenset(c.preferred_codecs)
        steps.append(("preferred_codecs", lambda p: p.codec_family in families))
    if c.codecs is not None:
        flavours = frozenset(c.codecs)
        steps.append(("codecs", lambda p: p.codec in flavours))
    if c.resolution is not None:
        policies = frozenset(c.resolution)
        steps.append(("resolution", lambda p: p.resolution in policies))
    if c.max_frame_size is not None:
        cap_w, cap_h = parse_frame_size(c.max_frame_size)

        def fits(p: CanonicalProfile) -> bool:
            box = p.fit_box
            return box is not None and box[0] <= cap_w and box[1] <= cap_h

        steps.append(("max_frame_size", fits))
    if c.containers is not None:
        containers = frozenset(c.containers)
        steps.append(("containers", lambda p: p.container in containers))
    if c.audio is not None:
        policies_audio = frozenset(c.audio)
        steps.append(("audio", lambda p: p.audio in policies_audio))
    return steps


def prefer_engine(candidates: Sequence[CanonicalProfile], preference: Sequence[str] | None) -> list[CanonicalProfile]:
    """Step 10: a tie-breaker, so it never empties a non-empty candidate list."""
    if preference is None or len(candidates) <= 1:
        return list(candidates)
    for engine in preference:
        chosen = [p for p in candidates if p.engine == engine]
        if chosen:
            return chosen
    return list(candidates)


def candidates(profile: UserProfile, registry: Registry) -> list[CanonicalProfile]:
    """The canonical profiles that satisfy `profile`'s constraints, sorted by id."""
    remaining = list(registry)
    for _, keep in constraint_filters(profile.constraints):
        remaining = [p for p in remaining if keep(p)]
    return prefer_engine(remaining, profile.constraints.engine_preference)


def constraint_value(constraints: Constraints, field: str) -> str:
    """A constraint's value as its YAML says it: true, same, [prores, dnxhr], 1920x1080."""
    value = getattr(constraints, field)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return str(value)


def failing_constraint(profile: UserProfile, registry: Registry) -> tuple[str, list[str]]:
    """The constraint whose filter left no candidate, and the constraints applied before it."""
    remaining = list(registry)
    applied: list[str] = []
    for field, keep in constraint_filters(profile.constraints):
        remaining = [p for p in remaining if keep(p)]
        if not remaining:
            return field, applied
        applied.append(field)
    return "", applied  # an empty registry: no constraint is to blame


def compile_profile(
    profile: UserProfile,
    registry: Registry,
    engines: Collection[str] | None = None,
) -> Compiled:
    """Compile one intent. `engines`: the installed engine names, or None to skip that check
    (a CI machine validating a repository need not have every engine installed)."""
    name = profile.name
    if profile.lifecycle is Lifecycle.GRADUATED:
        target = registry.get(profile.graduated_to or "")
        if target is None:
            raise PreJobError(
                "graduated_to_unknown",
                f"User profile '{name}' is graduated to canonical profile "
                f"'{profile.graduated_to}', which is not in the registry.",
                {"profile": name, "graduated_to": profile.graduated_to},
            )
        found = [target]
    else:
        found = candidates(profile, registry)
    if not found:
        field, before = failing_constraint(profile, registry)
        c = profile.constraints
        if not field:
            why = "the canonical registry is empty"
        else:
            why = f"{field} constraint ({constraint_value(c, field)}) incompatible with canonical registry"
            if before:
                why += " given " + ", ".join(f"{f} ({constraint_value(c, f)})" for f in before)
        raise PreJobError(
            "unsatisfiable",
            f"No matching canonical profile for user profile '{name}'. Constraints are unsatisfiable: {why}.",
            {"profile": name, "constraint": field or None, "value": constraint_value(c, field) if field else None,
             "applied_before": before},
        )  # fmt: skip
    if len(found) > 1:
        ids = ", ".join(p.id for p in found)
        raise PreJobError(
            "ambiguous",
            f"Ambiguous match for user profile '{name}'. Multiple canonical profiles satisfy "
            f"constraints: [{ids}]. Add more constraints to resolve to exactly one profile.",
            {"profile": name, "candidates": [p.id for p in found]},
        )
    (canonical,) = found
    if engines is not None and canonical.engine not in engines:
        raise PreJobError(
            "engine_not_installed",
            f"No usable canonical profile for user profile '{name}': its only match needs the "
            f"'{canonical.engine}' engine, which no installed plugin provides.",
            {"profile": name, "engine": canonical.engine, "canonical_profile": canonical.id},
        )
    return Compiled(profile, canonical)
