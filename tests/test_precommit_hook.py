"""The pre-commit hook as a studio's profile repository runs it (`.pre-commit-hooks.yaml`: its entry
and arguments, run from the repository's root): it passes on the repository's first commit, which
holds only `.pre-commit-config.yaml`; and it validates the whole layered registry whichever files
changed, so a commit adding only a canonical profile that makes a bundled intent ambiguous fails,
naming that intent."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """repos:
  - repo: https://git.example.studio/proxx
    rev: v0.1.0
    hooks: [{id: proxx-validate}]
"""
AMBIGUOUS = """canonical_profile_version: "1.0"
id: studio_prores_lt_hd_pcm
engine: ffmpeg
codec: prores_lt
container: mov
resolution: fit_1920x1080
audio: pcm
"""


def run_hook(repository: Path, home: Path) -> subprocess.CompletedProcess[str]:
    (hook,) = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    # Whatever changed, the hook sees the whole repository: no file names are passed, and it runs
    # on every commit.
    assert (hook["pass_filenames"], hook["always_run"], hook["language"]) == (False, True, "python")
    command, *arguments = shlex.split(hook["entry"])
    assert command == "proxx"
    env = {**os.environ, "PROXX_HOME": str(home), "PROXX_LOAD_PLUGINS": "ffmpeg"}
    return subprocess.run(
        [sys.executable, "-m", "proxx", *arguments, *hook.get("args", [])],
        cwd=repository, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_hook_passes_on_a_first_commit_and_fails_a_canonical_only_change_naming_the_intent(tmp_path: Path) -> None:
    repository = tmp_path / "studio-profiles"
    repository.mkdir()
    (repository / ".pre-commit-config.yaml").write_text(CONFIG, encoding="utf-8")
    first = run_hook(repository, tmp_path / "home")
    assert first.returncode == 0, first.stdout + first.stderr

    (repository / "canonical").mkdir()
    (repository / "canonical" / "lt_hd_pcm.yaml").write_text(AMBIGUOUS, encoding="utf-8")
    second = run_hook(repository, tmp_path / "home")
    assert second.returncode == 3, second.stdout + second.stderr
    assert "[HD Editorial LT]" in second.stdout and "(ambiguous)" in second.stdout
    assert "profiles/user/hd_editorial_lt.yaml" in second.stdout
