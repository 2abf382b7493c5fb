"""What a farm worker does with one delivered task: claim, check, map paths, run, report.

The worker process holds its plugins (engines, exporters) but no profile repository: the JobSpec
arrives whole and is executed as it is.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import redis

from proxx.converter import converter
from proxx.errors import FailureClass, JobValidationError
from proxx.execute.cancel import POLL_SECONDS as CANCEL_POLL_SECONDS
from proxx.execute.claim import claim_and_run
from proxx.execute.engine import Engine
from proxx.execute.lease import keep_alive
from proxx.execute.progress import Progress
from proxx.execute.runner import Runner
from proxx.export.exporter import Exporter
from proxx.home import STORE_FILE, proxx_home
from proxx.jobspec.model import JobSpec, canonical_json, digest_of, utc_now
from proxx.jobspec.signing import FARM_STATE, FARM_TASK, SignatureRefused, is_sealed, open_sealed, seal
from proxx.jobspec.stamps import JOB_ID
from proxx.jobspec.untrusted import check_roots, check_untrusted, parse_bounded
from proxx.pluginmanager import plugin_manager
from proxx.result import ClipResult, JobResult, write_json_atomically
from proxx.roots import Roots, roots_from_env
from proxx.store import COMPLETED, FAILED, QUEUED, RUNNING, Store
from proxx_farm.paths import PathRule, in_jobspec_paths, mapped_spec, mapping_record
from proxx_farm.replay import ReplayRecord
from proxx_farm.signing import farm_key, farm_name
from proxx_farm.state import (
    KEEP_SECONDS,
    LOST_FIELDS,
    SEALED,
    SEALED_RUNNING,
    FarmState,
    broker_url,
    lease_seconds,
    patience_seconds,
)
from proxx_farm.state import PREFIX as STATE_PREFIX

log = logging.getLogger("proxx_farm")
T = TypeVar("T")
# This worker's own record of a job the farm took back while it was being checked.
NOT_STARTED = "not started"
TAKEN_BACK = (
    "The render farm took the job back before it started (an operator's cancel, or this worker was thought "
    "lost meanwhile); nothing was run here."
)


@attrs.frozen
class WorkerContext:
    worker_id: str
    engines: dict[str, Engine]
    exporters: dict[str, Exporter]
    pm: Any
    rules: tuple[PathRule, ...]
    home: Path  # this worker's own execution store and job folders (local disk)
    state: FarmState
    key: bytes | None = None  # PROXX_FARM_KEY: tasks must carry its signature
    roots: Roots | None = None  # where this worker's jobs may read and write (after path mapping)


def context() -> WorkerContext:
    """Built once per worker process, from the environment `proxx farm worker` sets. Keyed by
    process id: a pool process forked after its parent built one must not inherit its identity."""
    return _context(os.getpid())


@functools.cache
def _context(pid: int) -> WorkerContext:
    pm = plugin_manager()
    name = os.environ.get("PROXX_FARM_WORKER_NAME") or socket.gethostname()
    rules = tuple(PathRule.parse(r) for r in os.environ.get("PROXX_FARM_MAP_PATHS", "").splitlines() if r)
    return WorkerContext(
        worker_id=f"{name}:{pid}",
        engines=pm.engines(),
        exporters=pm.exporters(),
        pm=pm,
        rules=rules,
        home=proxx_home() / "farm-worker",
        state=FarmState.connect(broker_url()),
        key=farm_key(broker_url()),
        roots=roots_from_env("PROXX_FARM_ROOTS"),
    )


def patiently(ask: Callable[[], T], what: str, give_up: T) -> T:
    """`ask` the broker, again every second while it cannot be reached, for up to
    PROXX_FARM_PATIENCE_SECONDS; then `give_up`. Farm bookkeeping waits out a broker restart: it never
    fails a render."""
    deadline = time.monotonic() + patience_seconds()
    warned = False
    while True:
        try:
            return ask()
        except redis.RedisError as error:
            if time.monotonic() > deadline:
                log.error("%s: the broker could not be reached for %g s (%s)", what, patience_seconds(), error)
                return give_up
            if not warned:
                log.warning("%s: the broker cannot be reached (%s); waiting for it", what, error)
                warned = True
            time.sleep(1.0)


class FarmLease:
    """The job's lease in Redis (`proxx.execute.lease`): the farm's word counts, since a reaper on
    another worker may declare a job lost. It holds the job from its reservation (QUEUED, being
    checked) to its end, mirrored in `local`, the worker's own store; `start` makes it RUNNING on the
    farm, then there. While it is kept, `reporter` sends the job's progress and polls for a cancel."""

    def __init__(self, ctx: WorkerContext, seconds: float) -> None:
        self.ctx, self.state, self.worker_id, self.seconds = ctx, ctx.state, ctx.worker_id, seconds
        self.local: Store | None = None
        self.reporter: FarmReporter | None = None
        self.reserved: set[str] = set()
        self.started_at: dict[str, str] = {}

    def reserve(self, job_id: str | None = None) -> str | None:
        """Reserve `job_id` on the farm (a farm worker takes only the job its task names), then in
        `local`; None if the farm refuses it (taken before, cancelled before it started)."""
        if job_id is None or not self.state.reserve(job_id, self.worker_id, self.seconds):
            return None
        self.reserved.add(job_id)
        if self.local is not None and self.local.reserve(self.worker_id, job_id, lease=self.seconds) is None:
            raise RuntimeError(f"job {job_id} is not free in this worker's own store")
        return job_id

    def _renew(self, job_id: str) -> bool:
        return self.state.heartbeat(job_id, self.worker_id, self.seconds, started=job_id in self.started_at)

    @contextlib.contextmanager
    def keep(self, job_id: str) -> Iterator[None]:
        reporting = self.reporter if self.reporter is not None else contextlib.nullcontext()
        with keep_alive(lambda: self._renew(job_id), self.seconds / 3, f"lease-{job_id}"), reporting:
            yield

    def start(self, job_id: str) -> bool:
        """The job's checks passed: RUNNING on the farm (signed, under a farm key), then here. False
        if the farm took it back meanwhile (an operator's cancel, a reaper's "worker lost")."""
        at = utc_now()
        started = patiently(lambda: self.state.start(job_id, self.worker_id, self.seconds, at), f"job {job_id}", False)
        if not started:
            return False
        self.started_at[job_id] = at
        if self.ctx.key is not None:  # the start, signed, for the submitting machine to mirror
            running = signed(self.ctx, job_id, {"state": RUNNING, "started_at": at})
            self.state.client.hset(f"{STATE_PREFIX}job:{job_id}", SEALED_RUNNING, running[SEALED])
        return self.local is None or self.local.start(self.worker_id, job_id, lease=self.seconds)

    def holds(self, job_id: str) -> bool:
        """Asked just before each publication. It renews the lease (writing the job's record again if
        the broker lost it), waiting for a broker that is away: an output verified meanwhile is
        published when the broker is back."""
        return patiently(lambda: self._renew(job_id), f"job {job_id}: publishing", give_up=False)


