"""The progress an operator sees: the clip by name ("3/10 A001C004.mov") and a time left taken from
the encoding rate, not from a start-up that encoded nothing."""

from __future__ import annotations

import pytest

from proxx.cli.jobs import ProgressBar
from proxx.execute import progress as progress_module
from proxx.execute.progress import Progress, ProgressMeter


class FakeStore:
    def __init__(self) -> None:
        self.written: list[tuple[float, float | None, int | None]] = []

    def progress(self, job_id: str, fraction: float, eta: float | None, clip_index: int | None) -> None:
        self.written.append((fraction, eta, clip_index))


def test_the_eta_comes_from_the_encoding_rate_and_the_clip_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    seen: list[Progress] = []
    store = FakeStore()
    meter = ProgressMeter(store, "job", [1.0], seen.append, ["A001C001.mov"])  # type: ignore[arg-type]
    report = meter.for_clip(0, 0)
    clock[0] = 110.0  # ten seconds of probing and engine start-up: nothing encoded yet
    report(0.2)
    clock[0] = 112.0
    report(0.6)  # 0.4 of the job in 2 s
    assert [p.eta_seconds for p in seen] == [None, pytest.approx(2.0)]  # not 12 s / 0.6 * 0.4 = 8 s from the start
    assert [(p.clip_index, p.clips, p.clip_name) for p in seen] == [(0, 1, "A001C001.mov")] * 2


def test_clips_rendering_side_by_side_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    meter = ProgressMeter(FakeStore(), "job", [1.0, 3.0], None)  # type: ignore[arg-type]
    first, second = meter.for_clip(0, 0), meter.for_clip(1, 1)
    first(0.5)
    clock[0] += 1
    second(0.5)  # 0.5 x 1 + 0.5 x 3 of 4
    clock[0] += 1
    first(1.0)
    assert [round(w[0], 3) for w in meter.store.written] == [0.125, 0.5, 0.625]  # type: ignore[attr-defined]


def test_the_bar_names_the_clip(capsys: pytest.CaptureFixture[str]) -> None:
    bar = ProgressBar()
    bar.enabled = True
    bar(Progress("job", 0.25, 83.0, 2, 10, "A001C004.mov"))
    line = capsys.readouterr().err
    assert "3/10 A001C004.mov" in line and "ETA 0:01:23" in line and " 25%" in line


def test_the_bar_shows_a_clip_name_that_holds_escape_sequences_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    """The bar wrote the clip's name as it is to the operator's terminal: a card's file named with an
    OSC sequence set the window's title, one with ESC [2J cleared the screen (seen under a pty)."""
    bar = ProgressBar()
    bar.enabled = True
    bar(Progress("job", 0.25, None, 0, 1, "x\x1b]0;PWNED\x07\x1b[2J\r\u202e.mov"))
    line = capsys.readouterr().err
    assert "1/1 x\\x1b]0;PWNED\\x07\\x1b[2J\\x0d\\u202e.mov" in line, repr(line)
    assert line.count("\x1b") == 1 and line.endswith("\x1b[K")  # the bar's own erase-to-end only


def test_the_bar_counts_forward_while_clips_render_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    bar = ProgressBar()
    bar.enabled = True
    for index, name in ((2, "C0003.MXF"), (1, "VFR_0002.MOV"), (2, "C0003.MXF"), (1, "VFR_0002.MOV")):
        bar(Progress("job", 0.5, None, index, 5, name))
    shown = [line for line in capsys.readouterr().err.split("\r") if line]
    assert all("3/5 C0003.MXF" in line for line in shown)  # never back to 2/5


def test_an_integrators_progress_callback_that_raises_never_fails_the_render(
    proxx_open, proxx_clip, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """`run_job(on_progress=...)` calls the integrator's callback from the engine's thread: one that
    raised (a display's bug) failed the job in class C as "The renderer stopped with an error". Now
    it is told once, in the log, and the job goes on without it."""
    app = proxx_open()
    (tmp_path / "out").mkdir()
    calls: list[Progress] = []

    def display(progress: Progress) -> None:
        calls.append(progress)
        raise ValueError("the display went away")

    spec = app.create_job("Review H.264", [proxx_clip("A001.mov", frames=12), proxx_clip("A002.mov")], tmp_path / "out")
    with caplog.at_level("WARNING", logger="proxx.execute"):
        result = app.run_job(spec.job_id, on_progress=display)
    assert result is not None and result.state == "COMPLETED", result.failure
    assert len(calls) == 1
    (said,) = [r.getMessage() for r in caplog.records if "on_progress" in r.getMessage()]
    assert said == (
        f"job {spec.job_id}: its on_progress callback raised ValueError: the display went away; "
        "the job goes on without reporting to it"
    )
