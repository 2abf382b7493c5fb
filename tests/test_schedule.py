"""How a job's clips share the cores: each render's thread count, and what reaches ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxx import Proxx
from proxx.execute import schedule
from proxx.execute.schedule import CoreShare
from proxx.plugin import COMPLETED
from proxx.testing import make_clip


def test_equal_clips_side_by_side_each_get_their_share_until_the_last_would_render_alone():
    done = [0.0] * 4
    share = CoreShare([1.0] * 4, lanes=2, done=done, cores=8)
    assert share.start(0) == 4 and share.start(1) == 4
    done[0] = 1.0
    share.end(0)
    assert share.start(2) == 4  # clip 3 is still to come, clip 1 still rendering
    share.end(1)
    done[2] = 0.5
    assert share.start(3) is None  # half a clip left beside it: the last one takes every core


def test_a_long_clip_beside_short_ones_keeps_every_thread():
    share = CoreShare([600.0, 5.0, 5.0, 5.0], lanes=2, done=[0.0] * 4, cores=2)
    assert share.start(0) is None  # 15 s of other work cannot keep the other core busy for 10 min
    assert share.start(1) == 1  # the long clip renders beside it for longer than it lasts


@pytest.mark.parametrize(("lanes", "cores"), [(1, 8), (4, 2)])
def test_no_share_when_clips_render_one_at_a_time_or_outnumber_the_cores(lanes, cores):
    assert CoreShare([1.0] * 8, lanes=lanes, done=[0.0] * 8, cores=cores).start(0) is None


def test_clips_never_rendered_are_not_counted_as_work_to_come():
    share = CoreShare([1.0, 1.0, 1.0], lanes=2, done=[0.0] * 3, cores=2)
    share.end(1)  # refused by validation, or not run
    share.end(2)
    assert share.start(0) is None


def _commands(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("$ ")]


def test_ffmpeg_gets_the_share_for_decoding_and_encoding(tmp_path, proxx_home, monkeypatch):
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", "2")
    monkeypatch.setattr(schedule.os, "cpu_count", lambda: 4)
    sources = [make_clip(tmp_path / "src" / f"A001_C00{n}.mov", frames=6) for n in range(1, 5)]
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", sources, out)
    result = proxx.run_job(spec.job_id)
    assert result.state == COMPLETED, result.failure
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
    assert result.state == COMPLETED, result.failure
    assert "-threads" not in _commands(Path(result.log_path))[0].split()
