"""A farm on this machine: a private redis-server on a free loopback port and `proxx farm worker`
processes. For the farm's tests, its benchmarks, and trying the farm out before deploying it; part of
the plugin, not of proxx's core."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import redis

from proxx import JobRow, JobState, Proxx
from proxx.errors import ConfigurationError


def wait_finished(proxx: Proxx, job_id: str, timeout: float = 90.0) -> JobRow:
    """The job's row once it is COMPLETED or FAILED, mirrored from the farm (an AssertionError after
    `timeout` seconds: for tests)."""
    deadline = time.monotonic() + timeout
    while True:
        proxx.refresh()
        row = proxx.store.job(job_id)
        if row.state in (JobState.COMPLETED, JobState.FAILED):
            return row
        assert time.monotonic() < deadline, f"job {job_id} still {row.state}"
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """`redis-server` on 127.0.0.1, without persistence, stopped on exit. It can be stopped and
    started again on the same port, with its data (saved first) or without (a crash of a broker
    that keeps nothing, a failover to an empty one): what the farm's fault tests do to it."""

    def __init__(self, password: str | None = None) -> None:
        path = shutil.which("redis-server")
        if path is None:
            raise ConfigurationError("no_redis_server", "redis-server is not installed (scripts/install-redis.sh).")
        self._binary, self._password = path, password
        self._dir = tempfile.TemporaryDirectory(prefix="proxx-redis-")
        self._process: subprocess.Popen[bytes] | None = None
        # A port found free can be taken by another process (a second test run beside this one)
        # before the server binds it: the server then exits, and another port is tried.
        for _ in range(5):
            self.port = free_port()
            self.url = f"redis://{f':{password}@' if password else ''}127.0.0.1:{self.port}/0"
            if self._started():
                return
        self._dir.cleanup()
        raise ConfigurationError("redis_not_started", "redis-server did not start.")

    def start(self) -> None:
        """Start it (again): it loads what `stop(keep_data=True)` saved."""
        if not self._started():
            self.close()
            raise ConfigurationError("redis_not_started", "redis-server did not start.")

    def _started(self) -> bool:
        """Whether a server started on `self.port` answers within 20 s (if not, none is left running)."""
        self._process = subprocess.Popen(
            [
                self._binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir.name,
                "--loglevel",
                "warning",
                *(["--requirepass", self._password] if self._password else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        client = redis.Redis(port=self.port, password=self._password, socket_connect_timeout=1)
        while True:
            try:
                # Ours, not a server another process had on the port already (ours then exits).
                if client.info("server")["process_id"] == self._process.pid:
                    break
                raise redis.ConnectionError
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    client.close()
                    self.stop()
                    return False
                time.sleep(0.05)
            except redis.BusyLoadingError:  # loading its saved data
                time.sleep(0.05)
        client.close()
        return True

    def stop(self, keep_data: bool = False) -> None:
        """Stop the server; with `keep_data`, save its data first for the next `start`."""
        if self._process is None or self._process.poll() is not None:
            return
        if keep_data:
            client = redis.Redis(port=self.port, password=self._password, socket_connect_timeout=1)
            client.save()
            client.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if not keep_data:
            with contextlib.suppress(FileNotFoundError):
                (Path(self._dir.name) / "dump.rdb").unlink()

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FarmWorker:
    """A `proxx farm worker` process (or, `via_celery`, Celery's own `celery -A proxx_farm.app worker`)
    in its own session, so that killing it takes its encoders too. Without `engines` it takes every
    engine installed and available (Celery's own worker needs them named: they are its queues)."""

    def __init__(
        self,
        broker: str,
        name: str,
        engines: Sequence[str] = (),
        home: Path | None = None,
        map_paths: Sequence[str] = (),
        concurrency: int = 1,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        via_celery: bool = False,
    ) -> None:
        self.name = name
        self.home = home or Path(tempfile.mkdtemp(prefix=f"proxx-worker-{name}-"))
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path or self.home / "worker.log"
        environment = {**os.environ, "PROXX_HOME": str(self.home), **(env or {})}
        if via_celery:
            if not engines:
                raise ConfigurationError("no_engines", "Celery's own worker needs the engines whose queues it takes.")
            environment.update(
                PROXX_FARM_BROKER=broker, PROXX_FARM_WORKER_NAME=name, PROXX_FARM_MAP_PATHS="\n".join(map_paths)
            )
            command = [sys.executable, "-m", "celery", "-A", "proxx_farm.app", "worker", "--queues",
                       ",".join(f"proxx.{e}" for e in engines), "--concurrency", str(concurrency),
                       "--pool", "solo" if concurrency == 1 else "prefork", "--hostname", f"proxx-{name}@%h",
                       "--loglevel", "INFO", "--without-gossip", "--without-mingle"]  # fmt: skip
        else:
            command = [sys.executable, "-c", "from proxx.cli import run; run()", "farm", "worker", "--broker", broker,
                       "--name", name, "--concurrency", str(concurrency)]  # fmt: skip
            if engines:
                command += ["--engines", ",".join(engines)]
            for rule in map_paths:
                command += ["--map-path", rule]
        self._log: IO[bytes] = open(self.log_path, "ab")  # noqa: SIM115  # closed in stop()
        self.process = subprocess.Popen(
            command, env=environment, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ConfigurationError(
                    "worker_not_started",
                    f"Farm worker {self.name} did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}",
                )
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the worker and everything it started, as if its host vanished."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
