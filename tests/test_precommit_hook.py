"""The pre-commit hook as a studio's profile repository runs it (`.pre-commit-hooks.yaml`: its entry
and arguments, run from the repository's root): it passes on the repository's first commit, which
holds only `.pre-commit-config.yaml`; and it validates the whole layered registry whichever files
changed, so a commit adding only a canonical profile that makes a bundled intent ambiguous fails,
naming that intent. And the README's set-up as pre-commit itself runs it: `rev:` a commit id of
this repository, proxx installed from it into the hook's own environment."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_the_readme_set_up_runs_under_pre_commit_pinned_to_a_commit_id(tmp_path: Path) -> None:
    """The README's `.pre-commit-config.yaml`, with `repo:` this checkout and `rev:` its commit
    (the committed tree, as a studio's pre-commit fetches it), and the FFmpeg plugin from its folder."""
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (it is in the dev extra)")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (snippet,) = re.findall(r"```yaml\n(repos:\n.*?)```", readme, re.DOTALL)
    (config,) = YAML(typ="safe").load_all(snippet)
    (hook,) = config["repos"][0]["hooks"]
    assert re.fullmatch(r"[0-9a-f]{40}", config["repos"][0]["rev"]), "the README pins a full commit id"
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    config["repos"][0].update(repo=str(ROOT), rev=commit.stdout.strip())
    hook["additional_dependencies"] = [str(ROOT / "plugins" / "ffmpeg")]

    studio = tmp_path / "studio-profiles"
    studio.mkdir()
    lines = ["repos:", f"  - repo: {config['repos'][0]['repo']}", f"    rev: {config['repos'][0]['rev']}"]
    lines += [
        "    hooks:",
        f"      - id: {hook['id']}",
        f"        additional_dependencies: {hook['additional_dependencies']}",
    ]
    (studio / ".pre-commit-config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"), "PROXX_HOME": str(tmp_path / "home")}
    env.pop("PROXX_LOAD_PLUGINS", None)

    def commit_and_run() -> subprocess.CompletedProcess[str]:
        subprocess.run(["git", "add", "-A"], cwd=studio, check=True)
        run = [pre_commit, "run", "--all-files", "--color", "never"]
        return subprocess.run(run, cwd=studio, env=env, capture_output=True, text=True, timeout=280)

    subprocess.run(["git", "init", "-q"], cwd=studio, check=True)
    first = commit_and_run()
    assert first.returncode == 0, first.stdout + first.stderr
    (studio / "canonical").mkdir()
    (studio / "canonical" / "lt_hd_pcm.yaml").write_text(AMBIGUOUS, encoding="utf-8")
    second = commit_and_run()
    assert second.returncode == 1 and "[HD Editorial LT]" in second.stdout, second.stdout + second.stderr
