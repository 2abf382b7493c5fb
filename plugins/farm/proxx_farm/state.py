"""Farm job states in Redis: one hash per job, changed only by atomic Lua scripts.

Keys (prefix `proxx:farm:`):
  job:<id>    hash: state, engine, worker_id, progress, eta_seconds, clip_index, started_at,
              finished_at, failure_class, reason, message, result (the result JSON), log (the job log),
              refused_deliveries (deliveries refused because the job had already been claimed)
  claim:<id>  the worker that reserved the job (SET NX: the first reservation wins, for ever)
  alive:<id>  the lease of a reserved or running job (a TTL key its worker refreshes)
  running     the ids of reserved and RUNNING jobs, which reapers scan

A worker reserves a job (its claim and lease taken, the state still QUEUED, `worker_id` set), checks
it, and only then starts it (RUNNING); a job its checks refuse goes QUEUED -> FAILED, never RUNNING.
  worker:<id> the engines a live worker takes jobs for (comma-separated; expires unless refreshed)
  refused     the last 1,000 tasks workers refused before claiming them (JSON records, newest first)

A job hash also holds: published:<clip index> (each clip's result JSON, as it is published),
cancel_requested (an operator's cancel of a running job), suspect_since (a reaper found its lease
expired; a grace period of a lease follows), restored_at (its worker wrote it again after the broker
lost its data) and mirrored (the submitting machine recorded the outcome; the worker's outbox may
forget it).
"""

from __future__ import annotations

import functools
import json
import os
import urllib.parse
from collections.abc import Iterable, Sequence

import redis

from proxx.errors import CANCELLED, ConfigurationError
from proxx.jobspec.model import utc_now
from proxx.settings import Settings
from proxx.store import COMPLETED, FAILED, QUEUED, RUNNING

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def broker_url() -> str:
    """PROXX_FARM_BROKER, e.g. redis://farm-redis:6379/0."""
    return os.environ.get("PROXX_FARM_BROKER") or DEFAULT_BROKER


PREFIX = "proxx:farm:"
RUNNING_SET = PREFIX + "running"
REFUSED_LIST = PREFIX + "refused"
PUBLISHED = "published:"  # a job hash's field per published clip: published:<clip index>
KEEP_SECONDS = 30 * 24 * 3600  # farm records outlive any mirror; the JobSpec's own store keeps the audit
# Under a farm key, a worker signs what it writes back (`proxx_farm.worker.signed`): the finished (or
# lost) job's fields in `sealed`, its start in `sealed_running`. The submitting machine mirrors only those.
SEALED, SEALED_RUNNING = "sealed", "sealed_running"
LOST_FIELDS = ("state", "failure_class", "reason", "message", "finished_at", "worker_id", "started_at")

# ARGV: worker id, now, lease in ms, claim TTL in s, job id. A worker reserves the job before it
# checks it: the claim is its own for ever (a redelivery is refused), the lease starts, and the
# state stays QUEUED until `_START`. A record the broker lost is written again as QUEUED.
_RESERVE = """
local state = redis.call('HGET', KEYS[2], 'state')
if (not state or state == 'QUEUED') and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[4]) then
  redis.call('HSET', KEYS[2], 'state', 'QUEUED', 'worker_id', ARGV[1], 'reserved_at', ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[5])
  return 1
end
redis.call('HINCRBY', KEYS[2], 'refused_deliveries', 1)
return 0
"""

# ARGV: worker id, now, lease in ms. QUEUED -> RUNNING once the reserving worker's checks passed;
# 0 if the job is no longer its reservation (an operator's cancel, or a reaper's "worker lost").
_START = """
if redis.call('HGET', KEYS[1], 'state') == 'QUEUED' and redis.call('HGET', KEYS[1], 'worker_id') == ARGV[1]
    and redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'RUNNING', 'started_at', ARGV[2])
  redis.call('HDEL', KEYS[1], 'suspect_since')
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
  return 1
end
return 0
"""

