"""`proxx profiles` (operators), `proxx registry` and `proxx validate` (administrators, CI)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proxx.names import safe

if TYPE_CHECKING:  # imported by the commands that use them: `proxx jobs list` registers these too
    from proxx.app import Proxx
    from proxx.compile.check import CheckReport
    from proxx.compile.problems import Problem
    from proxx.compile.select import IntentStatus
    from proxx.errors import PreJobError


#: The commands `register` adds.
COMMANDS = ("profiles", "registry", "validate")


def register(sub: Any, repository_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("profiles", help="list the intents operators can choose")
    repository_options(p)
    p.add_argument("--all", action="store_true", help="also list deprecated and invalid intents")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_profiles)

    p = sub.add_parser("registry", help="administrator's view of the canonical registry and engines")
    repository_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_registry)

    p = sub.add_parser("validate", help="check profile repositories against the schemas and compile every intent")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="repository folders or profile files")
    p.add_argument("--format", choices=("text", "json", "github"), default="text")
    p.add_argument("--show-resolved", action="store_true", help="print the canonical id each intent compiles to")
    p.add_argument(
        "--no-bundled-profiles",
        dest="bundled",
        action="store_false",
        default=None,
        help="do not offer the bundled canonical registry to the checked intents (as PROXX_BUNDLED_PROFILES=0)",
    )
    p.set_defaults(handler=cmd_validate)


def _open(args: argparse.Namespace) -> Proxx:
    from proxx.app import Proxx

    return Proxx.open(profiles=args.profiles, bundled=args.bundled)


def cmd_profiles(args: argparse.Namespace) -> int:
    from proxx.visibility import OperatorWords

    proxx = _open(args)
    shown = [s for s in proxx.intents() if args.all or s.selectable or s.lifecycle.value == "deprecated"]
    if args.json:
        rows = [
            {
                "name": s.name,
                "description": s.description,
                "lifecycle": s.lifecycle.value,
                "selectable": s.selectable,
                "problem": s.problem,
                "replaced_by": list(s.replaced_by),
            }
            for s in shown
        ]
        print(json.dumps(rows, indent=2))
        return 0
    words = OperatorWords.of(proxx.repository.registry, (s.name for s in shown))
    usable = [s for s in shown if s.selectable]
    unusable = [s for s in shown if not s.selectable]
    width = max((len(safe(s.name)) for s in shown), default=0)
    for s in usable:
        print(f"  {safe(s.name):<{width}}  {words.text(s.description)}")
    if not usable:
        print("No intent can be chosen: ask an administrator to check the profile repository.")
    if unusable:
        print("\nNot available for new jobs:")
        for s in unusable:
            print(f"  {safe(s.name):<{width}}  {words.text(s.problem) if s.problem else _deprecated(s)}")
    return 0


def _deprecated(status: IntentStatus) -> str:
    """How a deprecated intent reads in the list: what replaced it, for the operator to choose."""
    if status.replaced_by:
        return "deprecated, replaced by " + ", ".join(f"'{safe(name)}'" for name in status.replaced_by)
    return "deprecated: cannot be used for new jobs"


def cmd_registry(args: argparse.Namespace) -> int:
    from proxx.converter import converter
    from proxx.execute.engine import availability_of

    proxx = _open(args)
    broken = proxx.plugin_manager.plugin_profile_problems()
    for problem in broken:
        print(f"{problem.location}: error: {problem.message} ({problem.reason})", file=sys.stderr)
    availability = {  # an engine whose check raises is listed unavailable, the others still are
        name: availability_of(engine, proxx.engine_plugins.get(name)) for name, engine in proxx.engines.items()
    }
    if args.json:
        print(
            json.dumps(
                {
                    "canonical_profiles": [converter.unstructure(p) for p in proxx.repository.registry],
                    "engines": {n: converter.unstructure(a) for n, a in availability.items()},
                },
                indent=2,
            )
        )
        return 6 if broken else 0
    print("Engines:")
    for name, a in availability.items():
        state = f"available ({a.version})" if a.available else f"NOT available: {a.reason}"
        print(f"  {name:<10} {state}")
    if not availability:
        print("  (none installed)")
    print("\nCanonical profiles:")
    for p in proxx.repository.registry:
        installed = "" if p.engine in proxx.engines else "  [engine not installed]"
        columns = f"{p.id:<28} {p.engine:<8} {p.codec:<16} {p.container:<4} {p.resolution:<14} {p.audio}"
        print(f"  {columns}{installed}")
    return 6 if broken else 0  # a broken plugin: a configuration error


def cmd_validate(args: argparse.Namespace) -> int:
    from proxx.compile.check import check
    from proxx.compile.invalid import InvalidMemory
    from proxx.home import home_path
    from proxx.pluginmanager import plugin_manager
    from proxx.resources import bundled_profiles_dir, bundled_profiles_read

    pm = plugin_manager()
    memory = InvalidMemory.at(home_path())  # an intent this installation found INVALID stays so; read only
    engines = set(pm.engines())  # an intent whose engine is not installed is INVALID where these plugins run
    if args.paths:
        base = [bundled_profiles_dir()] if bundled_profiles_read(args.bundled) else []  # PATHs: one repository
        report = check([args.paths], [*base, *pm.canonical_profile_paths()], memory, engines)
    else:
        from proxx.app import repository_layers  # the installation's layers (and the runner with them)
        from proxx.errors import PreJobError

        try:
            layers = repository_layers(pm, bundled=args.bundled)
        except PreJobError as error:  # a missing repository, an unusable proxx.toml: reported like any problem
            report = _unreadable_installation(error)
        else:
            report = check([[layer] for layer in layers], [], memory, engines)  # each a layer, as loaded
    report = report.with_problems(pm.plugin_profile_problems())
    try:
        {"text": _print_text, "json": _print_json, "github": _print_github}[args.format](report, args)
        sys.stdout.flush()
    except BrokenPipeError:  # `proxx validate | head`: the reader had enough; the verdict stands (pipefail)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit does not fail again
    return 0 if report.ok else 3


def _unreadable_installation(error: PreJobError) -> CheckReport:
    """The report of an installation whose repositories cannot be listed, naming the file or folder."""
    from proxx.compile.check import CheckReport
    from proxx.compile.problems import Location, Problem

    where = str(error.context.get("configuration") or error.context.get("repository") or "")
    return CheckReport(0, (Problem(Location(where), error.reason, error.message),), ())


def _print_text(report: CheckReport, args: argparse.Namespace) -> None:
    for p in report.problems:
        who = f" [{p.profile}]" if p.profile else ""
        print(_one_line(f"{p.location}: error{who}: {p.message} ({p.reason})"))
    if args.show_resolved:
        for name, canonical_id, location in report.resolved:
            print(_one_line(f"{location.path}: '{name}' -> {canonical_id}"))
    _print_summary(report)


def _one_line(text: str) -> str:
    """`text` as it is, or `safe` when a name or file name in it holds a line break or a terminal
    escape: a CI log reads one problem a line, and nothing in a profile moves its cursor."""
    return text if text.isprintable() else safe(text)


def _print_summary(report: CheckReport) -> None:
    verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"{report.files} file(s) checked, {len(report.resolved)} intent(s) compile: {verdict}")


def _problem_dict(p: Problem) -> dict[str, Any]:
    return {
        "file": p.location.path,
        "line": p.location.line,
        "profile": p.profile,
        "reason": p.reason,
        "message": p.message,
    }


def _print_json(report: CheckReport, args: argparse.Namespace) -> None:
    print(
        json.dumps(
            {
                "ok": report.ok,
                "files": report.files,
                "problems": [_problem_dict(p) for p in report.problems],
                "resolved": [{"profile": n, "canonical_profile": c, "file": loc.path} for n, c, loc in report.resolved],
            },
            indent=2,
        )
    )


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A property's value (`file=`): GitHub ends it at a comma and reads a colon as the message's start."""
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def _annotated(path: str) -> str:
    """GitHub attaches an annotation to the file its path names from the repository's root
    (GITHUB_WORKSPACE, where the checkout is), wherever the step runs (`working-directory:`); a file
    outside it, or any file off GitHub, is named from the current folder."""
    here = os.path.relpath(path) if os.path.isabs(path) else path
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return here
    from_root = os.path.relpath(os.path.abspath(path), os.path.abspath(workspace))
    return here if from_root.startswith(os.pardir) else from_root


def _print_github(report: CheckReport, args: argparse.Namespace) -> None:
    for p in report.problems:
        line = f",line={p.location.line}" if p.location.line else ""
        path = _annotated(p.location.path)
        print(f"::error file={_escape_property(path)}{line},title=proxx validate ({p.reason})::{_escape(p.message)}")
    _print_summary(report)
