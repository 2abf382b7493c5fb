"""Every proxx hook, in the order of the flow. Each docstring is that hook's documentation.

Implement a hook with the public marker::

    from proxx import hookimpl

    @hookimpl
    def proxx_engines():
        yield MyEngine()

and register the module on the `proxx` entry-point group in your plugin's pyproject::

    [project.entry-points.proxx]
    my_engine = "my_package.plugin"

The built-in plugins (ffmpeg, resolve, fabric) are separate distributions loaded exactly this way.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from proxx.errors import JobValidationError
    from proxx.execute.engine import Engine
    from proxx.export.exporter import Exporter
    from proxx.jobspec.model import ClipSpec, JobSpec
    from proxx.media.probe import MediaInfo
    from proxx.result import Reused
    from proxx.verify.checks import Check

hookspec = pluggy.HookspecMarker("proxx")
hookimpl = pluggy.HookimplMarker("proxx")


@hookspec
def proxx_canonical_profiles() -> Iterable[Path]:
    """Compile: canonical profile files or folders this plugin ships.

    They join the canonical registry after the bundled repository and before a studio's own
    repositories. A plugin that brings an engine usually brings the canonical profiles that name it.
    A canonical id never changes meaning: a second, different definition of an id is a repository
    problem reported by `proxx validate`, and neither definition is used.
    """


@hookspec
def proxx_engines() -> Iterable[Engine]:
    """Execute: the engines this plugin provides, as `proxx.Engine` instances.

    An engine's `name` is what canonical profiles put in their `engine` field; it is the only thing
    that routes a job to an engine. Two plugins providing the same engine name is a start-up error
    naming both plugins. `Engine.availability()` must be cheap: it runs when profiles are listed and
    before every job.
    """


@hookspec
def proxx_validate_job(spec: JobSpec, sources: Mapping[int, MediaInfo | None]) -> Iterable[JobValidationError]:
    """Validate: class B problems this plugin finds in a stored JobSpec before anything runs.

    `sources` maps each clip's index to its probe (None when a RAW-capable engine reads the source
    itself). Yield one `proxx.JobValidationError` per problem, with a message in the spec's style
    naming the path ("Source file '/media/a.mov' ..."). Any problem fails the job (class B) and nothing
    is executed. Core checks (sources, outputs, space, engine availability) run regardless.
    """


@hookspec
def proxx_verify_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, output: MediaInfo) -> Iterable[Check]:
    """Verify: extra checks on one rendered output, beside the core ones.

    Yield `proxx.verify.checks.Check(name, expected, actual, passed)` records. Any failed check fails
    the job in class C ("Output file generated but failed verification: ..."), and the output never
    gets its final name.
    """


@hookspec(firstresult=True)
def proxx_reuse_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None) -> Reused | None:
    """Execute: an earlier, still intact output this clip may copy instead of rendering, or None.

    Called only for jobs created with `reuse` requested, before each clip would render. Answer only
    with an output made from the same source by the same canonical profile (`spec.proxy_profile`)
    whose content you have just checked. The runner hard-links or copies it to the clip's partial
    name and then verifies and publishes it exactly like a rendered output; the clip's result names
    the job it came from. The first plugin to answer wins; an exception means "render".
    """


@hookspec
def proxx_exporters() -> Iterable[Exporter]:
    """Export: the exporters this plugin provides, as `proxx.export.Exporter(name, export)` records.

    Every installed exporter's `export(spec, result)` is called once for every finished job,
    COMPLETED or FAILED, after its result JSON is written. An exporter's exception is recorded in the
    result and the job log and never changes the job's state. Two exporters with one name is a
    start-up error naming both plugins.
    """


@hookspec
def proxx_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """CLI: add subcommands to `proxx` (e.g. `proxx fabric ...`).

    Call `subparsers.add_parser(name, help=...)`, add arguments, and set `handler` with
    `parser.set_defaults(handler=fn)`, where `fn(args) -> int` returns the exit code. Raise
    `proxx.ProxxError` subclasses for failures: the CLI prints their message and maps their class to
    the documented exit codes. Keep imports inside the handler so `proxx --help` stays fast.
    """