class FarmReporter:
    """A running job's progress and published clips, sent to the broker by a thread of its own, which
    also polls for the operator's cancel: the render never waits for the broker, and a broker away
    for a while only delays what is sent (the latest progress, every published clip)."""

    def __init__(self, state: FarmState, job_id: str, period: float = CANCEL_POLL_SECONDS) -> None:
        self.state, self.job_id, self.period = state, job_id, period
        self.stop = threading.Event()  # set when the operator cancels the job (`Runner.stop`)
        self._latest: Progress | None = None
        self._published: dict[int, str] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"farm-report-{job_id}", daemon=True)

    def progress(self, progress: Progress) -> None:
        with self._lock:
            self._latest = progress

    def published(self, clip: ClipResult) -> None:
        with self._lock:
            self._published[clip.index] = json.dumps(converter.unstructure(clip))

    def __enter__(self) -> FarmReporter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)
        self._send()

    def _loop(self) -> None:
        while not self._done.wait(self.period):
            self._send()

    def _send(self) -> None:
        with self._lock:
            latest, published = self._latest, dict(self._published)
            self._latest = None
        try:
            if published:
                self.state.published(self.job_id, published)
                with self._lock:
                    for index in published:
                        self._published.pop(index, None)
            if latest is not None:
                self.state.progress(self.job_id, latest.fraction, latest.eta_seconds, latest.clip_index)
            if not self.stop.is_set() and self.state.cancel_requested(self.job_id):
                log.warning("job %s: cancelled by the operator, stopping it", self.job_id)
                self.stop.set()
        except redis.RedisError:  # the broker is away: send the latest again next time
            with self._lock:
                if self._latest is None:
                    self._latest = latest


