"""The submitting machine's view of its farm jobs: Redis states copied into its own SQLite store.

Redis is reachable by more than the farm's workers, so nothing there is taken on trust. Under a farm
key, a job's fields are mirrored only from the worker's signature over them (`sealed`, checked over
its raw bytes before anything in it is parsed, for this job and this farm); an unsigned entry can at
most end a RUNNING job as "worker lost", and only when its lease is really gone. Whatever is mirrored
is bounded and checked first: a result of at most MAX_RESULT_BYTES, nested at most MAX_RESULT_DEPTH,
valid against the result schema, of this job and of its JobSpec's digest; a log of at most
MAX_LOG_BYTES (its end kept). One entry that fails any of this is logged and left as it was: it
never stops `jobs list`, `submit` or the mirroring of the others.

No farm job stays QUEUED or RUNNING for ever on the submitting machine, nor QUEUED in silence:
* a task a worker refuses (a bad, missing or expired signature, another farm's, malformed) ends its
  job FAILED in class B with the worker's reason when the refusal names it: through the worker's
  signed record when its signature proves the job, else, on a farm without a key (this machine
  trusts its broker), from the refusal recorded in `proxx:farm:refused`; under a key an unproven
  refusal (or an end signed for another farm) is only said, as the job's message (`jobs show`,
  `jobs list`), since anyone who reaches Redis could write it;
* a job no live worker takes (none for its engine, or none for `lost_after()`) says so the same way;
* a job whose worker went silent is declared lost by a reaper (`FarmState.reap`, run here too)
  within `lost_after()` (three leases), and its result written from the outputs found published and
  verified (and, on a farm without a key, the clips its worker reported as published);
* a job whose farm record vanished (its broker restarted without its data, or was emptied) is given
  the same time for its worker to write the record again (a running worker does, at its next lease
  renewal; a finished one sends its closing record again from its outbox); after that it is resolved
  from what is on disk: COMPLETED when every proxy is found published and verified, else FAILED,
  "the farm lost this job's record".
An unreachable broker leaves the jobs as they were (their state is unknown, not failed): `mirror`
returns what could not be refreshed, for `proxx jobs list` and `show` to say."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
from collections import defaultdict
from pathlib import Path

import attrs
import redis

from proxx.converter import converter
from proxx.errors import ConfigurationError, FailureClass
from proxx.execute.joblog import append
from proxx.execute.recover import published, recovered_result, remember_published, write_recovered
from proxx.home import write_text_atomically
from proxx.jobspec.model import utc_now
from proxx.jobspec.signing import FARM_STATE, SignatureRefused, key_from_env, open_sealed
from proxx.jobspec.untrusted import nesting_exceeds
from proxx.result import ClipResult, Failure, JobResult, write_json_atomically
from proxx.schemas import JOB_RESULT, violations
from proxx.store import COMPLETED, FAILED, QUEUED, RUNNING, Store
from proxx_farm.signing import KEY_VARIABLE, farm_name
from proxx_farm.state import PREFIX, PUBLISHED, SEALED, SEALED_RUNNING, FarmState, connectable, lost_after, redacted

log = logging.getLogger("proxx_farm")
MAX_RESULT_BYTES = 64 * 1024 * 1024  # a 10,000-clip job's result is ~30 MB
MAX_RESULT_DEPTH = 32  # a result nests 6 deep
MAX_LOG_BYTES = 4 * 1024 * 1024
RECORD_LOST = "farm record lost"
RECORD_MISSING = (
    "The render farm has no record of this job now (its broker restarted without its data, or was emptied): unless "
    "a worker reports on it within {seconds} s, it ends FAILED, and a retry makes what is missing."
)
# A farm record says the job ended, signed with another key or for another farm name than this
# machine's: not mirrored (anyone can write Redis), but never left unsaid either.
UNVERIFIED_END = (
    "Still QUEUED here: the render farm records an end of this job that does not verify with this machine's "
    "PROXX_FARM_KEY and PROXX_FARM_NAME, so it is not taken; the job may never end here. Check that the workers "
    "use the same key and farm name, then cancel it and retry."
)
# Jobs whose farm records one refresh asks for in one exchange with the broker: a backlog of
# thousands costs a few round trips, and no reply holds more than this many records.
RECORDS_A_ROUND_TRIP = 500


def mirror(store: Store, home: Path, dispatched: dict[str, str]) -> list[str]:
    """Bring every unfinished dispatched job up to its farm state. Returns, for each broker that
    could not be asked, why (its jobs keep their last known state)."""
    by_broker: dict[str, list[str]] = defaultdict(list)
    for job_id, broker in dispatched.items():  # the farm's dispatcher hands over only its own jobs
        by_broker[broker].append(job_id)
    problems = []
    for broker, job_ids in by_broker.items():
        url = connectable(broker)
        if url is None:
            problems.append(f"the render farm's broker {broker} needs its password: set PROXX_FARM_BROKER to its URL")
            continue
        try:
            state = FarmState.connect(url, timeout=2.0)
        except ConfigurationError as error:
            problems.append(error.message)
            continue
        key = key_from_env(KEY_VARIABLE)
        waiting = Waiting(state)
        try:
            for start in range(0, len(job_ids), RECORDS_A_ROUND_TRIP):
                batch = job_ids[start : start + RECORDS_A_ROUND_TRIP]
                for job_id, raw in zip(batch, state.reaped_records(batch), strict=True):
                    try:
                        if "state" not in raw:
                            _missing(store, home, job_id)
                            continue
                        store.remote_unseen(job_id, missing=False)
                        farm = trusted_fields(job_id, raw, key, state)
                        if farm is not None and _apply(store, home, job_id, farm, raw if key is None else {}):
                            state.acknowledge(job_id)
                        elif raw.get("state") == QUEUED:
                            _waiting(store, home, job_id, raw, key, waiting)
                        elif farm is None and raw.get("state") in (COMPLETED, FAILED):
                            store.note_waiting(job_id, UNVERIFIED_END)
                    except redis.RedisError:
                        raise
                    except Exception as error:  # one bad entry never stops the others, nor the command
                        log.warning("farm job %s not mirrored: %s: %s", job_id, type(error).__name__, str(error)[:300])
        except redis.RedisError as error:
            problems.append(f"The render farm's broker {redacted(url)} stopped answering: {error}")
    return problems


@attrs.define
class Waiting:
    """What one refresh asks the farm, once, about jobs still QUEUED there: the tasks workers refused
    (by the job they name, the newest refusal of each) and the engines live workers take."""

    state: FarmState
    _refusals: dict[str, dict[str, str | None]] | None = None
    _engines: set[str] | None = None

    def refusal(self, job_id: str) -> dict[str, str | None] | None:
        if self._refusals is None:
            self._refusals = {}
            for record in self.state.refused_tasks():  # newest first
                named = record.get("job_id")
                if named and named not in self._refusals:
                    self._refusals[named] = record
        return self._refusals.get(job_id)

    def engines(self) -> set[str]:
        if self._engines is None:
            self._engines = self.state.engines()
        return self._engines


def _waiting(store: Store, home: Path, job_id: str, raw: dict[str, str], key: bytes | None, waiting: Waiting) -> None:
    """A job still QUEUED on the farm that no worker holds: ended FAILED (class B, the worker's
    reason) when a worker refused a task naming it and this machine trusts its broker (no key); else
    said (its `message`, for `jobs list` and `jobs show`) when it may never run: refused by a worker
    unprovably, no live worker for its engine, or not taken for `lost_after` seconds. A job that
    waits for a busy farm says nothing."""
    if raw.get("worker_id"):  # reserved: a worker is checking it (and reports on it, or is reaped)
        store.note_waiting(job_id, None)
        return
    refusal = waiting.refusal(job_id)
    if refusal is not None:
        message = str(refusal.get("message") or "A render farm worker refused its task.")
        # Without a key this machine trusts its broker, as it does for every record there; under a key
        # the refused list is anyone's to write (a refusal the worker's signature proves also ended the
        # job's signed record, mirrored above), so a refusal there is only said.
        if key is None:
            fields = {"state": FAILED, "failure_class": FailureClass.VALIDATION.value,
                      "reason": str(refusal.get("reason") or "farm_task_refused"), "message": message,
                      "worker_id": str(refusal.get("worker_id") or "farm"),
                      "finished_at": str(refusal.get("at") or utc_now())}  # fmt: skip
            _apply(store, home, job_id, fields, {})
            return
        said = (
            f"Still QUEUED: a render farm worker refused a task naming this job ({message.rstrip('.')}); the "
            "refusal is not signed, so it is not taken as this job's end, but the job may never run. Check that "
            "this machine and the workers share PROXX_FARM_KEY and PROXX_FARM_NAME, then cancel it and retry."
        )
        store.note_waiting(job_id, said)
        return
    engine = raw.get("engine") or store.spec_unchecked(job_id).engine
    waited = _seconds_since(store.job(job_id).created_at)
    note: str | None
    if engine not in waiting.engines():
        note = (
            "Still QUEUED: no render farm worker that takes this kind of job is running now, so it may never run "
            "(start one with `proxx farm worker`, or cancel it)."
        )
    elif waited is not None and waited >= lost_after():
        note = (
            f"Still QUEUED: no render farm worker has taken it in {waited:.0f} s (the workers are busy, or refuse "
            "its task: Redis keeps their refusals in proxx:farm:refused); it runs when a worker takes it."
        )
    else:
        note = None
    store.note_waiting(job_id, note)


def _seconds_since(moment: str) -> float | None:
    try:
        then = datetime.datetime.fromisoformat(moment)
    except ValueError:
        return None
    return (datetime.datetime.now(datetime.UTC) - then).total_seconds() if then.tzinfo else None


def _missing(store: Store, home: Path, job_id: str) -> None:
    """A job the farm has no record of: resolved from what is on disk once its worker had the time
    to write the record again."""
    grace = lost_after()
    unseen = store.remote_unseen(job_id, missing=True)
    if unseen is None or unseen < grace:  # said meanwhile: what was said of the job before is no longer true
        store.note_waiting(job_id, RECORD_MISSING.format(seconds=f"{grace:g}"))
        return
    spec = store.spec_unchecked(job_id)
    clips = published(spec, {})
    message = (
        f"The render farm lost this job's record (its broker restarted without its data, or was emptied) and no "
        f"worker reported on it for {grace:g} s; {len(clips)} of {len(spec.clips)} proxies were found published "
        "and verified." + ("" if len(clips) == len(spec.clips) else " Retry it to make the rest.")
    )
    failure = Failure(FailureClass.EXECUTION.value, RECORD_LOST, message)
    row = store.job(job_id)
    job_dir = home / "jobs" / job_id
    result = recovered_result(
        spec, store.stored_digest(job_id), failure, clips, row.started_at, row.worker_id, str(job_dir / "job.log")
    )
    path = write_recovered(job_dir, result)
    append(job_dir / "job.log", message)  # no worker's log came back: how it ended, as a local job's log says
    store.set_paths(job_id, result_path=str(path) if path else None, log_path=str(job_dir / "job.log"))
    done, failed = result.outcome()
    remember_published(store, result)
    if result.state == COMPLETED:  # it ran, though this machine never saw it start
        store.start_remote(job_id, row.worker_id or "farm", row.started_at or utc_now())
    store.finish(
        job_id, result.state, worker_id=row.worker_id,
        failure_class=None if result.failure is None else FailureClass.EXECUTION,
        reason=None if result.failure is None else RECORD_LOST, message=None if result.failure is None else message,
        published=done, failed_clips=failed,
    )  # fmt: skip


def trusted_fields(job_id: str, farm: dict[str, str], key: bytes | None, state: FarmState) -> dict[str, str] | None:
    """The fields of a farm job this machine may mirror (None: nothing to mirror, or nothing trusted)."""
    if key is None:  # a loopback farm without a key: the broker is this machine's own
        return farm
    for field in (SEALED, SEALED_RUNNING):
        sealed = farm.get(field)
        if not sealed:
            continue
        try:
            _, payload = open_sealed(sealed.encode("utf-8", "surrogateescape"), key, FARM_STATE, farm_name(), job_id)
        except SignatureRefused as refused:
            log.warning("farm job %s: its %s field is refused (%s)", job_id, field, refused.why)
            continue
        fields = parse_bounded_result(payload, job_id)
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise ValueError("its signed fields are not a mapping of text")
        if field == SEALED_RUNNING:
            if _lease_gone(farm, state, job_id):  # started by a worker (signed), its lease gone: lost
                return {**fields, **{k: farm[k] for k in ("state", "reason", "message", "finished_at") if k in farm}}
            fields = {**fields, **_progress(farm)}  # progress is only shown, never decides anything
        return fields
    return None


def _lease_gone(farm: dict[str, str], state: FarmState, job_id: str) -> bool:
    """The job was declared lost (by a reaper, perhaps this machine's own) and its lease is really gone."""
    lost = farm.get("state") == FAILED and farm.get("reason") == "worker lost"
    return lost and not state.client.exists(f"{PREFIX}alive:{job_id}")


def _progress(farm: dict[str, str]) -> dict[str, str]:
    shown = {}
    for name, low, high in (("progress", 0.0, 1.0), ("eta_seconds", 0.0, 1e7), ("clip_index", 0, 1e6)):
        try:
            value = float(farm.get(name) or "")
        except ValueError:
            continue
        if low <= value <= high:
            shown[name] = str(int(value)) if name == "clip_index" else str(value)
    return shown


def parse_bounded_result(data: bytes | str, job_id: str) -> object:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if len(text) > MAX_RESULT_BYTES:
        raise ValueError(f"it is more than {MAX_RESULT_BYTES} bytes")
    if nesting_exceeds(text, MAX_RESULT_DEPTH):
        raise ValueError(f"it nests more than {MAX_RESULT_DEPTH} levels deep")
    return json.loads(text)


def _checked_result(store: Store, job_id: str, text: str) -> dict[str, object]:
    result = parse_bounded_result(text, job_id)
    if not isinstance(result, dict) or violations(result, JOB_RESULT):
        raise ValueError("its result is not a valid job result")
    if result.get("job_id") != job_id or result.get("jobspec_digest") != store.stored_digest(job_id):
        raise ValueError("its result is another job's")
    return result


def _apply(store: Store, home: Path, job_id: str, farm: dict[str, str], hints: dict[str, str]) -> bool:
    """Mirror one farm record; True when the job's outcome is now recorded here. `hints`: the raw
    record of a farm without a key, whose `published:<clip>` fields say which clips a lost job had
    published (under a key, only outputs verified here count)."""
    farm_state = farm.get("state", QUEUED)
    if farm_state not in (RUNNING, COMPLETED, FAILED):
        return False
    # Everything checked before the store changes at all: a bad entry leaves the job as it was.
    result = _checked_result(store, job_id, farm["result"]) if farm.get("result") else None
    progress = _progress(farm)
    worker = farm.get("worker_id") or "farm"
    if farm.get("started_at"):  # it ran; a job its worker's checks refused goes QUEUED -> FAILED here too
        store.start_remote(job_id, worker, farm["started_at"])
    if farm_state == RUNNING:
        eta, clip = progress.get("eta_seconds"), progress.get("clip_index")
        store.progress(
            job_id, float(progress.get("progress") or 0), float(eta) if eta else None, int(clip) if clip else None
        )
        return False
    job_dir = home / "jobs" / job_id
    result_path = log_path = None
    cls = farm.get("failure_class")
    counts: tuple[int | None, int | None] = (None, None)
    if result is not None:
        result_path = job_dir / "result.json"
        write_json_atomically(result_path, result)
        clips = result.get("clips", [])
        states = [c.get("state") for c in clips if isinstance(c, dict)] if isinstance(clips, list) else []
        if states:
            counts = (states.count("completed"), states.count("failed"))
        with contextlib.suppress(Exception):  # a re-run's hint only: never a reason not to mirror
            remember_published(store, converter.structure(result, JobResult))  # as parsed: not read back
    else:  # the worker never finished it (lost, cancelled before it started): what it had published
        spec = store.spec_unchecked(job_id)
        failure = Failure(cls or FailureClass.EXECUTION.value, farm.get("reason") or "", farm.get("message") or "")
        recorded = {}
        for key, value in hints.items():
            if key.startswith(PUBLISHED):
                with contextlib.suppress(Exception):  # a hint: a clip it does not give is verified here
                    recorded[int(key.removeprefix(PUBLISHED))] = converter.structure(json.loads(value), ClipResult)
        clips = published(spec, recorded) if farm.get("started_at") else {}
        recovered = recovered_result(spec, store.stored_digest(job_id), failure, clips, farm.get("started_at"),
                                     worker, str(job_dir / "job.log"))  # fmt: skip
        if farm_state == FAILED:
            recovered = attrs.evolve(recovered, state=FAILED, failure=failure)
        result_path = write_recovered(job_dir, recovered)
        counts = recovered.outcome()
        remember_published(store, recovered)
    if farm.get("log") is not None:
        log_path = job_dir / "job.log"
        text = farm["log"][-MAX_LOG_BYTES:].encode("utf-8", errors="replace").decode("utf-8")
        # Replaced whole, never through a link nor into a job folder another user made (PROXX_HOME shared).
        write_text_atomically(log_path, [text], sync=False)
    elif result is None:  # it never ran on a worker (cancelled, refused unsigned): how it ended, as locally
        log_path = job_dir / "job.log"
        append(log_path, failure.message)
    store.set_paths(
        job_id, result_path=str(result_path) if result_path else None, log_path=str(log_path) if log_path else None
    )
    store.finish(
        job_id,
        farm_state,
        worker_id=worker,
        failure_class=FailureClass(cls) if cls else None,
        reason=farm.get("reason"),
        message=farm.get("message"),
        at=farm.get("finished_at") or None,  # when the farm finished it, not when it was mirrored here
        published=counts[0],
        failed_clips=counts[1],
    )
    return True
