"""Profile repositories: folders of YAML files, one profile per file, read into records.

A repository is any folder; by convention canonical profiles live in `canonical/` and intents in
`user/`, but a file's kind is told by its version field (`canonical_profile_version` or
`user_profile_version`), so single files can be checked too. Layers are read in order: the bundled
repository (unless left out), canonical profiles shipped by plugins, then the studio's repositories.
For intents, a later layer wins: a studio's "HD Editorial LT" replaces the bundled one. Canonical ids
never change meaning, so a later layer may repeat an id only with an identical definition; a different
definition under the same id is a problem, and neither wins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from proxx import schemas
from proxx.compile.profiles import CanonicalProfile, Registry, UserProfile
from proxx.converter import converter

YAML_SUFFIXES = (".yaml", ".yml")

# libyaml through ruamel's C loader: 5x faster than the round-trip loader. The round-trip loader,
# which remembers lines, is used only to place the problems of a file that has some.
_fast_yaml = YAML(typ="safe")


@attrs.frozen
class Location:
    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@attrs.frozen
class Problem:
    """Something wrong in a repository, as `proxx validate` reports it."""

    location: Location
    reason: str
    message: str
    profile: str | None = None


@attrs.frozen
class Repository:
    """A loaded, layered profile repository."""

    registry: Registry
    user_profiles: tuple[UserProfile, ...]
    locations: dict[str, Location] = attrs.field(eq=False)
    problems: tuple[Problem, ...] = ()

    def user_profile(self, name: str) -> UserProfile | None:
        return next((p for p in self.user_profiles if p.name == name), None)

    def location_of(self, kind: str, key: str) -> Location | None:
        """`kind` is "canonical" or "user"; `key` an id or a name."""
        return self.locations.get(f"{kind}:{key}")


def profile_paths_from_env() -> list[Path]:
    """PROXX_PROFILES: repositories layered over the bundled one, separated like PATH."""
    raw = os.environ.get("PROXX_PROFILES", "")
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


def yaml_files(path: Path) -> list[Path]:
    """The YAML files of a repository folder (hidden ones skipped) or the file itself, sorted."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.suffix in YAML_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def load_repository(layers: Sequence[Path | Iterable[Path]]) -> Repository:
    """Read every layer (a folder, a file, or a list of files) in order into one Repository."""
    canonical: dict[str, CanonicalProfile] = {}
    user: dict[str, UserProfile] = {}
    locations: dict[str, Location] = {}
    problems: list[Problem] = []
    conflicted: set[str] = set()
    for layer in layers:
        files = yaml_files(layer) if isinstance(layer, Path) else sorted(layer)
        seen_in_layer: set[str] = set()
        for file in files:
            record, location, file_problems = _read_profile(file)
            problems.extend(file_problems)
            if isinstance(record, CanonicalProfile):
                key = f"canonical:{record.id}"
                earlier = canonical.get(record.id)
                if earlier is not None and earlier != record:
                    conflicted.add(record.id)
                    problems.append(
                        Problem(
                            location,
                            "canonical_id_conflict",
                            f"canonical id '{record.id}' is already defined differently in "
                            f"{locations[key].path}; a canonical id never changes meaning: "
                            "give the new definition a new id",
                            record.id,
                        )
                    )
                    continue
                canonical[record.id] = record
                locations.setdefault(key, location)
            elif isinstance(record, UserProfile):
                key = f"user:{record.name}"
                if key in seen_in_layer:
                    problems.append(
                        Problem(
                            location,
                            "duplicate_profile_name",
                            f"user profile name '{record.name}' is also used by "
                            f"{locations[key].path}; names must be unique",
                            record.name,
                        )
                    )
                    continue
                seen_in_layer.add(key)
                user[record.name] = record
                locations[key] = location
    for profile_id in conflicted:
        canonical.pop(profile_id, None)
    return Repository(
        registry=Registry.of(canonical.values()),
        user_profiles=tuple(sorted(user.values(), key=lambda p: p.name)),
        locations=locations,
        problems=tuple(problems),
    )


def _read_profile(
    file: Path,
) -> tuple[CanonicalProfile | UserProfile | None, Location, list[Problem]]:
    location = Location(str(file))
    try:
        with file.open("rb") as handle:
            document = _fast_yaml.load(handle)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = error.problem or error.context or "invalid YAML"
        return (
            None,
            Location(str(file), line),
            [Problem(Location(str(file), line), "yaml_syntax", f"invalid YAML: {reason}")],
        )
    except (OSError, UnicodeDecodeError, YAMLError) as error:
        return None, location, [Problem(location, "unreadable", f"cannot read profile file: {error}")]

    if not isinstance(document, dict):
        return (
            None,
            location,
            [
                Problem(
                    location,
                    "not_a_profile",
                    "expected a mapping with user_profile_version or canonical_profile_version",
                )
            ],
        )
    record_type: type[CanonicalProfile] | type[UserProfile]
    if "canonical_profile_version" in document:
        schema, record_type = schemas.CANONICAL_PROFILE, CanonicalProfile
        label = document.get("id")
    elif "user_profile_version" in document:
        schema, record_type = schemas.USER_PROFILE, UserProfile
        label = document.get("name")
    else:
        return (
            None,
            location,
            [
                Problem(
                    location,
                    "not_a_profile",
                    "not a profile: expected a 'user_profile_version' or a 'canonical_profile_version' field",
                )
            ],
        )
    label = label if isinstance(label, str) else None
    found = schemas.violations(document, schema)
    if found:
        lines = _line_finder(file)
        return (
            None,
            location,
            [Problem(Location(str(file), lines(v.path)), "malformed_profile", v.message, label) for v in found],
        )
    record: CanonicalProfile | UserProfile = converter.structure(document, record_type)
    return record, location, []


def _line_finder(file: Path) -> Callable[[tuple[str | int, ...]], int | None]:
    """A function from a JSON path in `file` to its 1-based line, or None when it cannot tell."""
    try:
        document = YAML(typ="rt").load(file.read_bytes())
    except (YAMLError, OSError):
        document = None

    def line(path: tuple[str | int, ...]) -> int | None:
        node, found = document, None
        for part in path:
            lc = getattr(node, "lc", None)
            try:
                if lc is not None:
                    found = lc.key(part)[0] + 1 if isinstance(part, str) else lc.item(part)[0] + 1
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        if found is None and getattr(document, "lc", None) is not None:
            found = document.lc.line + 1
        return found

    return line