# ARGV: worker id, lease in ms, now, claim TTL in s, job id, the state the worker holds the job in
# (QUEUED while it checks it, RUNNING once started). Also what a worker asks before each
# publication: 1 while the job is its own. A record the broker lost (it restarted without its data)
# is written again by the worker that still holds the job, unless someone else holds its claim.
_HEARTBEAT = """
local state = redis.call('HGET', KEYS[1], 'state')
if (state == 'RUNNING' or state == 'QUEUED') and redis.call('HGET', KEYS[1], 'worker_id') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  redis.call('HDEL', KEYS[1], 'suspect_since')
  return 1
end
if state then return 0 end
local claim = redis.call('GET', KEYS[3])
if claim and claim ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[4])
redis.call('HSET', KEYS[1], 'state', ARGV[6], 'worker_id', ARGV[1], 'restored_at', ARGV[3])
if ARGV[6] == 'RUNNING' then redis.call('HSET', KEYS[1], 'started_at', ARGV[3]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[4], ARGV[5])
return 1
"""

# ARGV: worker id, job id, claim TTL in s, then field/value pairs to set. From the worker's
# reservation (QUEUED: refused by its checks, nothing run) or its RUNNING job. The worker's own outcome
# also replaces a reaper's "worker lost" (the worker was alive, only cut off) and a record the broker
# lost; never another worker's record or an operator's cancel before the job started.
_FINISH = """
local state = redis.call('HGET', KEYS[1], 'state')
local worker = redis.call('HGET', KEYS[1], 'worker_id')
local ours = (state == 'RUNNING' or state == 'QUEUED') and worker == ARGV[1]
local guessed = state == 'FAILED' and worker == ARGV[1] and redis.call('HGET', KEYS[1], 'reason') == 'worker lost'
local lost = not state and (not redis.call('GET', KEYS[4]) or redis.call('GET', KEYS[4]) == ARGV[1])
if not (ours or guessed or lost) then return 0 end
redis.call('HDEL', KEYS[1], 'failure_class', 'reason', 'message', 'suspect_since')
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'worker_id', ARGV[1])
redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return 1
"""

# ARGV: job id, now, grace in ms. A job whose lease key expired (RUNNING, or QUEUED and reserved by a
# worker that was checking it) is first suspected, and declared lost only if it stays silent for a
# grace period more: a worker that was only cut off from the broker renews its lease within a third
# of a lease of the broker coming back, and is never called lost. A reservation declared lost never
# ran: its claim stands, so no redelivery runs it either; the message says nothing was run.
_REAP = """
local state = redis.call('HGET', KEYS[1], 'state')
local worker = redis.call('HGET', KEYS[1], 'worker_id')
if not (state == 'RUNNING' or (state == 'QUEUED' and worker)) then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local suspect = tonumber(redis.call('HGET', KEYS[1], 'suspect_since') or '')
if not suspect then
  redis.call('HSET', KEYS[1], 'suspect_since', now)
  return 0
end
if now - suspect < tonumber(ARGV[3]) then return 0 end
local message = 'Worker ' .. worker .. ' was lost while running the job (it stopped renewing its lease); ' ..
  'the job was not re-run. Retry it to create a new job.'
if state == 'QUEUED' then
  message = 'Worker ' .. worker .. ' was lost while checking the job, before it started (it stopped renewing ' ..
    'its lease); nothing was run. Retry it to create a new job.'
end
redis.call('HSET', KEYS[1], 'state', 'FAILED', 'failure_class', 'C', 'reason', 'worker lost',
  'finished_at', ARGV[2], 'message', message)
redis.call('SREM', KEYS[3], ARGV[1])
return 1
"""

# `_REAP`, then the job's record: what a refresh asks of each unfinished job, in one command.
_REAPED_RECORD = f"""
local function reap()
{_REAP}
end
reap()
return redis.call('HGETALL', KEYS[1])
"""

