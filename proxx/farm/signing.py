"""Who may put a job on the farm: the holder of PROXX_FARM_KEY.

Every task carries an HMAC of its JobSpec's canonical JSON (`proxx.jobspec.signing`) when the key is
set; a worker with the key refuses a task whose signature does not verify, before it claims or
writes anything. Without a key, anyone who can reach the broker can submit work, so the farm then
runs only on a loopback broker (a farm on one machine: tests, trying it out); a broker elsewhere
without a key is a configuration error for workers and submitters alike.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

from proxx.errors import ConfigurationError
from proxx.farm.state import redacted
from proxx.jobspec.signing import key_from_env

KEY_VARIABLE = "PROXX_FARM_KEY"


def is_loopback(broker: str) -> bool:
    """Whether `broker` is reachable only from this machine (127.0.0.0/8, ::1, localhost, a socket)."""
    parts = urllib.parse.urlsplit(broker)
    if parts.scheme in ("unix", "redis+socket"):
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def farm_key(broker: str) -> bytes | None:
    """The farm's key, or None on a loopback broker without one; a ConfigurationError when the
    broker is elsewhere and no key is set."""
    key = key_from_env(KEY_VARIABLE)
    if key is None and not is_loopback(broker):
        shown = redacted(broker)
        raise ConfigurationError(
            "farm_key_required",
            f"The render farm's broker {shown} is not on this machine, so its tasks must be signed: set "
            f"{KEY_VARIABLE} to the facility's farm key (the same on every submitting machine and worker).",
            {"broker": shown},
        )
    return key
