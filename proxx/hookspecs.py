"""Every proxx hook, in the order of the flow. Each docstring is that hook's documentation.

Implement a hook with the public marker, and say which plugin API the module was built for::

    from collections.abc import Iterator

    from proxx.plugin import Engine, hookimpl

    PROXX_PLUGIN_API = "1.2"

    @hookimpl
    def proxx_engines() -> Iterator[Engine]:
        yield MyEngine()

and register the module on the `proxx` entry-point group in your plugin's pyproject::

    [project.entry-points.proxx]
    my_engine = "my_package.plugin"

The built-in plugins (ffmpeg, resolve, fabric, farm) are separate distributions loaded exactly this way.
Each hook's example below is annotated as `mypy --strict` checks it: the names it uses come from
`proxx.plugin` (and the standard library: `Path`, `Iterator`, `Mapping`, `Any`, `argparse`, `json`).

The contract: `proxx.plugin.API_VERSION` ("major.minor"). A plugin built for X.Y loads in every proxx
providing X.Z with Z >= Y; a plugin built for a newer minor version, or another major one, is a
start-up error naming it and both versions; a plugin declaring nothing loads with a warning. Within a
major version hooks are only added; a hook that changes is kept, marked deprecated with pluggy's
`warn_on_impl` (implementing it warns, with the replacement, when the plugin registers), and is removed
at the next major version. Each change is noted under the hook as "Changed in API X.Y".
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from proxx.dispatch import Dispatcher
    from proxx.errors import JobValidationError
    from proxx.execute.engine import Engine
    from proxx.export.exporter import Exporter
    from proxx.hookrecords import Command, WebLookup
    from proxx.jobspec.model import ClipSpec, JobSpec
    from proxx.media.probe import MediaInfo
    from proxx.result import Reused
    from proxx.verify.checks import Check
    from proxx.vocabulary import AudioPolicy, Codec, Container

hookspec = pluggy.HookspecMarker("proxx")
hookimpl = pluggy.HookimplMarker("proxx")


@hookspec
def proxx_canonical_profiles() -> Iterable[Path]:
    """Compile: canonical profile files or folders this plugin ships.

    They join the canonical registry after the bundled repository and before a studio's own
    repositories. A plugin that brings an engine usually brings the canonical profiles that name it.
    A canonical id never changes meaning: a second, different definition of an id is a repository
    problem reported by `proxx validate`, and neither definition is used.

    Example::

        PROFILES = Path(__file__).parent / "profiles"  # shipped in the wheel with the code

        @hookimpl
        def proxx_canonical_profiles() -> list[Path]:
            return [PROFILES]
    """


@hookspec
def proxx_vocabulary() -> Iterable[Codec | Container | AudioPolicy]:
    """Compile: codecs, containers and audio policies this plugin's engines write, beyond the bundled
    vocabulary, as `proxx.plugin.Codec`, `Container` and `AudioPolicy` records.

    Each names what ffprobe reports for it (a codec's `codec_name` and `profile`, a container's
    `format_name`, an audio policy's `codec_name`s), which verification checks outputs against. A
    canonical profile naming a declared term then validates, compiles and verifies like a bundled
    one. A bundled name cannot be redefined, and two plugins declaring one name differently is a
    start-up error. Intents never come from plugins: a user profile among a plugin's canonical
    profiles is a start-up error naming the plugin.

    Added in API 1.0.

    Example::

        @hookimpl
        def proxx_vocabulary() -> Iterator[Codec | Container | AudioPolicy]:
            yield Codec("vp9", family="vp9", probe_codec="vp9", probe_profile="Profile 0")
            yield Container("webm", extension=".webm", probe_format="matroska,webm")
            yield AudioPolicy("opus", probe_codecs=("opus",))
    """


@hookspec
def proxx_engines() -> Iterable[Engine]:
    """Execute: the engines this plugin provides, as `proxx.plugin.Engine` instances.

    An engine's `name` is what canonical profiles put in their `engine` field; it is the only thing
    that routes a job to an engine. Two plugins providing the same engine name is a start-up error
    naming both plugins. `Engine.availability()` must be cheap: it runs whenever a job is validated
    (when it is created and again when a worker takes it), after a clip fails, and in `proxx registry`.

    Example::

        class InhouseEngine(Engine):
            name = "inhouse"

            def availability(self) -> Availability:
                return Availability(True, version="1.0")

            def render(self, task: RenderTask) -> RenderReport:
                ...  # write task.partial_path, append to task.log_path, stop at task.timeout
                return RenderReport(engine_version="inhouse 1.0")

        @hookimpl
        def proxx_engines() -> Iterator[Engine]:
            yield InhouseEngine()
    """


@hookspec
def proxx_validate_job(spec: JobSpec, sources: Mapping[int, MediaInfo | None]) -> Iterable[JobValidationError]:
    """Validate: class B problems this plugin finds in a stored JobSpec before anything runs.

    `sources` maps each clip's index to its probe: None when the source could not be probed (it
    failed a core check: missing, unreadable, not decodable...) or is RAW media a RAW-capable engine
    reads itself. Yield one `proxx.plugin.JobValidationError` per problem, with a message in the spec's style
    naming the path ("Source file '/media/a.mov' ..."). Any problem fails the job (class B) and nothing
    is executed. Core checks (sources, outputs, space, engine availability) run regardless.

    Example::

        @hookimpl
        def proxx_validate_job(spec: JobSpec, sources: Mapping[int, MediaInfo | None]) -> Iterator[JobValidationError]:
            for clip in spec.clips:
                if not clip.source.startswith("/mnt/cards/"):
                    yield JobValidationError(
                        "not_on_card_volume", f"Source file '{clip.source}' is not on the card volume.",
                        {"source": clip.source},
                    )
    """


@hookspec
def proxx_verify_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, output: MediaInfo) -> Iterable[Check]:
    """Verify: extra checks on one rendered output, beside the core ones.

    Yield `proxx.plugin.Check(name, expected, actual, passed)` records. A failed check fails that
    clip in class C ("Output file generated but failed verification: ..."): its output never gets
    its final name, the job's other clips go on, and the job ends FAILED. Operators read a failed
    check as "the <name in words> is <actual>, the intent promises <expected>" ("quicktime_brand":
    "the quicktime brand is ..."): name a check for what it measures and give its values in words
    an operator can act on; the result JSON keeps them as given.

    Example::

        @hookimpl
        def proxx_verify_output(
            spec: JobSpec, clip: ClipSpec, source: MediaInfo | None, output: MediaInfo
        ) -> Iterator[Check]:
            if spec.canonical_profile.container == "mov":
                yield Check("quicktime_brand", "qt  ", output.brand, output.brand == "qt  ")
    """


@hookspec(firstresult=True)
def proxx_reuse_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None) -> Reused | None:
    """Execute: an earlier, still intact output this clip may copy instead of rendering, or None.

    Called only for jobs created with `reuse` requested, before each clip would render. Answer only
    with an output made from the same source by the same canonical profile (`spec.proxy_profile`)
    whose content you have just checked. The runner copies it (never a hard link) to the clip's
    partial name and then verifies and publishes it exactly like a rendered output; the clip's result
    names the job it came from. The plugins are asked in plugin-name order and the first to answer
    wins; an exception means "render".

    Example::

        @hookimpl
        def proxx_reuse_output(spec: JobSpec, clip: ClipSpec, source: MediaInfo | None) -> Reused | None:
            earlier = my_index.find(spec.proxy_profile, source)  # your own record of verified outputs
            if earlier is not None and hash_of(earlier.path) == earlier.hash:
                return Reused(earlier.job_id, earlier.path)
            return None
    """


@hookspec
def proxx_exporters() -> Iterable[Exporter]:
    """Export: the exporters this plugin provides, as `proxx.plugin.Exporter(name, export)` records.

    Every installed exporter's `export(spec, result)` is called once for every finished job,
    COMPLETED or FAILED (FAILED includes a job refused before anything ran), before its result JSON
    is written (the result JSON is written once, with every exporter's outcome in `exports`), one
    exporter after the other in the order of their names; each receives the result with the
    outcomes of the exporters before it in `result.exports`. A completed clip carries `facts`
    (`ClipFacts`: timecodes, frame rate, frame count, duration, display size); check names are
    `CHECK_NAMES`. An exporter's exception is recorded in the result and the job log and never
    changes the job's state. Two exporters with one name is a start-up error naming both plugins.

    An exporter that writes beside the proxies returns early when the job has no verified proxy: a
    job refused before anything ran may have an output folder that was refused (a camera card) or
    is missing. Several jobs may finish at once (`proxx worker --concurrency N`, `proxx serve
    --workers N`, a farm worker's concurrency), so `export` may be called from several threads or
    processes at the same time, for jobs with the same output folder: write each job's own file,
    created new (mode "x": it never replaces a file nor follows a link planted at its name), or hold
    a lock while changing a shared one.

    .. versionchanged:: 1.1
       Exporters run in name order and see earlier exporters' outcomes; clips carry `facts`.

    Example::

        def export(spec: JobSpec, result: JobResult) -> dict[str, Any]:
            if not any(clip.state == ClipState.COMPLETED for clip in result.clips):
                return {"clips": 0}  # perhaps refused before anything ran: leave the folder alone
            folder = Path(spec.output_directory, ".shotgrid")  # declared below: not the engine's doing
            folder.mkdir(exist_ok=True)
            with open(folder / f"{result.job_id}.json", "x", encoding="utf-8") as file:  # one file a job
                json.dump({"state": result.state}, file)
            return {"clips": len(result.clips)}  # recorded in the result's exports

        @hookimpl
        def proxx_exporters() -> Iterator[Exporter]:
            yield Exporter("shotgrid", export, beside_outputs=(".shotgrid",))
    """


@hookspec
def proxx_dispatchers() -> Iterable[Dispatcher]:
    """Scale-out: where jobs go when they do not run on this machine, as `proxx.plugin.Dispatcher`
    records (the render farm plugin, `proxx-farm`, yields its Celery/Redis dispatcher this way).

    A dispatcher owns executors (the strings the job store records for a dispatched job, e.g. a broker
    URL without its password). `proxx submit --farm X`, watch folders and the JobSpec inbox send jobs
    to the dispatcher that `owns(X)`; without `--farm`, to the first whose `configured()` names an
    executor. Opening the job store mirrors dispatched jobs through `refresh`, and `proxx jobs cancel`
    reaches them through `cancel`. Two plugins with one dispatcher name is a start-up error naming both.

    Added in API 1.2, replacing the `proxx.dispatchers` entry-point group.

    Example::

        class Queue(Dispatcher):
            name = "studio-queue"

            def owns(self, executor):
                return executor.startswith("queue://")
            ...

        @hookimpl
        def proxx_dispatchers():
            yield Queue()
    """


@hookspec
def proxx_subcommands() -> Iterable[Command]:
    """CLI: the `proxx` subcommands this plugin adds (e.g. `proxx fabric ...`), as `proxx.plugin.Command`
    records.

    `Command(name, help, configure, run)`: proxx adds a subparser `name`, calls `configure(parser)` to
    add its arguments, and `run(args)` returns the exit code. Raise `proxx.plugin.ProxxError`
    (or a subclass) for failures: the CLI prints their message and maps their class to the
    documented exit codes (1 without a class); any other exception is reported as an internal error.
    So a command reading a past job through `proxx.Proxx`, whose methods raise `KeyError` for a job
    id that names no job, says so with a `ProxxError`, as below. A name already taken (a built-in
    command or another plugin's) is a start-up error. Keep heavy imports inside `run` so that
    `proxx --help` stays fast.

    Added in API 1.0, replacing `proxx_commands`.

    Example::

        def configure(parser: argparse.ArgumentParser) -> None:
            parser.add_argument("job")

        def run(args: argparse.Namespace) -> int:
            from proxx import Proxx  # inside `run`: `proxx --help` never imports it

            try:
                result = Proxx.open().result(args.job)
            except KeyError:  # no job of that id (or its last 8 characters)
                raise ProxxError("no_such_job", f"No job matches '{args.job}'.") from None
            print(f"sent {args.job} to review" if result else f"job {args.job} has not ended yet")
            return 0

        @hookimpl
        def proxx_subcommands() -> Iterator[Command]:
            yield Command("review", "send a finished job to review", configure, run)
    """


@hookspec
def proxx_web_lookups() -> Iterable[WebLookup]:
    """Web: integrator lookups `proxx serve` answers, as `proxx.plugin.WebLookup` records.

    `WebLookup(name, lookup, summary)` is served at `GET /api/integrator/lookup/{name}/{key}`:
    `lookup(key)` returns a JSON-able mapping, or None for an unknown key (404). An unknown lookup
    name is 404 too. Two plugins with one lookup name is a start-up error naming both.

    Added in API 1.0.

    Example::

        @hookimpl
        def proxx_web_lookups() -> Iterator[WebLookup]:
            yield WebLookup("shot", lambda key: shots.get(key), "a shot code -> its proxies")
    """


@hookspec(
    warn_on_impl=DeprecationWarning(
        "proxx_commands is deprecated since plugin API 1.0 and goes in 2.0: yield proxx.plugin.Command "
        "records from proxx_subcommands instead"
    )
)
def proxx_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """CLI (deprecated): add subcommands to `proxx` through argparse's private subparsers object.

    Deprecated in API 1.0, removed in 2.0: implement `proxx_subcommands` instead. Implementing it
    warns when the plugin registers. proxx still calls it after adding the `proxx_subcommands`
    commands: call `subparsers.add_parser(name, help=...)` and `parser.set_defaults(handler=fn)`,
    where `fn(args) -> int` returns the exit code.

    The old way (write the `proxx_subcommands` example instead). Example::

        @hookimpl
        def proxx_commands(subparsers):
            parser = subparsers.add_parser("review", help="send a finished job to review")
            parser.add_argument("job")
            parser.set_defaults(handler=lambda args: 0)
    """