# ARGV: now, reason, claim TTL in s. An operator's cancel: a queued job ends at once and its claim
# is taken, even from a worker that reserved it and is still checking it (its start then fails), so
# that no worker ever starts it (2); a running one is asked to stop, which its worker polls (1).
_CANCEL = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'QUEUED' then
  redis.call('SET', KEYS[2], 'operator', 'EX', ARGV[3])
  redis.call('HSET', KEYS[1], 'state', 'FAILED', 'failure_class', 'B', 'reason', ARGV[2],
    'message', 'Cancelled by the operator before it started.', 'finished_at', ARGV[1])
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[4], ARGV[4])
  return 2
end
if state == 'RUNNING' then
  redis.call('HSETNX', KEYS[1], 'cancel_requested', ARGV[1])
  return 1
end
return 0
"""


REDACTED = "***"


def redacted(url: str) -> str:
    """`url` with its password replaced by ***: how a broker is stored in the job store, logged and
    shown. Everything else (user, host, port, database) stays, so it still names the farm."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{REDACTED}@{host}"))


def connectable(stored: str) -> str | None:
    """The URL to connect to for a broker URL as stored: itself when it holds no redacted password,
    else PROXX_FARM_BROKER when that is the same broker with its password; None when the password
    is not known here."""
    if urllib.parse.urlsplit(stored).password != REDACTED:
        return stored
    configured = os.environ.get("PROXX_FARM_BROKER", "")
    return configured if configured and redacted(configured) == stored else None


def _job(job_id: str) -> str:
    return f"{PREFIX}job:{job_id}"