class Outbox:
    """How each job on this worker ended, kept on the worker's own disk (PROXX_HOME/farm-worker/outbox)
    until the submitting machine has recorded it: a closing record the broker could not take, or lost
    in a restart without its data, is sent again by the worker's reaper loop."""

    KEEP_SECONDS = 7 * 24 * 3600

    def __init__(self, home: Path) -> None:
        self.folder = home / "outbox"

    def put(self, job_id: str, worker_id: str, fields: dict[str, str]) -> None:
        try:
            write_json_atomically(self.folder / f"{job_id}.json", {"worker_id": worker_id, "fields": fields})
        except OSError:  # a full disk here: the record goes to the broker alone
            log.exception("job %s: its closing record could not be kept in the outbox", job_id)

    def forget(self, job_id: str) -> None:
        with contextlib.suppress(OSError):
            (self.folder / f"{job_id}.json").unlink()

    def resend(self, state: FarmState) -> list[str]:
        """Send again every closing record the broker does not hold; forget those the submitting
        machine recorded (or that are a week old). Returns the job ids sent again."""
        sent = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            job_id = path.stem
            try:
                kept = json.loads(path.read_text(encoding="utf-8"))
                old = time.time() - path.stat().st_mtime > self.KEEP_SECONDS
            except (OSError, ValueError):
                continue
            farm = state.job(job_id)
            if old or farm.get("mirrored"):
                self.forget(job_id)
                continue
            worker_id, fields = kept["worker_id"], kept["fields"]
            recorded = farm.get("state") in (COMPLETED, FAILED) and farm.get("worker_id") == worker_id
            if recorded and farm.get("reason") != "worker lost":
                continue  # there, waiting for the submitting machine
            if state.finish(job_id, worker_id, fields):
                log.warning("job %s: its closing record (%s) was sent again", job_id, fields["state"])
                sent.append(job_id)
            else:
                self.forget(job_id)  # another verdict stands (an operator's cancel before it started)
        return sent


def _amended(digest: str, mapping: dict[str, Any] | None) -> Callable[[JobResult], JobResult]:
    """A farm job's result names the JobSpec's own digest (not the mapped copy's) and records the
    path mapping it ran under."""

    def amend(result: JobResult) -> JobResult:
        engine = result.engine
        if mapping is not None:
            engine = attrs.evolve(engine, details={**engine.details, "path_mapping": mapping})
        return attrs.evolve(result, jobspec_digest=digest, engine=engine)

    return amend


