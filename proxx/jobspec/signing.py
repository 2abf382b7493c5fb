"""Signed messages between machines: farm tasks, what farm workers write back, inbox JobSpecs.

The digest (sha256) proves a JobSpec was not altered, but anyone can recompute it; an HMAC with a
key the facility configures also proves who made it. A signed message is bytes:

    proxx-signed-1 hmac-sha256:<64 hex digits>\\n
    {"audience": ..., "domain": ..., "expires": <unix seconds>, "job_id": ...}\\n
    <payload>

The HMAC covers everything after the first line, exactly as received, and is checked before any
of it is parsed (`open_sealed`). Its key is derived from the facility's key for the message's
domain, and the header names the domain again, so a message of one kind is never valid as another
(a farm task is not an inbox JobSpec, a task is not a result). The header binds the message to one
job, to the one farm or inbox it was meant for (its audience), and to a time after which it is
refused (its expiry); a farm worker also remembers each task it accepted until it expires
(`proxx_farm.replay`), so a task sent again is refused even where the farm's own claim was lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time

import attrs

from proxx.jobspec.stamps import JOB_ID

MAGIC = b"proxx-signed-1 "
PREFIX = "hmac-sha256:"
FARM_TASK = "farm-task"  # a JobSpec for a farm worker, from a submitting machine
FARM_STATE = "farm-state"  # what a farm worker writes back: a job's state and result
INBOX = "inbox"  # a JobSpec dropped into a JobSpec inbox
DOMAINS = frozenset({FARM_TASK, FARM_STATE, INBOX})
MAX_HEADER = 1024


class SignatureRefused(Exception):
    """A signed message that may not be used; `why` in operator words ("its signature does not verify")."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@attrs.frozen
class Envelope:
    domain: str
    job_id: str
    expires: int
    audience: str


def key_from_env(variable: str) -> bytes | None:
    """The key in `variable` (any text; at least 16 characters is advisable), or None when unset."""
    value = os.environ.get(variable, "")
    return value.encode("utf-8") if value else None


def _domain_key(key: bytes, domain: str) -> bytes:
    return hmac.new(key, b"proxx signing key for " + domain.encode(), hashlib.sha256).digest()


def seal(domain: str, job_id: str, audience: str, payload: bytes, key: bytes, ttl: float) -> bytes:
    """`payload` signed for `domain`, job `job_id` and `audience`, valid for `ttl` seconds."""
    assert domain in DOMAINS
    header = {"audience": audience, "domain": domain, "expires": int(time.time() + ttl), "job_id": job_id}
    signed = json.dumps(header, sort_keys=True, ensure_ascii=True).encode() + b"\n" + payload
    mac = hmac.new(_domain_key(key, domain), signed, hashlib.sha256).hexdigest()
    return MAGIC + (PREFIX + mac).encode() + b"\n" + signed


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC)


def open_sealed(
    data: bytes, key: bytes, domain: str, audience: str, job_id: str | None = None, now: float | None = None
) -> tuple[Envelope, bytes]:
    """The envelope and payload of `data` when its signature verifies under `key` for `domain`
    (checked over the raw bytes before anything is parsed), and it is meant for `audience` (and
    `job_id`, when given) and not expired; else SignatureRefused."""
    if not data.startswith(MAGIC):
        raise SignatureRefused("it carries no signature")
    first, newline, signed = data.partition(b"\n")
    mac = first[len(MAGIC) :].decode("ascii", "replace")
    if not newline or not mac.startswith(PREFIX):
        raise SignatureRefused("its signature line is malformed")
    expected = PREFIX + hmac.new(_domain_key(key, domain), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), mac.encode("ascii", "replace")):
        raise SignatureRefused("its signature does not verify")
    raw_header, _, payload = signed.partition(b"\n")
    try:
        header = json.loads(raw_header[:MAX_HEADER]) if len(raw_header) <= MAX_HEADER else None
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise SignatureRefused("its signed header is not readable")
    envelope = Envelope(
        str(header.get("domain")),
        str(header.get("job_id")),
        int(header.get("expires") or 0),
        str(header.get("audience")),
    )
    if envelope.domain != domain:
        raise SignatureRefused(f"it was signed as a {envelope.domain} message, not a {domain} one")
    if not JOB_ID.fullmatch(envelope.job_id) or (job_id is not None and envelope.job_id != job_id):
        raise SignatureRefused(f"it was signed for another job ({envelope.job_id[:40]!r})")
    if envelope.audience != audience:
        raise SignatureRefused(f"it was signed for {envelope.audience[:200]!r}, not for {audience!r}")
    if envelope.expires <= (time.time() if now is None else now):
        raise SignatureRefused("its signature has expired")
    return envelope, payload
