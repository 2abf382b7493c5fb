"""Who may put a job on the farm, and who may say how it ended: the holders of PROXX_FARM_KEY.

With the key set, every task is a signed message (`proxx.jobspec.signing`: domain `farm-task`, its
job id, the farm's name PROXX_FARM_NAME as audience, an expiry of PROXX_FARM_TASK_SECONDS); a worker
refuses a task whose signature does not verify, before it parses, claims or writes anything, and
remembers each task it accepted until it expires. What a worker writes back (the job's state, its
result, its log) is signed the same way (domain `farm-state`), and the submitting machine mirrors
only what verifies. Without a key, anyone who can reach the broker can submit work, so the farm then
runs only on a loopback broker (a farm on one machine: tests, trying it out); a broker elsewhere
without a key is a configuration error for workers and submitters alike.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse

from proxx.errors import ConfigurationError
from proxx.jobspec.signing import key_from_env
from proxx_farm.state import redacted

KEY_VARIABLE = "PROXX_FARM_KEY"
DEFAULT_TASK_SECONDS = 7 * 24 * 3600  # a task waiting longer on the queue is refused


def farm_name() -> str:
    """PROXX_FARM_NAME: the audience of this farm's signed messages (farms sharing a key need distinct names)."""
    return os.environ.get("PROXX_FARM_NAME") or "proxx-farm"


def task_seconds() -> float:
    """PROXX_FARM_TASK_SECONDS: how long a signed task stays valid (default 7 days)."""
    return float(os.environ.get("PROXX_FARM_TASK_SECONDS", DEFAULT_TASK_SECONDS))


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