def run_jobspec(message: str, digest: str, signature: str | None = None) -> str:
    """The task body. Never raises: a job's failure is its FAILED state, never a Celery retry.
    With a farm key, `message` is a signed task (`proxx.jobspec.signing`): its signature, job,
    audience and expiry are checked over its raw bytes before anything of it is parsed, and a task
    this worker accepted before is refused. Then it must be a bounded JSON object with a well-formed
    job id (the signed one). A refused task is refused before anything is claimed or written.
    (`signature`: the argument of earlier versions' tasks, which carried it apart; never trusted.)"""
    ctx = context()
    signed_for: str | None = None
    spec_json = message
    if ctx.key is not None:
        raw = message.encode("utf-8", "surrogateescape")
        try:
            envelope, payload = open_sealed(raw, ctx.key, FARM_TASK, farm_name())
            spec_json = payload.decode("utf-8")
        except (SignatureRefused, UnicodeDecodeError) as refused:
            why = refused.why if isinstance(refused, SignatureRefused) else "it is not UTF-8 text"
            authentic = _authentic_job_id(raw, ctx.key)  # expired, or for another farm: its job is known
            return _refuse(
                ctx, authentic, "farm_signature_invalid",
                f"Farm task refused by worker {ctx.worker_id}: {why} with this farm's key (PROXX_FARM_KEY). "
                "Nothing was executed.",
                named=_named_job_id(raw),
            )  # fmt: skip
        signed_for = envelope.job_id
        if not _replays(ctx).first_time(raw, envelope.job_id, envelope.expires):
            return _refuse(
                ctx, None, "farm_task_replayed",
                f"Farm task for job {envelope.job_id} refused by worker {ctx.worker_id}: this worker accepted "
                "it before (a task runs once). Nothing was executed.",
            )  # fmt: skip
    try:
        document = parse_bounded(spec_json, "farm task")
        job_id = document["job_id"] if isinstance(document, dict) else None
    except JobValidationError as error:
        named = _named_job_id(spec_json.encode("utf-8", "surrogateescape"))
        return _refuse(ctx, signed_for, error.reason, error.message, named=named)
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id) or (signed_for and job_id != signed_for):
        return _refuse(ctx, None, "invalid_jobspec", f"Farm task refused: job id {str(job_id)[:80]!r} is malformed.")
    lease = FarmLease(ctx, lease_seconds())
    try:
        outcome = _take_and_run(ctx, job_id, spec_json, digest, lease)
    except Exception as error:  # a proxx bug on this worker is still this job's failure, reported
        log.exception("job %s failed in the farm worker", job_id)
        if job_id not in lease.reserved:
            return "refused"
        outcome = {
            "state": FAILED,
            "failure_class": "C",
            "reason": "farm_worker_error",
            "message": f"Farm worker {ctx.worker_id} failed: {type(error).__name__}: {error}",
        }
    if isinstance(outcome, str):  # nothing of this worker's to record
        return outcome
    fields = outcome
    if job_id in lease.started_at:  # the mirror shows RUNNING only for a job that ran
        fields["started_at"] = lease.started_at[job_id]
    fields = signed(ctx, job_id, fields)
    outbox = Outbox(ctx.home)
    outbox.put(job_id, ctx.worker_id, fields)
    recorded = patiently(lambda: ctx.state.finish(job_id, ctx.worker_id, fields), f"job {job_id}: recording", None)
    if recorded is None:
        log.error(
            "job %s ended %s; its record waits in %s until the broker is back", job_id, fields["state"], outbox.folder
        )
        return "unrecorded"
    if not recorded:
        outbox.forget(job_id)
        log.error(
            "job %s: another verdict stands on the farm (%s here); this worker's record is in %s",
            job_id,
            fields["state"],
            ctx.home,
        )
        return "lost"
    return fields["state"]


def signed(ctx: WorkerContext, job_id: str, fields: dict[str, str]) -> dict[str, str]:
    """`fields` with, under a farm key, their signature (`sealed`: the fields themselves, signed as
    this job's state for this farm): the submitting machine mirrors nothing else."""
    if ctx.key is None:
        return fields
    fields = {**fields, "worker_id": ctx.worker_id}
    if fields.get("state") in (COMPLETED, FAILED):
        fields.setdefault("finished_at", utc_now())
    payload = canonical_json(fields).encode("utf-8")
    return {**fields, SEALED: seal(FARM_STATE, job_id, farm_name(), payload, ctx.key, KEEP_SECONDS).decode("utf-8")}


