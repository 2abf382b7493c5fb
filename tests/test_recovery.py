"""Recovery after a crash: `proxx run` SIGKILLed after it published some clips records what it
published (its result is written from the clips' journal when the job is found lost), `jobs show`
says so and lists the crashed clip's partial output, `jobs retry --run` makes only what is missing
and removes no partial output, and `jobs clean` removes partial outputs (and only them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from proxx.media.samples import make_clip
from tests.long_clip import make_long_clip

INTENT = "HD Editorial LT"
PROXX = [sys.executable, "-m", "proxx"]


def proxx(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROXX_HOME": str(home), "PROXX_PARALLEL_CLIPS": "1"}
    return subprocess.run([*PROXX, *args], capture_output=True, text=True, env=env, timeout=300)


def test_a_run_killed_after_a_publish_is_finished_by_a_retry(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    out.mkdir()
    sources = [
        make_clip(tmp_path / "src" / "A001_C001.mov", frames=4, audio=()),
        make_clip(tmp_path / "src" / "A001_C002.mov", frames=4, audio=()),
        make_long_clip(tmp_path / "src" / "A001_C003.mov", size="640x360", frames=300, audio=()),
    ]
    env = {**os.environ, "PROXX_HOME": str(home), "PROXX_PARALLEL_CLIPS": "1"}  # clips one at a time, in order
    run = subprocess.Popen(
        [*PROXX, "run", "--profile", INTENT, "--output", str(out), *map(str, sources)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120

        def journaled() -> int:  # clips the job's journal records: written just after each publish
            return sum(len(p.read_text().splitlines()) for p in home.glob("jobs/*/published.jsonl"))

        while not (journaled() == 2 and any(p.stat().st_size for p in out.glob(".proxx-partial-*/*"))):
            assert run.poll() is None and time.monotonic() < deadline, "the third clip never started rendering"
            time.sleep(0.02)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # `proxx run` and its encoder, as a power cut would
        run.wait()

    listed = json.loads(proxx(home, "jobs", "list", "--json").stdout)
    job_id = listed[0]["job_id"]
    assert (listed[0]["state"], listed[0]["reason"]) == ("FAILED", "worker lost")
    result = json.loads(Path(listed[0]["result_path"]).read_text())
    assert [c["state"] for c in result["clips"]] == ["completed", "completed", "failed"]
    text = proxx(home, "jobs", "show", job_id).stdout
    assert "Outcome   2 proxies published, 1 failed, 0 not run" in text
    partial = next(out.glob(".proxx-partial-*/*"))
    assert f"Partial   {partial}" in text

    retried = proxx(home, "jobs", "retry", job_id, "--run")
    assert retried.returncode == 0, retried.stderr
    assert "1 clip(s); 2 clip(s) already verified" in retried.stdout
    assert sorted(p.name for p in out.glob("*.mov")) == ["A001_C001.mov", "A001_C002.mov", "A001_C003.mov"]
    assert partial.exists(), "a retry removed the crashed attempt's partial output"
    verified = proxx(home, "fabric", "verify", job_id)  # Fabric knows what the killed job published
    assert "2 proxy(ies) checked: 2 intact" in verified.stdout, verified.stdout + verified.stderr

    cleaned = proxx(home, "jobs", "clean", job_id)
    assert cleaned.returncode == 0 and f"Removed   {partial}" in cleaned.stdout
    assert not partial.parent.exists()
    assert not [p for p in out.rglob("*") if "proxx-partial" in p.name]
    assert sorted(p.name for p in out.glob("*.mov")) == ["A001_C001.mov", "A001_C002.mov", "A001_C003.mov"]
    assert "Partial" not in proxx(home, "jobs", "show", job_id).stdout
