"""`proxx validate`: check profile repositories against the schemas, then compile every intent.

This is the administrator's and CI's tool, so its report may name canonical ids.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import attrs

from proxx.compile.compiler import compile_profile
from proxx.compile.confusable import confusable_groups, mixed_script_word
from proxx.compile.invalid import InvalidMemory, defined_in, file_digest, stays_invalid_message
from proxx.compile.problems import Location, Problem
from proxx.compile.profiles import Lifecycle
from proxx.compile.repository import Repository, load_repository, path_order, yaml_files
from proxx.errors import PreJobError


@attrs.frozen
class CheckReport:
    files: int
    problems: tuple[Problem, ...]
    resolved: tuple[tuple[str, str, Location], ...]  # (intent name, canonical id, where)

    @property
    def ok(self) -> bool:
        return not self.problems

    def with_problems(self, more: Sequence[Problem]) -> CheckReport:
        """The report with `more` problems (a plugin's broken profiles), each reported once."""
        problems = sorted({*self.problems, *more}, key=lambda p: (p.location.path, p.location.line or 0, p.message))
        return attrs.evolve(self, problems=tuple(problems))


def check(
    targets: Sequence[Sequence[Path]],
    base_layers: Sequence[Path],
    memory: InvalidMemory | None = None,
    engines: Collection[str] | None = None,
) -> CheckReport:
    """Check the profiles in `targets`: layers read in order over `base_layers`, each layer the
    folders and files given together (one repository: `proxx validate canonical user`), as the
    installation's repositories are each a layer (a later one's `overrides: true` replaces an intent).
    `base_layers` (the bundled repository, plugins' canonical profiles) supply the canonical ids the
    targets may compile to. The files' problems are reported for the targets; and every intent of every
    layer is compiled against the whole registry, so a canonical profile among the targets that breaks
    an intent anywhere (makes a bundled intent ambiguous, say) fails naming that intent, whichever files
    changed. `memory`: the installation's intents found INVALID; one it holds at the version checked
    is a problem even when it compiles now, as it stays INVALID for every job until its version
    changes. `engines`: the installed engines' names; an intent whose canonical profile needs another
    is a problem, as it is INVALID wherever proxx runs with these plugins."""
    layers = [_one_layer(paths) for paths in targets]
    target_files = [file for files in layers for file in files]
    repository = load_repository([*base_layers, *layers])
    inside = {str(f) for f in target_files}
    # A target inside a base layer is read twice; its problems count once.
    problems = sorted({_placed(p) for p in repository.problems if p.location.path in inside}, key=str)
    resolved = []
    for profile in repository.user_profiles:
        location = repository.location_of("user", profile.name)
        if location is None:
            continue
        if location.path not in inside:
            # An intent of another layer (the bundled ones): the checked files must not break it, as a
            # canonical profile that makes it ambiguous would. Named where it lives.
            try:
                compile_profile(profile, repository.registry, engines)
            except PreJobError as error:
                problems.append(Problem(_line_of(location, _deciding_key(profile.lifecycle)), error.reason,
                                        error.message, profile.name))  # fmt: skip
            continue
        for name in profile.replaced_by:  # operators are sent there: it must be an intent they can choose
            replacement = repository.user_profile(name)
            if replacement is None or not replacement.lifecycle.selectable:
                why = "is not an intent of this repository" if replacement is None else "cannot be chosen either"
                where = _line_of(location, "replaced_by:")
                problems.append(
                    Problem(where, "replaced_by_unusable", f"replaced by '{name}', which {why}", profile.name)
                )
        try:
            compiled = compile_profile(profile, repository.registry, engines)
        except PreJobError as error:
            key = _deciding_key(profile.lifecycle)
            if error.context.get("constraint"):  # the line of the constraint that left no candidate
                key = f"{error.context['constraint']}:"
            problems.append(Problem(_line_of(location, key), error.reason, error.message, profile.name))
        else:
            version, path = profile.user_profile_version, location.path
            found = None if memory is None else memory.held(profile.name, version, file_digest(path), defined_in(path))
            if found is not None:
                message = stays_invalid_message(profile.name, found)
                problems.append(Problem(_line_of(location, "user_profile_version:"), "stays_invalid", message,
                                        profile.name, "user"))  # fmt: skip
                continue
            resolved.append((profile.name, compiled.canonical.id, location))
    problems.extend(_confusable(repository, inside))
    missing = [t for paths in targets for t in paths if not t.exists()]
    problems.extend(Problem(Location(str(t)), "not_found", "no such file or folder") for t in missing)
    problems.sort(key=lambda p: (p.location.path, p.location.line or 0, p.message))
    return CheckReport(len(target_files), tuple(problems), tuple(resolved))


def _one_layer(paths: Sequence[Path]) -> list[Path]:
    """The profile files of `paths`, one layer: each path resolved once (not each of its files), its
    files listed beneath the real folder in path order (several paths are merged and sorted)."""
    listed = [yaml_files(path.resolve()) for path in paths]
    return listed[0] if len(listed) == 1 else sorted({f for files in listed for f in files}, key=path_order)


def _confusable(repository: Repository, inside: set[str]) -> list[Problem]:
    """Intent names an operator could take for one another (`proxx.compile.confusable`), reported
    at each such intent of the targets."""
    problems = []
    for group in confusable_groups(p.name for p in repository.user_profiles):
        for name in group:
            location = repository.location_of("user", name)
            if location is None or location.path not in inside:
                continue
            others = ", ".join(f"'{ascii(other)[1:-1]}'" for other in group if other != name)
            message = (
                f"intent name '{ascii(name)[1:-1]}' looks like {others}: an operator choosing by name could get "
                "the other; rename one"
            )
            problems.append(Problem(_line_of(location, "name:"), "confusable_name", message, name))
    for profile in repository.user_profiles:
        location = repository.location_of("user", profile.name)
        word = mixed_script_word(profile.name)
        if word is None or location is None or location.path not in inside:
            continue
        message = (
            f"intent name '{ascii(profile.name)[1:-1]}' mixes scripts in the word '{ascii(word)[1:-1]}' (a letter "
            "that only looks Latin?): operators could not tell it from another name; use one script per word"
        )
        problems.append(Problem(_line_of(location, "name:"), "confusable_name", message, profile.name))
    return problems


# The line a second definition is reported at: the name or id it repeats.
_DEFINING_KEY = {"duplicate_profile_name": "name:", "canonical_id_conflict": "id:"}


def _placed(problem: Problem) -> Problem:
    """`problem` at its line, for a second definition (the repository loader does not read lines)."""
    key = _DEFINING_KEY.get(problem.reason)
    if key is None or problem.location.line is not None:
        return problem
    return attrs.evolve(problem, location=_line_of(problem.location, key))


def _deciding_key(lifecycle: Lifecycle) -> str:
    """The field that decides what an intent compiles to: a graduated intent skips its constraints."""
    return "graduated_to:" if lifecycle is Lifecycle.GRADUATED else "constraints:"


def _line_of(location: Location, key: str) -> Location:
    """Point a problem at the line that decides it (`key`: "graduated_to:", "constraints:", ...)."""
    try:
        lines = Path(location.path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return location
    line = next((n for n, text in enumerate(lines, 1) if text.lstrip().startswith(key)), None)
    return Location(location.path, line)