def own_store(home: Path) -> Store:
    """This worker process's own store, open for as long as the process runs (one job at a time: a
    pool of several runs each in a process of its own). Opened and closed for every job, its
    opening checked the schema in a write transaction and its closing checkpointed the store's
    write-ahead log and removed its files (benchmarks/README.md, "Fixed costs a job")."""
    return _store_of(home / STORE_FILE, os.getpid())


@functools.cache
def _store_of(path: Path, pid: int) -> Store:
    return Store(path)


def _replays(ctx: WorkerContext) -> ReplayRecord:
    return _replay_record(str(ctx.home / "farm-replay.db"))


@functools.cache
def _replay_record(path: str) -> ReplayRecord:
    return ReplayRecord(Path(path))


def _refuse(ctx: WorkerContext, job_id: str | None, reason: str, message: str, named: str | None = None) -> str:
    """Record a refused task; a job the farm knows as QUEUED is failed with the reason, so its
    submitter learns why. `job_id`: the task's job, when its signature proves it; `named`: the job
    the task names without proof (an unsigned task to a worker with a key, a signed one to a worker
    without): recorded, never failed here (a forged task must not end another job); the submitting
    machine decides what it believes (`proxx_farm.mirror`)."""
    log.error("%s", message)
    ctx.state.refused(ctx.worker_id, job_id or named, reason, message, proven=job_id is not None)
    known = job_id is not None and ctx.state.job(job_id).get("state") == QUEUED
    if known and job_id is not None and ctx.state.reserve(job_id, ctx.worker_id, lease_seconds()):
        fields = {"state": FAILED, "failure_class": "B", "reason": reason, "message": message}
        ctx.state.finish(job_id, ctx.worker_id, signed(ctx, job_id, fields))
    return "refused"


def _header(raw: bytes) -> dict[str, Any] | None:
    """The header of a signed message, unverified: read only to say which job it names."""
    if not is_sealed(raw):
        return None
    header_line = raw.partition(b"\n")[2].partition(b"\n")[0]
    try:
        header = json.loads(header_line[:4096]) if len(header_line) <= 4096 else None
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def _authentic_job_id(raw: bytes, key: bytes) -> str | None:
    """The job of a signed task whose signature verifies under `key` though it was refused (expired,
    meant for another farm's name): the signature proves which job it is."""
    header = _header(raw)
    if header is None:
        return None
    try:
        envelope, _ = open_sealed(raw, key, FARM_TASK, str(header.get("audience")), now=0.0)
    except SignatureRefused:
        return None
    return envelope.job_id


def _named_job_id(raw: bytes) -> str | None:
    """The well-formed job id a refused task names (its signed header's, or its JobSpec's), unproven."""
    header = _header(raw)
    if header is not None:
        named = header.get("job_id")
    else:
        try:
            document = parse_bounded(raw, "farm task")
        except (JobValidationError, UnicodeDecodeError):
            return None
        named = document.get("job_id") if isinstance(document, dict) else None
    return named if isinstance(named, str) and JOB_ID.fullmatch(named) else None


