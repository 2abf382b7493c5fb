"""Farm job states in Redis: one hash per job, changed only by atomic Lua scripts.

Keys (prefix `proxx:farm:`):
  job:<id>    hash: state, engine, worker_id, progress, eta_seconds, clip_index, started_at,
              finished_at, failure_class, reason, message, result (the result JSON), log (the job log),
              refused_deliveries (deliveries refused because the job had already been claimed)
  claim:<id>  the worker that claimed the job (SET NX: the first claim wins, for ever)
  alive:<id>  the running job's lease (a TTL key its worker refreshes)
  running     the set of RUNNING job ids, which reapers scan
  worker:<id> the engines a live worker takes jobs for (comma-separated; expires unless refreshed)
  refused     the last 1,000 tasks workers refused before claiming them (JSON records, newest first)
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterable

import redis

from proxx.errors import ConfigurationError
from proxx.jobspec.model import utc_now
from proxx.settings import Settings
from proxx.store import COMPLETED, FAILED, QUEUED

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def broker_url() -> str:
    """PROXX_FARM_BROKER, e.g. redis://farm-redis:6379/0."""
    return os.environ.get("PROXX_FARM_BROKER") or DEFAULT_BROKER


PREFIX = "proxx:farm:"
RUNNING_SET = PREFIX + "running"
REFUSED_LIST = PREFIX + "refused"
KEEP_SECONDS = 30 * 24 * 3600  # farm records outlive any mirror; the JobSpec's own store keeps the audit
# Under a farm key, a worker signs what it writes back (`proxx.farm.worker.signed`): the finished (or
# lost) job's fields in `sealed`, its start in `sealed_running`. The submitting machine mirrors only those.
SEALED, SEALED_RUNNING = "sealed", "sealed_running"
LOST_FIELDS = ("state", "failure_class", "reason", "message", "finished_at", "worker_id", "started_at")

_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[4]) then
  redis.call('HSET', KEYS[2], 'state', 'RUNNING', 'worker_id', ARGV[1], 'started_at', ARGV[2])
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[5])
  return 1
end
redis.call('HINCRBY', KEYS[2], 'refused_deliveries', 1)
return 0
"""

_HEARTBEAT = """
if redis.call('HGET', KEYS[1], 'state') == 'RUNNING' and redis.call('HGET', KEYS[1], 'worker_id') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# ARGV: worker id, job id, then field/value pairs to set
_FINISH = """
if redis.call('HGET', KEYS[1], 'state') ~= 'RUNNING' or redis.call('HGET', KEYS[1], 'worker_id') ~= ARGV[1] then
  return 0
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return 1
"""

_REAP = """
if redis.call('HGET', KEYS[1], 'state') ~= 'RUNNING' then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local worker = redis.call('HGET', KEYS[1], 'worker_id') or '?'
redis.call('HSET', KEYS[1], 'state', 'FAILED', 'failure_class', 'C', 'reason', 'worker lost',
  'finished_at', ARGV[2], 'message', 'Worker ' .. worker .. ' was lost while running the job ' ..
  '(its lease expired without a heartbeat); the job was not re-run. Retry it to create a new job.')
redis.call('SREM', KEYS[3], ARGV[1])
return 1
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


class FarmState:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._claim = client.register_script(_CLAIM)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._finish = client.register_script(_FINISH)
        self._reap = client.register_script(_REAP)

    @classmethod
    def connect(cls, url: str, timeout: float = 5.0) -> FarmState:
        """A connection to the farm's Redis, checked now: an unreachable farm is a configuration error."""
        client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
        )
        try:
            client.ping()
        except redis.RedisError as error:
            shown = redacted(url)
            raise ConfigurationError(
                "farm_unreachable", f"The render farm's broker {shown} cannot be reached: {error}", {"broker": shown}
            ) from error
        return cls(client)

    def queued(self, job_id: str, engine: str) -> None:
        self.client.hset(_job(job_id), mapping={"state": QUEUED, "engine": engine, "queued_at": utc_now()})
        self.client.expire(_job(job_id), KEEP_SECONDS)

    def claim(self, job_id: str, worker_id: str, lease: float) -> bool:
        """Take the job for `worker_id`; False if it was ever claimed before (a redelivery)."""
        keys = [f"{PREFIX}claim:{job_id}", _job(job_id), f"{PREFIX}alive:{job_id}", RUNNING_SET]
        return bool(self._claim(keys=keys, args=[worker_id, utc_now(), int(lease * 1000), KEEP_SECONDS, job_id]))

    def heartbeat(self, job_id: str, worker_id: str, lease: float) -> bool:
        keys = [_job(job_id), f"{PREFIX}alive:{job_id}"]
        return bool(self._heartbeat(keys=keys, args=[worker_id, int(lease * 1000)]))

    def progress(self, job_id: str, fraction: float, eta_seconds: float | None, clip_index: int) -> None:
        fields: dict[str, str | float | int] = {"progress": round(fraction, 4), "clip_index": clip_index}
        fields["eta_seconds"] = "" if eta_seconds is None else round(eta_seconds, 1)
        self.client.hset(_job(job_id), mapping=fields)  # type: ignore[arg-type]  # redis-py's Mapping is invariant

    def finish(self, job_id: str, worker_id: str, fields: dict[str, str]) -> bool:
        """RUNNING -> COMPLETED | FAILED with `fields` (state included); False if the job is no longer
        this worker's RUNNING job (it was reaped as lost meanwhile)."""
        assert fields["state"] in (COMPLETED, FAILED)
        args: list[str] = [worker_id, job_id]
        for key, value in {**fields, "finished_at": utc_now()}.items():
            args += [key, value]
        keys = [_job(job_id), f"{PREFIX}alive:{job_id}", RUNNING_SET]
        return bool(self._finish(keys=keys, args=args))

    def refused(self, worker_id: str, job_id: str | None, reason: str, message: str) -> None:
        """Record a task a worker refused before claiming it (e.g. its signature did not verify)."""
        record = {"at": utc_now(), "worker_id": worker_id, "job_id": job_id, "reason": reason, "message": message}
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
        """FAILED "worker lost" if the job is RUNNING and its lease expired. True if it did."""
        keys = [_job(job_id), f"{PREFIX}alive:{job_id}", RUNNING_SET]
        return bool(self._reap(keys=keys, args=[job_id, utc_now()]))

    def reap_all(self) -> list[str]:
        members = self.client.smembers(RUNNING_SET)
        return [str(job_id) for job_id in sorted(members) if self.reap(str(job_id))]

    def advertise(self, worker_id: str, engines: Iterable[str], ttl: float) -> None:
        """Say, for `ttl` seconds, that `worker_id` takes jobs for `engines`."""
        self.client.set(f"{PREFIX}worker:{worker_id}", ",".join(sorted(engines)), px=int(ttl * 1000))

    def engines(self) -> set[str]:
        """The engines some live worker of this farm takes jobs for."""
        found: set[str] = set()
        for key in self.client.scan_iter(match=f"{PREFIX}worker:*", count=1000):
            found.update(e for e in str(self.client.get(key) or "").split(",") if e)
        return found

    def job(self, job_id: str) -> dict[str, str]:
        found = self.client.hgetall(_job(job_id))
        return {str(k): str(v) for k, v in found.items()}


def lease_seconds() -> float:
    """PROXX_FARM_LEASE_SECONDS: a running farm job whose worker is silent this long is lost."""
    return float(os.environ.get("PROXX_FARM_LEASE_SECONDS", Settings().lease_seconds))
