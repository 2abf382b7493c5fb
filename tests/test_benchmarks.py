"""The benchmark scripts run (with small sizes) so that the figures in the README stay reproducible."""

from __future__ import annotations

from tests.benchmarks import run_benchmark


def test_validate_benchmark_runs():
    assert "40 intent(s) compile: ok" in run_benchmark("validate_1000.py", "--profiles", "40", "--runs", "1")


def test_engine_benchmark_runs():
    options = ["--quick", "--runs", "1", "--skip-ks", "--plugins", "ffmpeg", "--only", "proxy_h264_quarter"]
    out = run_benchmark("engine_overhead.py", *options, timeout=240)
    row = next(line for line in out.splitlines() if "proxy_h264_quarter" in line)
    assert len(row.split()) == 9, row  # profile, then bare, CLI, API for the clip and for the batch


def test_cli_startup_benchmark_runs():
    out = run_benchmark("cli_startup.py", "--runs", "1")
    assert "overhead" in out and "proxx loaded" in out and "start ffmpeg" in out


def test_mhl_benchmark_runs():
    out = run_benchmark("mhl_generations.py", "--jobs", "30", "--sample", "5")
    assert "ratio" in out and "ascmhl create: exit 0" in out


def test_batch_benchmark_runs():
    out = run_benchmark("batch.py", "--quick", "--runs", "1", timeout=240)
    assert "/xargs" in out and "3 x 6 frames" in out


def test_watch_scale_benchmark_runs():
    out = run_benchmark("watch_scale.py", "--files", "40", "--small", "20")
    assert "40 files, first pass: 40 queued" in out and "40 files, second pass: 0 queued" in out and "ratio" in out
    assert "proxx's own CPU" in out and "ffprobe's" in out


def test_store_scale_benchmark_runs():
    out = run_benchmark("store_scale.py", "--jobs", "200", "--runs", "1")
    assert "jobs list" in out and "jobs show" in out


def test_inbox_scale_benchmark_runs():
    out = run_benchmark("inbox_scale.py", "--files", "20")
    assert "20 of 20 queued" in out and "ratio" in out
    assert "proxx's own CPU" in out and "peak memory" in out


def test_worker_batch_benchmark_runs():
    out = run_benchmark("worker_batch.py", "--clips", "3", "--size", "320x180", "--runs", "1", timeout=240)
    assert "worker --concurrency 2" in out and "x seq" in out


def test_card_benchmark_runs():
    out = run_benchmark("card_1000.py", "--clips", "20", "--small", "2", "--runs", "1", timeout=240)
    assert "result JSON written" in out and "ratio" in out and "jobs show" in out and "20 clip sections" in out
    assert "API job: first" in out and "API result: first" in out


def test_long_source_benchmark_runs():
    out = run_benchmark("long_source.py", "--minutes", "0.3", "--short", "0.1", timeout=240)
    assert "ratio" in out and "FAILED (cancelled by the operator)" in out and "outputs left: 0, files left: []" in out


def test_folder_expansion_benchmark_runs():
    out = run_benchmark("folder_expansion.py", "--files", "30")
    assert (
        "36 files on the card, 30 clips in the job (6 left out)" in out and "30 of 30 sources probed, at most 1x" in out
    )
    assert "proxx's own CPU" in out and "peak memory" in out


def test_run_path_benchmark_runs():
    out = run_benchmark("run_path.py")
    assert "proxx run exit 0" in out and "hops through" in out and "modules that ran a function" in out


def test_result_json_benchmark_runs():
    out = run_benchmark("result_json.py", "--clips", "20", "--runs", "1")
    assert "write_json_atomically:" in out and "json.dump(indent=2):" in out and "ratio" in out
