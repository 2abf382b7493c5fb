"""How a process's renders share the machine: how many run at once, and with how many threads each.

Clips render side by side, as many at once as the engine allows (`Engine.parallel_clips`) and the
process's render budget has room for: PROXX_PARALLEL_CLIPS, default the usable cores up to 4, one
budget shared by every job a `proxx worker` or `proxx serve` runs.

Encoders side by side each use every core by default and contend for them; given its share of the
cores instead (`RenderTask.threads`), each encodes more per core: measured on 2 cores with bare
ffmpeg and proxx's argument lists, 20 one-second clips two at a time took 7 % less wall time at
640x360 and 5 % less at 1080p with `-threads 1` than with ffmpeg's default. A render gets a share
only while there is other work to keep the other cores busy for as long as it renders: the other
clips of its job, those of the other jobs this process runs, or jobs still queued for a worker
running several at once. A long clip started beside a few short ones keeps every thread, else it
would finish alone on one core. Every thread means ffmpeg's own choice, except under a cgroup CPU
quota: ffmpeg threads itself for the cores the affinity allows, and is given those the quota allows.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs


@functools.cache
def render_slots(budget: int) -> threading.BoundedSemaphore:
    """The process's render budget: how many clips render at once, across all its jobs."""
    return threading.BoundedSemaphore(budget)


def parallel_budget() -> int:
    configured = os.environ.get("PROXX_PARALLEL_CLIPS")
    return max(1, int(configured) if configured else min(4, usable_cores()))


@functools.cache
def usable_cores(root: Path = Path("/")) -> int:
    """The cores this process can keep busy: those its CPU affinity allows (a container's cpuset,
    `taskset`), fewer under a cgroup CPU quota (`docker run --cpus 2`, a Kubernetes CPU limit), at
    least one. `os.cpu_count()` counts the host's: a farm worker limited to 2 of a node's 64 cores
    would render four clips at once and give each a share of 64 cores, and the quota would throttle
    them all. `root` is where /proc and /sys are found (tests)."""
    cores = affinity_cores()
    quota = cgroup_cpu_quota(root)
    return max(1, min(cores, int(quota)) if quota is not None else cores)


def affinity_cores() -> int:
    """The cores the process's CPU affinity allows: what ffmpeg threads itself for, quota or not."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows: no affinity to ask
        return os.cpu_count() or 1


def cgroup_cpu_quota(root: Path = Path("/")) -> float | None:
    """The CPU time a second this process's cgroups allow it, in cores (the tightest of its cgroup
    and those above it), or None without a quota. cgroup v2 (`cpu.max`: "QUOTA PERIOD" or "max
    PERIOD") and v1 (`cpu.cfs_quota_us`, -1 for none, over `cpu.cfs_period_us`); what cannot be read
    is no quota."""
    try:
        memberships = (root / "proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in memberships:  # "ID:CONTROLLERS:PATH"; v2's is "0::PATH"
        parts = line.split(":", 2)
        if len(parts) < 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            folders = [root / "sys/fs/cgroup"]
            read = _cpu_max
        elif "cpu" in controllers.split(","):
            folders = [root / "sys/fs/cgroup" / name for name in dict.fromkeys((controllers, "cpu", "cpu,cpuacct"))]
            read = _cfs_quota
        else:
            continue
        for base in folders:
            here = base / path.lstrip("/")
            for folder in (here, *here.parents):  # a container sees its own cgroup as the root
                if folder == base.parent:
                    break
                limit = read(folder)
                if limit is not None:
                    limits.append(limit)
    return min(limits) if limits else None


def _cpu_max(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text(encoding="utf-8").split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _cfs_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text(encoding="utf-8"))
        period = int((folder / "cpu.cfs_period_us").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


@attrs.define
class _JobWork:
    durations: list[float]
    done: Sequence[float]  # each clip's fraction rendered (the progress meter's, read only)
    lanes: int  # how many of its clips may render at once
    waiting: set[int]
    rendering: set[int] = attrs.field(factory=set)

    def beside(self, clip: int | None = None) -> tuple[int, float]:
        """(clips that can render beside clip `clip` of this job, seconds of source they hold):
        none when its clips render one at a time. With no `clip`: beside a clip of another job."""
        if clip is not None and self.lanes < 2:
            return 0, 0.0
        seconds = sum(self.durations[p] for p in self.waiting if p != clip)
        seconds += sum(self.durations[p] * (1 - self.done[p]) for p in self.rendering if p != clip)
        clips = len((self.waiting | self.rendering) - {clip})
        return min(self.lanes if clip is None else self.lanes - 1, clips), seconds


def nothing_queued() -> bool:
    return False


class CoreShare:
    """The thread count of each render as it starts, for every job of this process."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or usable_cores()
        # A render with every core to itself: ffmpeg's own choice, unless a cgroup quota allows fewer
        # cores than ffmpeg would thread for (it counts the affinity, not the quota).
        self.alone = None if cores or self.cores >= affinity_cores() else self.cores
        self._jobs: dict[str, _JobWork] = {}
        self._lock = threading.Lock()
        # Whether more jobs wait to run beside the running ones: set by a worker running several.
        self.queued: Callable[[], bool] = nothing_queued

    def add_job(self, job_id: str, durations: Sequence[float], done: Sequence[float], lanes: int) -> None:
        """A job starts rendering: `durations` of its clips in job order, `done` each clip's fraction
        rendered so far, `lanes` of them at most rendering at once."""
        with self._lock:
            self._jobs[job_id] = _JobWork(list(durations), done, lanes, set(range(len(durations))))

    def remove_job(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def start(self, job_id: str, position: int, budget: int) -> int | None:
        """Clip `position` of `job_id` starts rendering in a process rendering at most `budget`
        clips at once: its thread count, or None for the engine's default."""
        with self._lock:
            work = self._jobs[job_id]
            work.waiting.discard(position)
            clips, seconds = work.beside(position)
            for other_id, other in self._jobs.items():
                if other_id != job_id:
                    more, longer = other.beside()
                    clips, seconds = clips + more, seconds + longer
            work.rendering.add(position)
            duration = work.durations[position]
        queued = budget >= 2 and self.queued()
        lanes = budget if queued else min(budget, 1 + clips)
        share = self.cores // lanes
        if lanes < 2 or share < 1 or not (queued or seconds >= duration * (lanes - 1)):
            return self.alone
        return share

    def end(self, job_id: str, position: int) -> None:
        """Clip `position` of `job_id` rendered (or failed, or was never rendered)."""
        with self._lock:
            work = self._jobs.get(job_id)
            if work is not None:
                work.waiting.discard(position)
                work.rendering.discard(position)


@functools.cache
def core_share() -> CoreShare:
    """The process's core share, across all its jobs."""
    return CoreShare()
