"""Run the web shell: bind, print where to find it, serve with uvicorn, and drain the job queue
with in-process worker threads (`proxx.worker.work`) until the server stops.

With `workers=0` nothing runs jobs here: start `proxx worker` processes beside it on the same
PROXX_HOME (they share the SQLite store; a job is claimed by exactly one worker).
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from proxx.app import Proxx
from proxx.web.app import create_app
from proxx.web.connections import guarded
from proxx.web.roots import MediaRoot, MediaRoots
from proxx.web.security import DEFAULT_MAX_BODY, loopback_hosts
from proxx.web.service import WebService
from proxx.worker import work

DEFAULT_PORT = 8421


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def required_token(host: str, configured: str | None) -> tuple[str | None, bool]:
    """(token, generated): a configured token is always enforced; a non-loopback bind without one
    gets a fresh random token, since anyone on the network could otherwise create jobs."""
    if configured:
        return configured, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(24), True


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextmanager
def workers(proxx: Proxx, count: int, poll_seconds: float = 0.5) -> Iterator[None]:
    """`count` worker threads draining the queue while the block runs; they finish their current
    job's clip loop before the block exits (a job is never abandoned half-way by a clean stop)."""
    if count <= 0:
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=work, args=(proxx,), kwargs={"concurrency": count, "stop": stop, "poll_seconds": poll_seconds},
        name="proxx-web-workers", daemon=True,
    )  # fmt: skip
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class _Server(uvicorn.Server):
    """uvicorn stops on SIGINT and SIGTERM, then raises the signal again, which would end the process
    before the worker threads finish their jobs. Here the stop is the end of `serve`, and `workers`
    then waits for running jobs (a job cut short by a harder kill is marked FAILED "worker lost")."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def serve(
    proxx: Proxx,
    roots: Sequence[MediaRoot],
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    token: str | None = None,
    worker_threads: int = 1,
    profiles: Sequence[Path] = (),
    bundled: bool | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    say: Callable[[str], None] = print,
) -> None:
    token, generated = required_token(host, token)
    service = WebService(proxx, MediaRoots(roots, proxx.beside_outputs), profiles, bundled)
    # Without a token, answer only to loopback names (DNS rebinding); with one, the token decides.
    app = create_app(service, token, max_body, None if token else loopback_hosts(host))
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{actual_port}/"
    say(f"proxx serve: {url}" + (f"?token={token}" if token else ""))
    say("media roots: " + ", ".join(f"{r.name}={r.path}" for r in roots))
    if generated:
        say(f"access token (generated for this run; set --token or PROXX_WEB_TOKEN to fix it): {token}")
    say(f"workers: {worker_threads} thread(s)" if worker_threads else "workers: none here (run `proxx worker`)")
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5, http=guarded())
    server = _Server(config)
    with workers(proxx, worker_threads):
        server.run(sockets=[sock])
