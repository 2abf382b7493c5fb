"""Operator selection: which intents can be chosen, and choosing one (spec steps 1-5).

Messages here are for operators: they name the intent and say what is wrong, and never show a
canonical id, a codec or a container. The administrator's detail (candidate ids and so on) travels in
the error's context.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from proxx.compile.compiler import Compiled, Definition, compile_profile, constraint_value
from proxx.compile.invalid import ANY_FILE, InvalidMemory, defined_in, file_digest, stays_invalid_message
from proxx.compile.profiles import Lifecycle, UserProfile
from proxx.compile.repository import Repository
from proxx.errors import PreJobError

_OPERATOR_REASONS = {
    "ambiguous": "its constraints match more than one canonical profile "
    "(an administrator sees which with `proxx validate`)",
    "unsatisfiable": "no canonical profile satisfies its constraints",
    "graduated_to_unknown": "the canonical profile it was graduated to is not in the registry",
}


@attrs.frozen
class IntentStatus:
    """One intent as an operator sees it: name, description, lifecycle, and why it is unusable."""

    name: str
    description: str
    lifecycle: Lifecycle
    problem: str | None = None
    replaced_by: tuple[str, ...] = ()

    @property
    def selectable(self) -> bool:
        """An operator may choose it for a new job (its lifecycle is active or graduated)."""
        return self.lifecycle.selectable


def no_longer_compiles(name: str, reason: str, detail: str, **context: object) -> PreJobError:
    return PreJobError(
        reason,
        f"Intent '{name}' no longer compiles: {detail}.",
        {"profile": name, **context},
    )


def _compile_for_operator(profile: UserProfile, repository: Repository, engines: Collection[str] | None) -> Compiled:
    try:
        return compile_profile(profile, repository.registry, engines)
    except PreJobError as error:
        if error.reason == "engine_not_installed":
            # which engine is for the administrator (`admin_message`, `proxx registry`), never the operator
            detail = "it needs a renderer that is not installed here"
        elif error.reason == "unsatisfiable" and error.context.get("constraint"):
            detail = _constraint_detail(profile, str(error.context["constraint"]))
        else:
            detail = _OPERATOR_REASONS[error.reason]
        raise no_longer_compiles(
            profile.name, error.reason, detail, admin_message=error.message, **_engine(error)
        ) from error


def _engine(error: PreJobError) -> dict[str, object]:
    return {"engine": error.context["engine"]} if "engine" in error.context else {}


# Constraints whose values are codec names, which operators never see: named by field alone.
_CODEC_CONSTRAINTS = frozenset({"preferred_codecs", "codecs"})


def _constraint_detail(profile: UserProfile, field: str) -> str:
    """The failing constraint as the contract's example says it ("max_resolution constraint
    incompatible with canonical registry"), with its value unless that names codecs."""
    shown = field if field in _CODEC_CONSTRAINTS else f"{field} ({constraint_value(profile.constraints, field)})"
    return f"{shown} constraint incompatible with canonical registry"


# Problems of an intent's definition that leave no usable intent of that name: it is INVALID, saying why.
_DEFINITION_PROBLEMS = frozenset({"malformed_profile", "duplicate_profile_name"})


def _malformed(repository: Repository, name: str) -> PreJobError | None:
    problems = [
        p for p in repository.problems if p.profile == name and p.reason in _DEFINITION_PROBLEMS and p.kind == "user"
    ]
    if not problems:
        return None
    if problems[0].reason == "duplicate_profile_name":
        return no_longer_compiles(
            name, "duplicate_profile_name", problems[0].message, location=str(problems[0].location)
        )
    # What is malformed names fields and codec values, which operators never read: it is the
    # administrator's (`admin_message`, `proxx validate`), as an uninstalled engine's name is.
    return no_longer_compiles(
        name,
        "malformed_profile",
        "its definition is malformed (an administrator's `proxx validate` says where and why)",
        location=str(problems[0].location),
        admin_message=problems[0].message,
    )


def _compile_remembering(
    profile: UserProfile, repository: Repository, engines: Collection[str] | None, memory: InvalidMemory | None
) -> Compiled:
    """Compile for an operator; an intent once found INVALID stays so for as long as its file defines
    it with the same version (`proxx.compile.invalid`), whatever that file or the registry became since."""
    if memory is None:
        return _compile_for_operator(profile, repository, engines)
    location = repository.location_of("user", profile.name)
    file = defined_in(location.path) if location is not None else ANY_FILE
    digest = file_digest(location.path) if location is not None else None
    version = profile.user_profile_version
    found = memory.still_invalid(profile.name, version, digest, file)
    if found is not None:
        raise PreJobError(
            "stays_invalid",
            stays_invalid_message(profile.name, found),
            {"profile": profile.name, "version": version, "found_invalid_at": found.found_at},
        )
    try:
        return _compile_for_operator(profile, repository, engines)
    except PreJobError as error:
        if error.reason != "engine_not_installed":  # a plugin installed again is no change of definition
            memory.remember(profile.name, version, error.message, file)
        raise


def status(
    profile: UserProfile, repository: Repository, engines: Collection[str] | None, memory: InvalidMemory | None = None
) -> IntentStatus:
    try:
        _compile_remembering(profile, repository, engines, memory)
    except PreJobError as error:
        return IntentStatus(profile.name, profile.description, Lifecycle.INVALID, error.message)
    return IntentStatus(profile.name, profile.description, profile.lifecycle, None, profile.replaced_by)


def intent_statuses(
    repository: Repository, engines: Collection[str] | None, memory: InvalidMemory | None = None
) -> list[IntentStatus]:
    """Every intent of the repository with its computed lifecycle, sorted by name. Malformed files
    that still name an intent are listed as INVALID, so an intent never silently disappears. With a
    `memory`, an intent once INVALID stays INVALID until its version changes (`proxx.compile.invalid`)."""
    statuses = [status(p, repository, engines, memory) for p in repository.user_profiles]
    known = {s.name for s in statuses}
    for problem in repository.problems:
        if problem.reason in _DEFINITION_PROBLEMS and problem.kind == "user" and problem.profile:
            if problem.profile in known:
                continue
            known.add(problem.profile)
            error = _malformed(repository, problem.profile)
            assert error is not None
            statuses.append(IntentStatus(problem.profile, "", Lifecycle.INVALID, error.message))
    return sorted(statuses, key=lambda s: s.name)


def select(
    repository: Repository, name: str, engines: Collection[str] | None, memory: InvalidMemory | None = None
) -> Compiled:
    """The operator chooses `name`: its compiled form, or a class A error. No fallback, ever."""
    profile = repository.user_profile(name)
    if profile is None:
        malformed = _malformed(repository, name)
        if malformed is not None:
            raise malformed
        raise PreJobError("profile_not_found", f"Intent '{name}' does not exist.", {"profile": name})
    if profile.lifecycle is Lifecycle.DEPRECATED:
        raise PreJobError(
            "profile_deprecated",
            f"Intent '{name}' is deprecated and cannot be used for new jobs.",
            {"profile": name, "replaced_by": list(profile.replaced_by)},  # the shells name them
        )
    compiled = _compile_remembering(profile, repository, engines, memory)
    location = repository.location_of("user", name)
    if location is None:
        return compiled
    replaced = repository.overridden.get(name)
    definition = Definition(location.path, file_digest(location.path) or "", replaced.path if replaced else "")
    return attrs.evolve(compiled, definition=definition)
