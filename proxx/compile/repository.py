"""Profile repositories: folders of YAML files, one profile per file, read into records.

A repository is any folder; by convention canonical profiles live in `canonical/` and intents in
`user/`, but a file's kind is told by its version field (`canonical_profile_version` or
`user_profile_version`), so single files can be checked too. Layers are read in order: the bundled
repository (unless left out), canonical profiles shipped by plugins, then the studio's repositories.
An intent name is defined once across all layers: a second definition is a problem naming both files
and neither is used (the intent is INVALID, never a silent winner), unless the later file declares
itself a deliberate replacement (`overrides: true`, schema 1.1): a studio's "HD Editorial LT" then
replaces the bundled one, and the repository records which file it replaced. Canonical ids
never change meaning, so a later layer may repeat an id only with an identical definition; a different
definition under the same id is a problem, and neither wins.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from proxx.compile.cache import ProfileCache
from proxx.compile.problems import Location, Problem
from proxx.compile.profiles import CanonicalProfile, Registry, UserProfile
from proxx.converter import converter

YAML_SUFFIXES = (".yaml", ".yml")


@attrs.frozen
class Repository:
    """A loaded, layered profile repository."""

    registry: Registry
    user_profiles: tuple[UserProfile, ...]
    locations: dict[str, Location] = attrs.field(eq=False)
    problems: tuple[Problem, ...] = ()
    # Intent name -> the file its deliberate override (`overrides: true`) replaced.
    overridden: dict[str, Location] = attrs.field(factory=dict, eq=False)
    # Intent name -> intent: `validate` looks up every deprecated intent's replacements, which a scan
    # of the intents made quadratic (5,000 of 10,000 intents replaced: 2 s of 2.7 s).
    _by_name: dict[str, UserProfile] = attrs.field(init=False, repr=False, eq=False)

    @_by_name.default
    def _index(self) -> dict[str, UserProfile]:
        return {profile.name: profile for profile in reversed(self.user_profiles)}  # the first of a name

    def user_profile(self, name: str) -> UserProfile | None:
        """The intent of that name as its file defines it (the first file, when two define it), or None."""
        return self._by_name.get(name)

    def location_of(self, kind: str, key: str) -> Location | None:
        """`kind` is "canonical" or "user"; `key` an id or a name."""
        return self.locations.get(f"{kind}:{key}")


def profile_paths_from_env() -> list[Path]:
    """PROXX_PROFILES: repositories layered over the bundled one, separated like PATH."""
    raw = os.environ.get("PROXX_PROFILES", "")
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


def yaml_files(path: Path) -> list[Path]:
    """The YAML files of a repository folder or the file itself, in path order (`path_order`):
    hidden files and folders skipped, links to folders not followed. One walk, each folder's
    entries sorted as they are read, so 10,000 files are neither compared as paths nor sorted."""
    if path.is_file():
        return [path]
    found: list[Path] = []

    def walk(folder: Path) -> None:
        try:
            with os.scandir(folder) as entries:
                listed = sorted((entry for entry in entries if not entry.name.startswith(".")), key=_by_name)
        except OSError:
            return
        for entry in listed:
            try:
                if entry.is_dir(follow_symlinks=False):
                    walk(folder / entry.name)
                elif entry.name.endswith(YAML_SUFFIXES) and entry.is_file():
                    found.append(folder / entry.name)
            except OSError:
                continue

    walk(path)
    return found


def _by_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def path_order(path: Path) -> tuple[str, ...]:
    """The order profile files are read in (a folder's files before a later sibling folder's):
    their path's parts, compared as text."""
    return path.parts


def repository_stamp(layers: Sequence[Path]) -> tuple[tuple[str, int, int, int, int], ...]:
    """What changes whenever a profile file of `layers` is added, removed, replaced or rewritten:
    each YAML file's path, size, modification time, inode and change time (`proxx.home.file_stamp`).
    One directory walk without parsing (~0.1 ms for the bundled repository), so a long-running shell
    can ask before every job."""
    found: list[tuple[str, int, int, int, int]] = []

    def walk(folder: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    walk(entry.path)
                elif entry.name.endswith(YAML_SUFFIXES):
                    stat = entry.stat()
                    found.append((entry.path, stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns))
            except OSError:
                continue

    for layer in layers:
        if layer.is_dir():
            walk(str(layer))
        else:
            try:
                stat = layer.stat()
            except OSError:
                continue
            found.append((str(layer), stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns))
    return tuple(sorted(found))


def load_repository(layers: Sequence[Path | Iterable[Path]], cache: ProfileCache | None = None) -> Repository:
    """Read every layer (a folder, a file, or a list of files) in order into one Repository.

    With a `cache`, files unchanged since they last passed the schemas are not parsed again (and
    neither the YAML parser nor the JSON Schema validator is even imported when nothing changed)."""
    canonical: dict[str, CanonicalProfile] = {}
    user: dict[str, UserProfile] = {}
    locations: dict[str, Location] = {}
    problems: list[Problem] = []
    conflicted: set[str] = set()
    duplicated: set[str] = set()
    overridden: dict[str, Location] = {}
    ordered = [yaml_files(layer) if isinstance(layer, Path) else sorted(layer, key=path_order) for layer in layers]
    for files in ordered:
        seen_in_layer: set[str] = set()
        for file in files:
            record, location, file_problems = _read_profile(file, cache)
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
                defined_in = locations.get(key)
                if defined_in is not None and defined_in.path == location.path:
                    continue  # one file read through two layers (validate's targets inside a base layer)
                if defined_in is not None and (key in seen_in_layer or not record.overrides):
                    duplicated.add(record.name)
                    problems.append(
                        Problem(
                            location,
                            "duplicate_profile_name",
                            f"intent name '{record.name}' is defined in both {defined_in.path} and {location.path}; "
                            "an intent is defined once (a later layer replaces one only when its file declares "
                            "`overrides: true`)",
                            record.name,
                            "user",
                        )
                    )
                    continue
                seen_in_layer.add(key)
                if defined_in is not None:
                    overridden[record.name] = defined_in
                user[record.name] = record
                locations[key] = location
    for profile_id in conflicted:
        canonical.pop(profile_id, None)
    for name in duplicated:  # never a silent winner: the intent is unusable until one definition is left
        user.pop(name, None)
    if cache is not None:
        cache.save()
    return Repository(
        registry=Registry.of(canonical.values()),
        user_profiles=tuple(sorted(user.values(), key=lambda p: p.name)),
        locations=locations,
        problems=tuple(problems),
        overridden=overridden,
    )


def _read_profile(
    file: Path, cache: ProfileCache | None
) -> tuple[CanonicalProfile | UserProfile | None, Location, list[Problem]]:
    location = Location(str(file))
    cached = cache.get(file) if cache is not None else None
    if cached is None:
        from proxx.compile.parse import read_document  # imports the YAML parser and jsonschema

        kind, document, location, problems = read_document(file)
        if problems or kind is None or document is None:
            return None, location, problems
        if cache is not None:
            cache.put(file, kind, document)
        cached = (kind, document)
    kind, document = cached
    try:
        if kind == "canonical":
            return converter.structure(document, CanonicalProfile), location, []
        return converter.structure(document, UserProfile), location, []
    except Exception as error:  # schema-valid yet not a profile: this file's problem, never a crash
        return None, location, [Problem(location, "malformed_profile", f"cannot read profile: {error}")]
