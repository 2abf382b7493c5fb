"""The two watchers: media files become jobs with one intent; JobSpec JSON files are queued as they are."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from proxx.app import Proxx
from proxx.errors import JobValidationError
from proxx.jobspec.files import read_jobspec
from proxx.jobspec.model import JobSpec
from proxx.watch.ledger import Ledger
from proxx.watch.scan import MEDIA_EXTENSIONS, Settler, candidates

# Blackmagic's Proxy Generator writes proxies into a Proxy folder beside the media; Resolve relinks
# them from there.
PROXY_FOLDER = "Proxy"
QUEUED_FOLDER, FAILED_FOLDER = "queued", "failed"


@attrs.frozen
class Event:
    path: Path
    outcome: str  # "queued" | "failed"
    job_id: str | None = None
    message: str = ""


def _absolute(path: Path) -> Path:
    # The ledger keys on absolute paths: a restart from another working folder still knows a file.
    return Path(os.path.abspath(path))


def _ledger(proxx: Proxx) -> Ledger:
    return Ledger(proxx.home / "watch.db")


@attrs.define
class MediaWatcher:
    """New media files under `root` (recursively) become one job each, with `intent`, once settled."""

    proxx: Proxx
    root: Path = attrs.field(converter=_absolute)
    intent: str
    output: Path | None  # None: a Proxy/ folder beside each file
    settle: float = 5.0
    farm: str | None = None
    ledger: Ledger = attrs.field(default=attrs.Factory(lambda self: _ledger(self.proxx), takes_self=True))
    settler: Settler = attrs.field(default=attrs.Factory(lambda self: Settler(self.settle), takes_self=True))

    def _skip_dir(self, folder: Path) -> bool:
        # Never proxy the proxies: the Proxy/ folders and the output folder are not watched.
        return folder.name == PROXY_FOLDER or (self.output is not None and folder.resolve() == self.output.resolve())

    def poll(self) -> list[Event]:
        events = []
        present = set()
        for path in candidates(self.root, lambda p: p.suffix.lower() in MEDIA_EXTENSIONS, self._skip_dir):
            if self.ledger.handled(path):
                continue
            present.add(path)
            stat = self.settler.observe(path)
            if stat is None:
                continue
            output = self.output or path.parent / PROXY_FOLDER
            output.mkdir(exist_ok=True)
            spec = self.proxx.submit(self.intent, [path], output, farm=self.farm)
            self.ledger.record(path, "media", stat.st_size, stat.st_mtime_ns, spec.job_id, "queued")
            events.append(Event(path, "queued", spec.job_id))
        self.settler.forget_missing(present)
        return events


@attrs.define
class JobSpecInbox:
    """JobSpec JSON files dropped into `root` are validated against the JobSpec schema and queued
    unchanged (moved to queued/), or moved to failed/ with an error file beside them."""

    proxx: Proxx
    root: Path
    settle: float = 5.0
    farm: str | None = None
    ledger: Ledger = attrs.field(default=attrs.Factory(lambda self: _ledger(self.proxx), takes_self=True))
    settler: Settler = attrs.field(default=attrs.Factory(lambda self: Settler(self.settle), takes_self=True))

    def poll(self) -> list[Event]:
        events = []
        present = set()
        for path in candidates(self.root, lambda p: p.suffix.lower() == ".json", lambda _: True, recursive=False):
            present.add(path)
            stat = self.settler.observe(path)
            if stat is None:
                continue
            problems, spec = self._check(path)
            if spec is None:
                self._move(path, FAILED_FOLDER).with_suffix(".error.txt").write_text("\n".join(problems) + "\n")
                self.ledger.record(path, "jobspec", stat.st_size, stat.st_mtime_ns, None, "failed")
                events.append(Event(path, "failed", None, problems[0]))
                continue
            self._queue(spec)
            self._move(path, QUEUED_FOLDER)
            self.ledger.record(path, "jobspec", stat.st_size, stat.st_mtime_ns, spec.job_id, "queued")
            events.append(Event(path, "queued", spec.job_id))
        self.settler.forget_missing(present)
        return events

    def _check(self, path: Path) -> tuple[list[str], JobSpec | None]:
        try:
            spec = read_jobspec(path)
        except JobValidationError as error:
            return [error.message], None
        try:
            self.proxx.store.job(spec.job_id)
        except KeyError:
            return [], spec
        return [f"JobSpec file '{path}': job {spec.job_id} already exists; a JobSpec is queued once"], None

    def _queue(self, spec: JobSpec) -> None:
        broker = self.farm
        if broker is None:
            self.proxx.store.add(spec)
            return
        from proxx.farm.state import FarmState, redacted
        from proxx.farm.submit import dispatch

        state = FarmState.connect(broker)
        self.proxx.store.add(spec, redacted(broker))
        dispatch(self.proxx.store, spec, broker, state)

    def _move(self, path: Path, folder: str) -> Path:
        target_dir = self.root / folder
        target_dir.mkdir(exist_ok=True)
        target = target_dir / path.name
        n = 1
        while target.exists():
            target = target_dir / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.move(path, target)
        return target


def watch(
    watcher: MediaWatcher | JobSpecInbox,
    interval: float = 2.0,
    once: bool = False,
    on_event: Callable[[Event], None] | None = None,
) -> int:
    """Poll every `interval` seconds. `once`: return as soon as no file is left waiting to settle.
    Returns how many files were handled."""
    count = 0
    while True:
        for event in watcher.poll():
            count += 1
            if on_event:
                on_event(event)
        if once and watcher.settler.pending == 0:
            return count
        time.sleep(interval)
