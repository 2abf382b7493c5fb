import csv
from collections.abc import Callable
from pathlib import Path

import proxx_manifest

from proxx import Proxx
from proxx.testing import JobOutcome

# The kit's fixtures, as a test checked with mypy --strict annotates them.
Open = Callable[..., Proxx]
Clip = Callable[..., Path]
Run = Callable[..., JobOutcome]


def test_a_finished_job_lands_in_the_manifest(
    manifest_plugin: object, proxx_open: Open, proxx_clip: Clip, proxx_run: Run
) -> None:
    app = proxx_open()
    outcome = proxx_run(app, "Review H.264", [proxx_clip(size="160x90", frames=12)])
    assert outcome.row.state == "COMPLETED", outcome.why
    (exported,) = [e for e in outcome.result.exports if e.exporter == "manifest"]
    assert exported.ok and exported.details["proxies"] == 1
    with open(exported.details["manifest"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["job"], r["intent"], r["proxy"]) for r in rows] == [
        (outcome.row.job_id, "Review H.264", str(outcome.outputs[0]))
    ]
    assert [(r["timecode"], r["frame_rate"], r["frames"], r["display_size"]) for r in rows] == [
        ("01:00:00:00", "24000/1001", "12", "80x46")
    ]


def test_a_failed_job_adds_no_line(
    manifest_plugin: object, proxx_open: Open, proxx_clip: Clip, proxx_run: Run, tmp_path: Path
) -> None:
    app = proxx_open()
    broken = tmp_path / "broken.mov"
    broken.write_bytes(b"not a movie")
    outcome = proxx_run(app, "Review H.264", [broken])
    assert outcome.row.state == "FAILED"
    (exported,) = [e for e in outcome.result.exports if e.exporter == "manifest"]
    assert exported.details["proxies"] == 0
    assert not (tmp_path / "out" / proxx_manifest.FOLDER).exists()
