"""The Python API every shell (CLI, web, farm) drives: one object holding the loaded plugins, the
layered profile repository, the installed engines and exporters, and the job store."""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import attrs

from proxx.compile.cache import ProfileCache
from proxx.compile.compiler import Compiled
from proxx.compile.invalid import InvalidMemory
from proxx.compile.repository import Repository, load_repository, profile_paths_from_env, repository_stamp
from proxx.compile.select import IntentStatus, intent_statuses, select
from proxx.config import configured_repositories
from proxx.converter import converter
from proxx.dispatch import Dispatcher, dispatcher_for
from proxx.dispatch import configured as configured_dispatcher
from proxx.errors import JobStateError, JobValidationError, PreJobError, ProxxError
from proxx.execute.claim import check_created, claim_and_run
from proxx.execute.engine import Engine
from proxx.execute.lease import StoreLease
from proxx.execute.progress import Progress
from proxx.execute.publish import kept_bytes, leftovers, remove_partials
from proxx.execute.recover import published, published_by_journal
from proxx.execute.runner import Runner
from proxx.export.exporter import Exporter, export_all
from proxx.home import proxx_home, write_text_atomically
from proxx.jobspec.model import JobSpec, SourceFile, create_jobspec, makes_the_same, utc_now
from proxx.jobspec.rerun import ALREADY_PROXIED, being_made, leave_out_proxied, output_key
from proxx.jobspec.sources import Expansion, NothingMissing, expand_sources
from proxx.openstore import open_store, refresh
from proxx.pluginmanager import PluginManager, plugin_manager
from proxx.resources import bundled_profiles_dir, bundled_profiles_read
from proxx.result import CLIP_COMPLETED, ClipResult, JobResult, load_result
from proxx.roots import Roots
from proxx.settings import Settings
from proxx.store import COMPLETED, FAILED, QUEUED, RUNNING, DigestMismatch, JobRow, LeftOut, Store
from proxx.validate.checks import validate
from proxx.version import __version__


def repository_layers(pm: PluginManager, profiles: Sequence[Path] = (), bundled: bool | None = None) -> list[Path]:
    """The layers in the order they are read (a later layer's intent replaces an earlier one only
    when it declares `overrides: true`): the bundled repository, plugins' canonical profiles, the
    repositories of the installation's configuration file (`proxx.config`), PROXX_PROFILES, then
    `profiles` (a service's flag). The bundled repository is left out when `bundled` is False or
    PROXX_BUNDLED_PROFILES=0. A repository named that does not exist is a class A error: its intents
    would otherwise be missing without a word."""
    layers = [bundled_profiles_dir()] if bundled_profiles_read(bundled) else []
    configured = configured_repositories()
    for named_by, paths in (("PROXX_PROFILES", profile_paths_from_env()), ("--profiles", profiles)):
        missing = next((path for path in paths if not path.exists()), None)
        if missing is not None:
            raise PreJobError(
                "repository_missing",
                f"The profile repository '{missing}' ({named_by}) does not exist. Ask an administrator to "
                "correct it; no job can be created until then.",
                {"repository": str(missing)},
            )
    return [*layers, *pm.canonical_profile_paths(), *configured, *profile_paths_from_env(), *profiles]


def left_out(expansion: Expansion) -> list[LeftOut]:
    """What a job records of the files it leaves out (`jobs show`, the job page)."""
    skipped = [LeftOut(str(s.path), s.why) for s in expansion.skipped]
    proxied = [LeftOut(str(p.source), ALREADY_PROXIED, str(p.output), p.job_id) for p in expansion.proxied]
    return [*skipped, *proxied]


def default_worker_id() -> str:
    return f"{platform.node()}:{os.getpid()}:{threading.get_ident() % 100000}"


@attrs.frozen
class KeptPartials:
    """The partial outputs failed jobs keep for debugging, until `proxx jobs clean` or hiding the job."""

    jobs: int
    files: int
    bytes: int


def kept_partials(store: Store) -> KeptPartials:
    """What the partial outputs of FAILED jobs not hidden hold, counted on disk (links not followed)."""
    jobs = files = size = 0
    for row in store.iter_jobs(FAILED, hidden=False):
        found = leftovers(store.spec_unchecked(row.job_id))
        if found:
            jobs, files, size = jobs + 1, files + len(found), size + kept_bytes(found)
    return KeptPartials(jobs, files, size)