# KEYS: job record. ARGV: now. A record the broker no longer holds is not made again.
_ACKNOWLEDGE = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'mirrored', ARGV[1]) end
"""


class FarmState:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._reserve = client.register_script(_RESERVE)
        self._start = client.register_script(_START)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._finish = client.register_script(_FINISH)
        self._reap = client.register_script(_REAP)
        self._reaped_record = client.register_script(_REAPED_RECORD)
        self._cancel = client.register_script(_CANCEL)
        self._acknowledge = client.register_script(_ACKNOWLEDGE)

    @classmethod
    def connect(cls, url: str, timeout: float = 5.0) -> FarmState:
        """This process's connection to the farm's Redis at `url`, checked now: an unreachable farm is
        a configuration error. One client a broker for the life of the process, whose pool keeps its
        connections (redis-py reconnects after a broker restart and after a fork): a process
        submitting a folder's jobs, or refreshing once a second, connected and greeted the broker
        again for every job and every look."""
        state = _client_for(url, timeout)
        try:
            state.client.ping()
        except redis.RedisError as error:
            shown = redacted(url)
            # redis-py's own words end with the reason ("Error 111 connecting to h:p. Connection refused.").
            why = str(error).rstrip(". ").rsplit(". ", 1)[-1]
            raise ConfigurationError(
                "farm_unreachable",
                f"The render farm's broker {shown} cannot be reached ({why}): nothing was sent to the farm. Check "
                "that the farm's Redis server is running and that this machine can reach it.",
                {"broker": shown, "error": str(error)},
            ) from error
        return state

    def queued(self, job_id: str, engine: str) -> None:
        self.client.hset(_job(job_id), mapping={"state": QUEUED, "engine": engine, "queued_at": utc_now()})
        self.client.expire(_job(job_id), KEEP_SECONDS)

    def reserve(self, job_id: str, worker_id: str, lease: float) -> bool:
        """Take the job for `worker_id` to check it: it stays QUEUED, under a lease. False if it was
        ever taken before (a redelivery) or is no longer QUEUED (an operator's cancel)."""
        keys = [f"{PREFIX}claim:{job_id}", _job(job_id), f"{PREFIX}alive:{job_id}", RUNNING_SET]
        return bool(self._reserve(keys=keys, args=[worker_id, utc_now(), int(lease * 1000), KEEP_SECONDS, job_id]))

    def start(self, job_id: str, worker_id: str, lease: float, at: str) -> bool:
        """QUEUED -> RUNNING at `at`, once the reserving worker's checks passed; False if the job is
        no longer its reservation (cancelled, or declared lost meanwhile): it must not run."""
        keys = [_job(job_id), f"{PREFIX}alive:{job_id}", f"{PREFIX}claim:{job_id}"]
        return bool(self._start(keys=keys, args=[worker_id, at, int(lease * 1000)]))

    def claim(self, job_id: str, worker_id: str, lease: float) -> bool:
        """Reserve and start at once (a job that needs no checks)."""
        return self.reserve(job_id, worker_id, lease) and self.start(job_id, worker_id, lease, utc_now())

    def heartbeat(self, job_id: str, worker_id: str, lease: float, started: bool = True) -> bool:
        """Renew the lease of the job `worker_id` reserved or runs (`started`); False if the job is no
        longer its own. A record the broker lost is written again (QUEUED while the worker checks the
        job, RUNNING once it started), unless somebody else claimed the job."""
        keys = [_job(job_id), f"{PREFIX}alive:{job_id}", f"{PREFIX}claim:{job_id}", RUNNING_SET]
        held = RUNNING if started else QUEUED
        args: list[str | int] = [worker_id, int(lease * 1000), utc_now(), KEEP_SECONDS, job_id, held]
        return bool(self._heartbeat(keys=keys, args=args))

    def progress(self, job_id: str, fraction: float, eta_seconds: float | None, clip_index: int) -> None:
        fields: dict[str, str | float | int] = {"progress": round(fraction, 4), "clip_index": clip_index}
        fields["eta_seconds"] = "" if eta_seconds is None else round(eta_seconds, 1)
        self.client.hset(_job(job_id), mapping=fields)  # type: ignore[arg-type]  # redis-py's Mapping is invariant

    def published(self, job_id: str, clips: dict[int, str]) -> None:
        """Record clips as they are published ({index: the clip's result JSON}), so that a job whose
        worker dies still says which of its proxies exist."""
        if clips:
            self.client.hset(_job(job_id), mapping={f"{PUBLISHED}{i}": text for i, text in clips.items()})

    def finish(self, job_id: str, worker_id: str, fields: dict[str, str]) -> bool:
        """RUNNING (or QUEUED, reserved by `worker_id`) -> COMPLETED | FAILED with `fields` (state
        included); False if the job is no longer this worker's (another worker's record, or an
        operator's cancel before it started). The worker's own outcome replaces a reaper's "worker
        lost" and a record the broker lost."""
        assert fields["state"] in (COMPLETED, FAILED)
        args: list[str | int] = [worker_id, job_id, KEEP_SECONDS]
        for key, value in {"finished_at": utc_now(), **fields}.items():
            args += [key, value]
        keys = [_job(job_id), f"{PREFIX}alive:{job_id}", RUNNING_SET, f"{PREFIX}claim:{job_id}"]
        return bool(self._finish(keys=keys, args=args))

    def cancel(self, job_id: str) -> str | None:
        """The operator's cancel: "cancelled" (it was queued: no worker will start it), "requested"
        (it runs: its worker stops it), or None (it is neither)."""
        keys = [_job(job_id), f"{PREFIX}claim:{job_id}", f"{PREFIX}alive:{job_id}", RUNNING_SET]
        answer = int(self._cancel(keys=keys, args=[utc_now(), CANCELLED, KEEP_SECONDS, job_id]))
        return {2: "cancelled", 1: "requested"}.get(answer)

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.client.hexists(_job(job_id), "cancel_requested"))

    def acknowledge(self, job_id: str) -> None:
        """The submitting machine has recorded the job's outcome: its worker may forget it."""
        self._acknowledge(keys=[_job(job_id)], args=[utc_now()])

    def refused(self, worker_id: str, job_id: str | None, reason: str, message: str, proven: bool = True) -> None:
        """Record a task a worker refused before claiming it (e.g. its signature did not verify).
        `proven`: False when `job_id` is only what the task named, its signature not proving it."""
        record = {"at": utc_now(), "worker_id": worker_id, "job_id": job_id, "reason": reason, "message": message,
                  "proven": "yes" if proven else "no"}  # fmt: skip
        self.client.lpush(REFUSED_LIST, json.dumps(record))
        self.client.ltrim(REFUSED_LIST, 0, 999)

    def refused_tasks(self) -> list[dict[str, str | None]]:
        """The refused tasks, newest first (the last 1,000)."""
        records = []
        for item in self.client.lrange(REFUSED_LIST, 0, -1):  # anyone may write here: none may stop the list
            try:
                record = json.loads(str(item)[:16384])
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append({str(k): None if v is None else str(v)[:2000] for k, v in record.items()})
        return records

    def reap(self, job_id: str) -> bool:
        """FAILED "worker lost" if the job is RUNNING or reserved and its worker has been silent for a lease and a
        grace period of another lease (`lost_after`). True if it did."""
        keys = [_job(job_id), f"{PREFIX}alive:{job_id}", RUNNING_SET]
        return bool(self._reap(keys=keys, args=[job_id, utc_now(), int(lease_seconds() * 1000)]))

    def reaped_records(self, job_ids: Sequence[str]) -> list[dict[str, str]]:
        """`reap` then `job` for each of `job_ids`, one command a job and all in one round trip to
        the broker: a refresh of a farm's backlog costs one exchange, not two for every job it
        holds, and the broker answers with one reply a job, not two."""
        pipe = self.client.pipeline(transaction=False)
        lease_ms = int(lease_seconds() * 1000)
        for job_id in job_ids:
            keys = [_job(job_id), f"{PREFIX}alive:{job_id}", RUNNING_SET]
            self._reaped_record(keys=keys, args=[job_id, utc_now(), lease_ms], client=pipe)
        return [dict(zip(flat[::2], flat[1::2], strict=True)) for flat in pipe.execute()]

    def reap_all(self) -> list[str]:
        members = self.client.smembers(RUNNING_SET)
        return [str(job_id) for job_id in sorted(members) if self.reap(str(job_id))]

    def advertise(self, worker_id: str, engines: Iterable[str], ttl: float) -> None:
        """Say, for `ttl` seconds, that `worker_id` takes jobs for `engines`."""
        self.client.set(f"{PREFIX}worker:{worker_id}", ",".join(sorted(engines)), px=int(ttl * 1000))

    def engines(self) -> set[str]:
        """The engines some live worker of this farm takes jobs for."""
        keys = list(self.client.scan_iter(match=f"{PREFIX}worker:*", count=1000))
        advertised = self.client.mget(keys) if keys else []  # one exchange, however many workers
        return {engine for value in advertised for engine in str(value or "").split(",") if engine}

    def job(self, job_id: str) -> dict[str, str]:
        found = self.client.hgetall(_job(job_id))
        return {str(k): str(v) for k, v in found.items()}


@functools.cache
def _client_for(url: str, timeout: float) -> FarmState:
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True)
    return FarmState(client)


def lease_seconds() -> float:
    """PROXX_FARM_LEASE_SECONDS: how long a farm job's lease lasts (its worker renews it every third)."""
    return float(os.environ.get("PROXX_FARM_LEASE_SECONDS", Settings().lease_seconds))


def lost_after() -> float:
    """How long a farm job can go without word from its worker before it is declared lost: its lease
    runs out, then a grace period of another lease (a worker cut off from the broker for a while
    renews within a third of a lease of its return), then up to half a lease until a reaper looks."""
    return 3 * lease_seconds()


def patience_seconds() -> float:
    """PROXX_FARM_PATIENCE_SECONDS (default 600): how long a farm worker waits for an unreachable
    broker before it publishes an output or records how a job ended; a job whose closing record
    still cannot be written is sent again from the worker's outbox when the broker is back."""
    return float(os.environ.get("PROXX_FARM_PATIENCE_SECONDS", "600"))
