"""The tutorial's example plugin as a studio ships it: built as a wheel from its pyproject alone,
installed into a fresh virtual environment, and its intent run from there (an editable install
would hide a pyproject that forgets the profile files)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from proxx.plugin import probe
from proxx.testing import make_clip

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "inhouse-engine"
INTENT = """user_profile_version: "1.1"
name: Review HEVC
constraints:
  codecs: [hevc]
  resolution: [scale_25]
"""


def test_the_example_builds_as_a_wheel_that_works_from_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(EXAMPLE)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("*.whl")
    assert "proxx_inhouse/profiles/inhouse_hevc_quarter.yaml" in zipfile.ZipFile(wheel).namelist()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    # proxx and its dependencies come from this environment's site-packages, after the fresh one's
    # own: the wheel's copy of the plugin, not the editable one, is what loads.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    outer = sysconfig.get_paths()["purelib"]
    Path(site, "outer.pth").write_text(f"import site; site.addsitedir({outer!r})\n", encoding="utf-8")

    where = subprocess.run(
        [str(python), "-c", "import proxx_inhouse; print(proxx_inhouse.__file__)"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert where.startswith(site), where

    (tmp_path / "studio" / "user").mkdir(parents=True)
    (tmp_path / "studio" / "user" / "review_hevc.yaml").write_text(INTENT, encoding="utf-8")
    source = make_clip(tmp_path / "media" / "A001.mov", size="640x360", frames=12)
    (tmp_path / "out").mkdir()
    env = {**os.environ, "PROXX_HOME": str(tmp_path / "home"), "PROXX_PROFILES": "studio"}  # the installation's
    run = [str(python), "-m", "proxx", "run", "--profile", "Review HEVC", "--output", "out"]
    done = subprocess.run([*run, str(source)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    video = probe(str(tmp_path / "out" / "A001.mp4")).video
    assert video is not None and (video.codec, video.width, video.height) == ("hevc", 160, 90)