def clean_partials(store: Store, job_ids: Sequence[str]) -> list[Path]:
    """Remove the kept partial outputs of finished `job_ids` (the operator's explicit clean-up)."""
    removed: list[Path] = []
    for job_id in job_ids:
        if store.job(job_id).state in (COMPLETED, FAILED):
            removed += remove_partials(store.spec_unchecked(job_id), store.roots(job_id))
    return removed


@attrs.define
class Proxx:
    """proxx for integrators: `Proxx.open()`, then intents, jobs and their results
    (docs/integrating.md gives every method's signature and an example).

    Fields:
      plugin_manager: the plugins loaded; repository: the layered profile repository;
      engines: the installed engines by name; home: PROXX_HOME (store, logs, results);
      engine_plugins: the name of the plugin providing each installed engine.
    """

    plugin_manager: PluginManager
    repository: Repository
    engines: dict[str, Engine]
    home: Path = attrs.field(factory=proxx_home)
    # The repository's layers, read again whenever one of their files changes: every job is compiled
    # against the registry as it is when the job is created (a long-running watch folder or server
    # too). Empty: the repository given is used as it is.
    layers: tuple[Path, ...] = ()
    engine_plugins: dict[str, str] = attrs.field(factory=dict)
    _requirements: dict[str, dict[str, str]] = attrs.field(factory=dict, init=False)
    _stamp: tuple[tuple[str, int, int, int, int], ...] | None = attrs.field(default=None, init=False)

    @classmethod
    def open(
        cls,
        profiles: Sequence[Path] = (),
        bundled: bool | None = None,
        pm: PluginManager | None = None,
    ) -> Proxx:
        """The installed plugins (or `pm`'s: the test kit's `proxx_open` passes one of the test's
        own) and the layered profile repository: bundled (unless `bundled` is False, or None and
        PROXX_BUNDLED_PROFILES=0), plugins', `PROXX_HOME/proxx.toml`'s, `PROXX_PROFILES`, then
        `profiles`. A class A PreJobError when a configuration file cannot be used or a repository
        does not exist; a ConfigurationError when a plugin or PROXX_HOME cannot be. One per thread.

            proxx = Proxx.open(profiles=[Path("/studio/profiles")])
        """
        pm = pm or plugin_manager()
        owned = pm.collect("proxx_engines")  # once: the engines, and which plugin provides each
        installed = {name: engine for name, (_, engine) in owned.items()}
        home = proxx_home()
        layers = tuple(repository_layers(pm, profiles, bundled))
        stamp = repository_stamp(layers)
        repository = load_repository(layers, ProfileCache(home / "cache" / "profiles.json"))
        proxx = cls(pm, repository, installed, home, layers, {name: plugin for name, (plugin, _) in owned.items()})
        proxx._stamp = stamp
        return proxx

    def current_repository(self) -> Repository:
        """The repository as its files are now: read again (unchanged files from the profile cache)
        when any file of its layers was added, removed or changed since it was last read."""
        if self.layers:
            stamp = repository_stamp(self.layers)
            if stamp != self._stamp:
                self.repository = load_repository(self.layers, ProfileCache(self.home / "cache" / "profiles.json"))
                self._stamp = stamp
        return self.repository

    # --- intents ------------------------------------------------------------------------------

    def intents(self) -> list[IntentStatus]:
        """Every intent with its computed lifecycle; operators may choose the selectable ones."""
        return intent_statuses(self.current_repository(), self.engines, self.invalid_memory)

    def select(self, name: str) -> Compiled:
        """Compile the intent an operator chose, or raise a class A `PreJobError`."""
        return select(self.current_repository(), name, self.engines, self.invalid_memory)

    # --- jobs ---------------------------------------------------------------------------------

    @functools.cached_property
    def invalid_memory(self) -> InvalidMemory:
        """The intents found INVALID, which stay so until their version changes."""
        return InvalidMemory.at(self.home)

    @functools.cached_property
    def dispatchers(self) -> dict[str, Dispatcher]:
        """Where jobs go when they do not run here, by name (hook `proxx_dispatchers`: the render farm
        plugin's, when it is installed)."""
        return self.plugin_manager.dispatchers()

    @functools.cached_property
    def store(self) -> Store:
        """The job store; opening it marks FAILED every job whose worker was lost."""
        return open_store(self.home)

    def refresh(self, store: Store | None = None) -> list[str]:
        """Mirror into the store the states, progress and results of jobs dispatched to the render
        farm, so that they list like local ones. Long-lived shells (the web UI) call it before each
        listing; every other shell gets it when it opens the store. Returns why some could not be
        refreshed (their states are the last known)."""
        return refresh(store or self.store, self.home, self.dispatchers)

    @functools.cached_property
    def exporters(self) -> dict[str, Exporter]:
        return self.plugin_manager.exporters()

    @functools.cached_property
    def beside_outputs(self) -> frozenset[str]:
        """The files and folders the installed exporters write beside proxies (`Exporter.beside_outputs`):
        never media to proxy, so folder sources, watch folders and the web's picker leave them out."""
        return frozenset(name for exporter in self.exporters.values() for name in exporter.beside_outputs)

    def create_job(
        self,
        intent: str,
        sources: Sequence[str | Path | SourceFile] | Expansion,
        output_directory: str | Path,
        retry_of: str | None = None,
        reuse: bool = False,
        executor: str | None = None,
        engines: Collection[str] | None = None,
        roots: Roots | None = None,
    ) -> JobSpec:
        """Compile `intent` and store a new QUEUED JobSpec; class A errors create nothing. A job to run
        here (no `executor`) is validated at once: any class B problem of any clip ends it FAILED
        immediately, listing every problem, before any worker sees it.
        `reuse`: the job may copy an already verified output instead of rendering (hook
        `proxx_reuse_output`, e.g. Fabric's). `executor` (a farm broker URL) keeps it away from local
        workers (a `proxx.plugin.Dispatcher` runs it: the render farm plugin's), and `engines` then
        names the engines that can run it there (default: those installed here). `roots`: the folders
        the shell creating it lets it read and write (`proxx.Roots`), checked again when it runs. A
        folder among `sources` stands for the media files beneath it; `sources` may be the
        `Expansion` a shell made beforehand with `expand` (outside its own locks: a folder walk
        takes time). Run it with `run_job(spec.job_id)`, or leave it to
        `proxx worker`.

            spec = proxx.create_job("HD Editorial LT", ["/cards/A001"], "/proxies")
            print(spec.job_id, [clip.output for clip in spec.clips])
        """
        selected_at = utc_now()
        if not (sources.sources if isinstance(sources, Expansion) else sources):
            raise PreJobError("no_sources", "A job needs at least one source file.")
        engines = self.engines if engines is None else engines
        compiled = select(self.current_repository(), intent, engines, self.invalid_memory)
        expansion = self._expand(compiled, sources, Path(output_directory))
        if not expansion.sources:
            raise NothingMissing(expansion, Path(output_directory))
        spec = create_jobspec(
            compiled,
            expansion.sources,
            Path(output_directory),
            selected_at,
            self.requirements(compiled.canonical.engine),
            retry_of,
            reuse,
        )
        if retry_of is not None:
            self._same_as_original(spec, retry_of)
        self._add_job(spec, executor, roots, left_out(expansion))
        return spec

    def _same_as_original(self, spec: JobSpec, retry_of: str) -> None:
        """A retry is compiled afresh, as every new job is (the contract: at creation, against the
        registry as it is now), and must come out as its original did: JobSpecs are immutable, and
        a retry that made the missing clips another way than the job's others (the profile
        repository changed since) would be a silent substitution. Class A otherwise, nothing created:
        making them the new way is a new job, by the operator's own choice of the intent."""
        original = self.store.spec(retry_of)
        if makes_the_same(spec, original):
            return
        intent = spec.proxy_profile_origin.name
        raise PreJobError(
            "retry_profile_changed",
            f"Job {retry_of} cannot be retried: intent '{intent}' now makes its proxies differently than when "
            "the job was created (its profiles changed since), and a retry makes the missing clips exactly as "
            f"the job's others were made. Nothing was created. To make them as '{intent}' is now, choose it "
            "again for them in a new job (`proxx run` or `proxx submit`).",
            {"job_id": retry_of, "intent": intent},
        )

    def add_job(
        self,
        spec: JobSpec,
        executor: str | None = None,
        roots: Roots | None = None,
        left_out: Sequence[LeftOut] = (),
    ) -> None:
        """Store a new JobSpec made elsewhere (by `create_job` in another process, or read from a
        file), QUEUED. It is held to the rules of the JobSpec inbox first (docs/security.md), nothing
        stored otherwise: schema-valid, its profile snapshot the
        registry's, its outputs named by the rule, inside `roots`, its intent compiling now to
        exactly its canonical profile and origin (an INVALID or deprecated intent refused), its times
        not in the future and `retry_of` a FAILED job of this store of the same intent, and no job of
        its id stored yet: a class A `PreJobError` or class B `JobValidationError` otherwise. A job
        to run here (no `executor`) is then validated at once: a job whose checks fail ends FAILED
        (class B) from QUEUED now, before any worker takes it (a worker checks it again when it
        takes it). A job of `executor` is handed to the dispatcher that owns it (`Dispatcher.queue`:
        the render farm's sends it to its workers), as the JobSpec inbox feeding a farm does. A new job
        of an intent is `create_job`'s."""
        self._check_given(spec, executor, roots)
        if executor is not None:  # stored as another executor's, a job must also reach it: no local worker takes it
            dispatcher_for(self.dispatchers.values(), executor).queue(self, spec, executor, roots)
            return
        self._add_job(spec, None, roots, left_out)

    def _check_given(self, spec: JobSpec, executor: str | None, roots: Roots | None) -> None:
        """`add_job`'s rules: a JobSpec this process did not compile is checked as untrusted (an
        integrator's JobSpec may ask to reuse earlier outputs, as its own `create_job` may)."""
        from proxx.jobspec.origin import check_origin  # only here: no other path of a command needs it
        from proxx.jobspec.untrusted import check_untrusted

        where = f"given to add_job (job {str(spec.job_id)[:80]})"
        repository = self.current_repository()
        checked = check_untrusted(converter.unstructure(spec), where, repository.registry, roots, reuse=True)
        engines = set(self.engines)
        if executor is not None:  # an engine some worker of that farm takes, as `submit` allows
            with contextlib.suppress(ProxxError):
                engines.update(dispatcher_for(self.dispatchers.values(), executor).engines(executor))
        check_origin(checked, repository, engines, where, self.invalid_memory, self.store)
        try:
            self.store.job(spec.job_id)
        except KeyError:
            return
        raise JobValidationError(
            "already_queued",
            f"JobSpec {where} refused: job {spec.job_id} already exists; a JobSpec is queued once.",
            {"job_id": spec.job_id},
        )

    def _add_job(
        self,
        spec: JobSpec,
        executor: str | None = None,
        roots: Roots | None = None,
        left_out: Sequence[LeftOut] = (),
    ) -> None:
        """Store a new JobSpec this process compiled, QUEUED, and validate it at once: whole for a job
        to run here; for one of `executor`, what does not depend on the machine that runs it. A job to
        run here is stored reserved while it is checked: a worker of the same store (`proxx serve`'s,
        `proxx watch --run`'s) takes it only once it passed, so a job refused in class B is FAILED
        when this returns."""
        if executor is not None:
            self.store.add(spec, executor, roots, left_out)
            self.refuse_before_dispatch(spec)
            return
        runner = self.runner()
        self.store.add(spec, None, roots, left_out, reserved_by=(runner.worker_id, runner.settings.lease_seconds))
        check_created(runner, spec, lambda: self._problems(spec, roots))

    def _problems(self, spec: JobSpec, roots: Roots | None) -> list[JobValidationError]:
        """Every class B problem of a new job to run here: its checks (`proxx.validate`), and each of
        its outputs an earlier job still QUEUED or RUNNING makes (`being_made`)."""
        problems = validate(spec, self.engines, self.plugin_manager, roots, self.beside_outputs).problems
        keys = {output_key(clip.output) for clip in spec.clips}
        return being_made(spec, problems, self.store.outputs_in_progress(spec.job_id, keys))

    def refuse_before_dispatch(self, spec: JobSpec) -> bool:
        """For a stored QUEUED job another executor runs (a render farm's worker), before it is sent:
        the class B checks that do not depend on that machine (outputs colliding within the job,
        outputs already there where this machine sees them). A job they
        refuse ends FAILED (class B) now, with its result, as a local job would: True, and it must
        not be sent. A `proxx.plugin.Dispatcher` queueing a JobSpec made elsewhere calls it."""
        from proxx.validate.portable import dispatch_problems

        problems = dispatch_problems(spec)
        if problems:  # not sent yet, so no worker anywhere holds it: no reservation to take first
            self.runner().refuse(spec, problems)
        return self.store.job(spec.job_id).state == FAILED

    def expand(
        self,
        intent: str,
        sources: Sequence[str | Path | SourceFile],
        output_directory: str | Path,
        engines: Collection[str] | None = None,
    ) -> Expansion:
        """What a job of `intent` on `sources` would hold, without creating it: the source files
        (folders expanded to their video files), the files of those folders left out, and the sources
        whose verified proxy is already in `output_directory` (a re-run of a card). `create_job`
        decides the same; class A errors as `create_job`'s."""
        engines = self.engines if engines is None else engines
        compiled = select(self.current_repository(), intent, engines, self.invalid_memory)
        return self._expand(compiled, sources, Path(output_directory))

    def _expand(
        self, compiled: Compiled, sources: Sequence[str | Path | SourceFile] | Expansion, output: Path
    ) -> Expansion:
        expanded = (
            sources if isinstance(sources, Expansion) else expand_sources(sources, beside_outputs=self.beside_outputs)
        )
        remaining, proxied = leave_out_proxied(
            expanded.sources, compiled.canonical, compiled.user_profile.naming, output, self.store.published
        )
        return attrs.evolve(expanded, sources=tuple(remaining), proxied=tuple(proxied))

    def requirements(self, engine: str) -> dict[str, str]:
        """The versions a JobSpec requires of the worker that runs it: proxx's, and that of the
        package providing `engine` (every worker refuses a job on any difference, before it runs).
        Asked once per engine: reading the installed distributions was most of the cost of creating a job."""
        if engine not in self._requirements:
            requires = {"proxx": __version__}
            plugin = self.engine_plugins.get(engine)
            distribution = None if plugin is None else self.plugin_manager.distribution_of(plugin)
            if distribution is not None:
                requires[distribution[0]] = distribution[1]
            self._requirements[engine] = requires
        return dict(self._requirements[engine])

    def submit(
        self,
        intent: str,
        sources: Sequence[str | Path | SourceFile],
        output_directory: str | Path,
        farm: str | None = None,
        retry_of: str | None = None,
        reuse: bool = False,
        roots: Roots | None = None,
    ) -> JobSpec:
        """Create a job for workers: the render farm's when one is named (`farm`, a broker URL) or
        configured (PROXX_FARM_BROKER; any plugin's `proxx.plugin.Dispatcher`), local `proxx
        worker`s otherwise. A farm no installed plugin reaches is a ConfigurationError saying what to
        install. Returns the stored JobSpec; follow it with `job(spec.job_id)`.

            spec = proxx.submit("HD Editorial LT", ["/cards/A001"], "/proxies")
        """
        dispatchers = self.dispatchers.values()
        chosen = (dispatcher_for(dispatchers, farm), farm) if farm else configured_dispatcher(dispatchers)
        if chosen is None:
            return self.create_job(intent, sources, output_directory, retry_of, reuse, roots=roots)
        dispatcher, executor = chosen
        return dispatcher.submit(self, intent, sources, output_directory, executor, retry_of, reuse, roots)

    def runner(
        self,
        worker_id: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        store: Store | None = None,
    ) -> Runner:
        """A runner whose jobs keep their lease in `store` (a worker thread passes its own: one
        SQLite connection per thread)."""
        store = store or self.store
        settings = Settings.from_env()
        lease = StoreLease(store, worker_id or default_worker_id(), settings.lease_seconds)
        return Runner(store, self.engines, self.exporters, self.plugin_manager, self.home, lease, settings, on_progress)

    def run_job(
        self,
        job_id: str,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> JobResult | None:
        """Take the QUEUED job `job_id` (the `job_id` of the JobSpec `create_job` returned), validate it
        again (a problem found now ends it FAILED from QUEUED, never RUNNING) and run it, blocking this
        thread (its clips run on proxx's threads, and `on_progress` is called from them);
        its JobResult, the result it got when it was created if it was refused then (class B), or None
        if another worker took it first. `on_progress` receives a `Progress` record (the job's fraction
        done, the time left, the clip) at most four times a second and once at the end of each clip.
        Setting `stop` cancels it (the operator's Ctrl-C): it ends FAILED "cancelled by the operator".

            spec = proxx.create_job("HD Editorial LT", ["/cards/A001"], "/proxies")
            result = proxx.run_job(spec.job_id, on_progress=lambda p: print(f"{p.fraction:.0%}"))
        """
        if not isinstance(job_id, str):
            what = "pass spec.job_id" if isinstance(job_id, JobSpec) else "pass the job_id of a JobSpec"
            raise TypeError(f"run_job takes a job id (str), not {type(job_id).__name__}: {what}")
        runner = self.runner(on_progress=on_progress)
        runner.stop = stop
        taken = claim_and_run(runner, job_id)
        if taken is None:
            row = self.store.job(job_id)
            refused = row.state == FAILED and row.started_at is None and row.result_path
            return load_result(Path(row.result_path)) if refused and row.result_path else None
        return taken[1]

    def job(self, job_id: str) -> JobRow:
        """The job's state as the store has it now (`job_id` or its short form): its `state`
        (QUEUED, RUNNING, COMPLETED, FAILED), progress, failure and `result_path`. KeyError when
        there is no such job."""
        return self.store.find(job_id)

    def spec(self, job_id: str) -> JobSpec:
        """The job's JobSpec as stored (`job_id` or its short form), checked against its digest.
        KeyError when there is no such job; PreJobError ("jobspec_altered") when the stored JobSpec
        was altered after creation, so that nothing it names (sources, output folder) is trusted."""
        row = self.store.find(job_id)
        try:
            return self.store.spec(row.job_id)
        except DigestMismatch:
            raise PreJobError(
                "jobspec_altered",
                f"Job {row.job_id}'s stored JobSpec does not match its digest: it was altered after "
                "creation, so neither its sources nor its output folder can be trusted.",
                {"job_id": row.job_id},
            ) from None

    def result(self, job_id: str) -> JobResult | None:
        """The finished job's JobResult (its result JSON: every clip's outcome, checks and facts), or
        None while it has none (QUEUED or RUNNING)."""
        row = self.store.find(job_id)
        if row.result_path is None or not Path(row.result_path).exists():
            return None
        return load_result(Path(row.result_path))

    def cancel(self, job_id: str) -> JobRow:
        """The operator's cancel of a QUEUED or RUNNING job (`job_id` or its short form). A QUEUED job
        ends FAILED "cancelled by the operator" at once, with its result JSON; a RUNNING one is asked
        to stop (its worker polls for it, stops the encoder and ends it the same way). A job on the
        render farm is cancelled there the same way (`Dispatcher.cancel`). Returns the job's row as it
        is now; a PreJobError without a failure class, "not_cancellable", for a job that already ended.

            proxx.cancel(spec.job_id)  # from any thread or process; run_job then returns the FAILED result
        """
        row = self.store.find(job_id)
        executor = self.store.dispatched().get(row.job_id)
        if executor is not None:
            answer = dispatcher_for(self.dispatchers.values(), executor).cancel(row.job_id, executor)
            self.refresh()
            row = self.store.job(row.job_id)
            if answer is not None or row.state in (QUEUED, RUNNING):
                if answer == "requested" or row.state == RUNNING:
                    self.store.request_cancel(row.job_id)
                return row
        elif row.state == QUEUED:
            runner = self.runner()
            if self.store.take(runner.worker_id, row.job_id, lease=runner.settings.lease_seconds) is not None:
                runner.cancel_before_start(self.store.spec_unchecked(row.job_id))
                return self.store.job(row.job_id)
            row = self.store.job(row.job_id)  # a worker took it meanwhile: ask that worker
        if row.state == RUNNING and self.store.request_cancel(row.job_id):
            return self.store.job(row.job_id)
        raise JobStateError(
            "not_cancellable",
            f"Job {row.job_id} is {row.state}; only queued and running jobs can be cancelled.",
            {"job_id": row.job_id},
        )

    def _export(self, spec: JobSpec, result: JobResult, path: Path) -> None:
        """Hand a result recovered after its worker was lost to the exporters (as a finished job's is)."""
        outcomes = export_all(self.exporters.values(), spec, result, lambda text: None)
        with contextlib.suppress(OSError):
            write_text_atomically(path, attrs.evolve(result, exports=outcomes).json_text())

    def retry(self, job_id: str, here: bool = False) -> tuple[JobSpec, int]:
        """A NEW job from the same intent (fresh compile) for the clips of FAILED `job_id` that have
        no verified output; returns it and how many clips were already done. The original stays.
        A farm job's retry goes back to its farm, unless it is to run `here`. The intent must still
        make its proxies as the original job's (the same canonical profile and naming): a class A
        `PreJobError` "retry_profile_changed" otherwise, nothing created.

            new, already_done = proxx.retry(failed_job_id)
            proxx.run_job(new.job_id)
        """
        row = self.store.find(job_id)
        if row.state != FAILED:
            raise JobStateError(
                "not_retryable",
                f"Job {row.job_id} is {row.state}; only FAILED jobs can be retried.",
                {"job_id": row.job_id},
            )
        try:
            if row.reason == "JobSpec digest mismatch":
                raise DigestMismatch(row.job_id)
            spec = self.store.spec(row.job_id)  # retry compiles from the origin of a verified spec only
        except DigestMismatch:
            raise PreJobError(
                "retry_of_tampered_job",
                f"Job {row.job_id} cannot be retried: its stored JobSpec does not match its digest (it was "
                "altered after creation), so neither its intent nor its sources can be trusted. Nothing was "
                "created; create a new job with `proxx run` or `proxx submit`.",
                {"job_id": row.job_id},
            ) from None
        recorded: dict[int, ClipResult] = {}
        if row.result_path and Path(row.result_path).exists():
            result = load_result(Path(row.result_path))
            recorded = {c.index: c for c in result.clips if c.state == CLIP_COMPLETED}
            if recorded and not result.exports and self.exporters:  # recovered: Fabric learns its proxies
                self._export(spec, result, Path(row.result_path))
        # Only a clip whose file is still the one the job's journal records as published is not made
        # again: a file someone put under a final name verifies as well as a proxy. Any other file
        # there is never replaced (the retry leaves out a proxy a job of this store published there,
        # and refuses anything else as existing).
        job_dir = Path(row.log_path).parent if row.log_path else self.home / "jobs" / row.job_id
        executor = self.store.dispatched(unfinished=False).get(row.job_id)
        if executor is None:
            done = set(published_by_journal(spec, job_dir, recorded))
        else:  # a farm job's journal is its worker's: what the farm recorded, and what verifies (docs/security.md)
            done = set(published(spec, recorded))
        remaining = [SourceFile(Path(c.source), c.folder) for c in spec.clips if c.index not in done]
        if not remaining:
            raise JobStateError(
                "nothing_to_retry",
                f"Job {row.job_id} has nothing left to make: every clip's proxy is published and verified.",
                {"job_id": row.job_id},
            )
        roots = self.store.roots(row.job_id)  # the retry may use what the original could, no more
        farm = None if here else executor
        if farm is not None:
            new = self.submit(
                spec.proxy_profile_origin.name, remaining, spec.output_directory, farm, row.job_id, spec.reuse,
                roots,
            )  # fmt: skip
        else:
            new = self.create_job(
                spec.proxy_profile_origin.name, remaining, spec.output_directory, retry_of=row.job_id,
                reuse=spec.reuse, roots=roots,
            )  # fmt: skip
        return new, len(done)