def _take_and_run(
    ctx: WorkerContext, job_id: str, spec_json: str, digest: str, lease: FarmLease
) -> dict[str, str] | str:
    """Check the task, then take the job and run it from this worker's own store
    (`proxx.execute.claim`, the farm's lease in `lease`): its closing fields, or why there is nothing
    to record ("refused": taken before, or cancelled before it started; "not started": the farm took
    it back while it was checked)."""
    try:
        spec, executed = _checked(ctx, job_id, spec_json, digest)
    except JobValidationError as error:  # refused by its checks: FAILED class B, if it is this worker's
        if lease.reserve(job_id) is None:
            return _not_taken(ctx, job_id)
        return {"state": FAILED, "failure_class": "B", "reason": error.reason, "message": error.message}
    store = own_store(ctx.home)
    try:
        store.job(job_id)  # a redelivery to this worker's host: the farm refuses it below
    except KeyError:
        store.add(executed, roots=ctx.roots)
    reporter = FarmReporter(ctx.state, job_id)
    lease.local, lease.reporter = store, reporter
    mapping = mapping_record(spec, ctx.rules) if ctx.rules else None
    runner = Runner(
        store, ctx.engines, ctx.exporters, ctx.pm, ctx.home, lease, on_progress=reporter.progress,
        amend=_amended(digest, mapping), stop=reporter.stop, on_published=reporter.published,
    )  # fmt: skip
    taken = claim_and_run(runner, job_id)  # its checks, the versions it requires too (`proxx.validate`)
    if taken is None:
        return _not_taken(ctx, job_id)
    result = taken[1]
    if result is None:  # this worker's own record of it ends too: nothing ran
        store.finish(job_id, FAILED, ctx.worker_id, FailureClass.EXECUTION, NOT_STARTED, TAKEN_BACK)
        log.warning("job %s: taken back by the farm before it started; nothing was run", job_id)
        return "not started"
    told = in_jobspec_paths(result, spec, ctx.rules)  # what the machine that created the job names
    fields = {"state": result.state, "result": json.dumps(told.to_dict())}
    if result.failure:
        fields.update(
            failure_class=result.failure.failure_class, reason=result.failure.reason, message=result.failure.message
        )
    with contextlib.suppress(OSError):
        fields["log"] = Path(result.log_path).read_text(encoding="utf-8", errors="replace")
    assert result.state in (COMPLETED, FAILED)
    return fields


def _checked(ctx: WorkerContext, job_id: str, spec_json: str, digest: str) -> tuple[JobSpec, JobSpec]:
    """The task's JobSpec and the copy this worker executes (paths mapped), checked: its digest, the
    untrusted-JobSpec rules and this worker's roots. JobValidationError (class B) otherwise."""
    if digest_of(spec_json) != digest:
        raise JobValidationError(
            "JobSpec digest mismatch",
            f"JobSpec of job {job_id} does not match its digest: it was altered after creation. "
            "Nothing was executed; create a new job.",
            {"job_id": job_id},
        )
    spec = check_untrusted(json.loads(spec_json), f"of job {job_id}", None, None, reuse=ctx.key is not None)
    executed = mapped_spec(spec, ctx.rules)
    # Said as the farm's: the operator created the job elsewhere, with no roots of their own.
    roots_of = "the folders the render farm's workers may use (their --root or PROXX_FARM_ROOTS)"
    check_roots(executed, ctx.roots, f"of job {job_id} on worker {ctx.worker_id}", roots_of)
    return spec, executed


def _not_taken(ctx: WorkerContext, job_id: str) -> str:
    """A redelivery (the first worker died, or the broker gave the task back), or a job the operator
    cancelled before it started: never run. A lost first worker's job is failed at once if its lease
    has run out."""
    ctx.state.reap(job_id)
    log.warning("refused job %s: it was already reserved, or cancelled before it started", job_id)
    return "refused"


def reap_forever(served: Sequence[str]) -> None:
    """Every half lease, for as long as this worker runs: say which engines it takes jobs for
    (`served`: so a machine without an engine's plugin may still submit that engine's jobs to this
    farm), fail lost jobs, and send again the closing records the broker does not hold."""
    ctx = context()
    period = max(0.5, lease_seconds() / 2)
    outbox = Outbox(ctx.home)
    while True:
        try:
            ctx.state.advertise(ctx.worker_id, served, ttl=period * 3)
            for job_id in ctx.state.reap_all():
                log.warning("job %s FAILED: worker lost", job_id)
                if ctx.key is not None:  # the verdict, signed, for the submitting machine
                    lost = {k: v for k, v in ctx.state.job(job_id).items() if k in LOST_FIELDS}
                    ctx.state.client.hset(f"{STATE_PREFIX}job:{job_id}", SEALED, signed(ctx, job_id, lost)[SEALED])
            outbox.resend(ctx.state)
        except Exception:  # Redis briefly unreachable: the next pass tries again
            log.exception("farm reaper pass failed")
        time.sleep(period)
