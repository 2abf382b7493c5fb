"""How a job's clips share the cores: each render's thread count, and what reaches ffmpeg."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.execute import schedule
from proxx.execute.schedule import CoreShare
from proxx.plugin import JobState
from proxx.testing import make_clip


def test_equal_clips_side_by_side_each_get_their_share_until_the_last_would_render_alone():
    done = [0.0] * 4
    share = CoreShare(cores=8)
    share.add_job("J", [1.0] * 4, done, lanes=2)
    assert share.start("J", 0, budget=2) == 4 and share.start("J", 1, budget=2) == 4
    done[0] = 1.0
    share.end("J", 0)
    assert share.start("J", 2, budget=2) == 4  # clip 3 is still to come, clip 1 still rendering
    share.end("J", 1)
    done[2] = 0.5
    assert share.start("J", 3, budget=2) is None  # half a clip left beside it: the last one takes every core


def test_two_clips_on_many_cores_split_them_between_them():
    share = CoreShare(cores=8)
    share.add_job("J", [1.0, 1.0], [0.0, 0.0], lanes=2)
    assert share.start("J", 0, budget=4) == 4  # two renders at most, not the budget's four


def test_a_long_clip_beside_short_ones_keeps_every_thread():
    share = CoreShare(cores=2)
    share.add_job("J", [600.0, 5.0, 5.0, 5.0], [0.0] * 4, lanes=2)
    assert share.start("J", 0, budget=2) is None  # 15 s of other work cannot keep the other core busy
    assert share.start("J", 1, budget=2) == 1  # the long clip renders beside it for longer than it lasts


@pytest.mark.parametrize(("budget", "cores"), [(1, 8), (4, 2)])
def test_no_share_when_clips_render_one_at_a_time_or_outnumber_the_cores(budget, cores):
    share = CoreShare(cores=cores)
    share.add_job("J", [1.0] * 8, [0.0] * 8, lanes=budget)
    assert share.start("J", 0, budget=budget) is None


def test_an_engine_rendering_one_clip_at_a_time_keeps_every_thread():
    share = CoreShare(cores=2)
    share.add_job("J", [1.0] * 8, [0.0] * 8, lanes=1)  # Resolve: its other clips never render beside
    assert share.start("J", 0, budget=2) is None


def test_clips_never_rendered_are_not_counted_as_work_to_come():
    share = CoreShare(cores=2)
    share.add_job("J", [1.0, 1.0, 1.0], [0.0] * 3, lanes=2)
    share.end("J", 1)  # refused by validation, or not run
    share.end("J", 2)
    assert share.start("J", 0, budget=2) is None


def test_jobs_of_one_process_share_the_cores_while_more_are_queued():
    share = CoreShare(cores=2)
    share.add_job("A", [1.0], [0.0], lanes=1)
    share.add_job("B", [1.0], [0.0], lanes=1)
    assert share.start("A", 0, budget=2) == 1  # job B's clip will render beside it
    queue = [True]
    share.queued = lambda: queue[0]
    share.remove_job("B")
    share.add_job("C", [1.0], [0.5], lanes=1)
    share.start("C", 0, budget=2)
    share.add_job("D", [1.0], [0.0], lanes=1)
    assert share.start("D", 0, budget=2) == 1  # more jobs wait: the cores stay busy
    queue[0] = False
    share.end("A", 0)
    share.remove_job("A")
    share.add_job("E", [4.0], [0.0], lanes=1)
    assert share.start("E", 0, budget=2) is None  # the queue is empty: the last long clip takes every core


def _commands(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("$ ")]


def test_ffmpeg_gets_the_share_for_decoding_and_encoding(tmp_path, proxx_home, monkeypatch):
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", "2")
    monkeypatch.setattr(schedule.core_share(), "cores", 4)  # the process-wide share
    sources = [make_clip(tmp_path / "src" / f"A001_C00{n}.mov", frames=6) for n in range(1, 5)]
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", sources, out)
    result = proxx.run_job(spec.job_id)
    assert result.state == JobState.COMPLETED, result.failure
    commands = _commands(Path(result.log_path))
    assert len(commands) == 4
    first = commands[0].split()
    assert first.count("-threads") == 2
    assert first[first.index("-threads") + 1] == "2"
    assert first.index("-threads") < first.index("-i")  # the decoder's
    assert first.index("-threads", first.index("-i")) < first.index("-f", first.index("-i"))  # the encoder's


def test_a_clip_rendering_alone_gets_no_limit(tmp_path, proxx_home):
    source = make_clip(tmp_path / "src" / "A001_C001.mov", frames=6)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job("HD Editorial LT", [source], out).job_id)
    assert result.state == JobState.COMPLETED, result.failure
    assert "-threads" not in _commands(Path(result.log_path))[0].split()


def cgroups(root: Path, memberships: str, files: dict[str, str]) -> Path:
    """A /proc/self/cgroup and /sys/fs/cgroup as the kernel shows them, under `root`."""
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text(memberships)
    for name, text in files.items():
        path = root / "sys/fs/cgroup" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cgroup_v2_quota_anywhere_above_the_process_limits_its_cores(tmp_path):
    root = cgroups(tmp_path, "0::/farm.slice/worker-1\n", {
        "cpu.stat": "",  # the root cgroup has no cpu.max
        "farm.slice/cpu.max": "150000 100000\n",  # a limit of 1.5 cores on the farm's slice
        "farm.slice/worker-1/cpu.max": "max 100000\n",
    })  # fmt: skip
    assert schedule.cgroup_cpu_quota(root) == 1.5
    assert schedule.usable_cores(root) == 1  # whole cores only: a second render would be throttled


def test_a_container_sees_its_cgroup_v1_quota_at_the_root_of_its_mount(tmp_path):
    root = cgroups(tmp_path, "12:memory:/docker/0a1b\n4:cpu,cpuacct:/docker/0a1b\n", {
        "cpu,cpuacct/cpu.cfs_quota_us": "200000\n",
        "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
    })  # fmt: skip
    assert schedule.cgroup_cpu_quota(root) == 2.0


@pytest.mark.parametrize("files", [
    {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"},  # v1: no quota
    {"cpu/cpu.cfs_quota_us": "garbled"},
    {},
])  # fmt: skip
def test_no_quota_leaves_the_cores_the_affinity_allows(tmp_path, files):
    root = cgroups(tmp_path, "3:cpuset:/\n1:cpu:/\n", files)
    assert schedule.cgroup_cpu_quota(root) is None
    assert schedule.usable_cores(root) == len(os.sched_getaffinity(0))


def test_no_cgroups_to_read_is_no_quota(tmp_path):
    assert schedule.cgroup_cpu_quota(tmp_path) is None
    assert schedule.cgroup_cpu_quota(cgroups(tmp_path, "garbled\n\n", {"cpu.max": "100000 100000"})) is None


def test_the_render_budget_and_each_share_count_the_cores_the_process_may_use(monkeypatch):
    monkeypatch.delenv("PROXX_PARALLEL_CLIPS", raising=False)
    monkeypatch.setattr(schedule, "usable_cores", lambda: 3)  # a quota of 3 on a bigger machine
    assert schedule.parallel_budget() == 3
    assert CoreShare().cores == 3


def test_a_render_alone_under_a_quota_threads_for_the_cores_the_quota_allows(monkeypatch):
    """ffmpeg threads itself for every core of the affinity: under a quota of 2 of 16 it would run
    16 threads and be throttled."""
    monkeypatch.setattr(schedule, "usable_cores", lambda: 2)
    monkeypatch.setattr(schedule, "affinity_cores", lambda: 16)
    share = CoreShare()
    share.add_job("J", [1.0], [0.0], lanes=2)
    assert share.start("J", 0, budget=2) == 2
    monkeypatch.setattr(schedule, "affinity_cores", lambda: 2)  # no quota below the affinity
    alone = CoreShare()
    alone.add_job("J", [1.0], [0.0], lanes=2)
    assert alone.start("J", 0, budget=2) is None  # ffmpeg's own choice, as ever
