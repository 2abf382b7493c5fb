"""Keyed signatures of JobSpecs: the digest (sha256) proves a JobSpec was not altered, but anyone can
recompute it; an HMAC with a key the facility configures also proves who made it.

Farm tasks always carry one when PROXX_FARM_KEY is set, and a farm worker with a key refuses a task
whose signature does not verify. A JobSpec inbox with a key (PROXX_INBOX_KEY) accepts only signed
envelopes: `{"jobspec": {...}, "signature": "hmac-sha256:<hex>"}`, the HMAC taken over the JobSpec's
canonical JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import os

PREFIX = "hmac-sha256:"


def key_from_env(variable: str) -> bytes | None:
    """The key in `variable` (any text; at least 16 characters is advisable), or None when unset."""
    value = os.environ.get(variable, "")
    return value.encode("utf-8") if value else None


def sign(spec_json: str, key: bytes) -> str:
    return PREFIX + hmac.new(key, spec_json.encode("utf-8"), hashlib.sha256).hexdigest()


def verifies(spec_json: str, signature: object, key: bytes) -> bool:
    """Whether `signature` is the HMAC of `spec_json` under `key` (compared in constant time)."""
    return isinstance(signature, str) and hmac.compare_digest(sign(spec_json, key), signature)
