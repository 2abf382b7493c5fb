"""proxx as a studio installs it: the `proxx-media` source distribution and the wheel built from it,
installed into a fresh virtual environment together with an engine plugin's wheel, whose requirement
names that distribution; the bundled profiles and schemas come with it, and a clip renders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from proxx.plugin import probe
from proxx.testing import make_clip

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "proxx-media"  # "proxx" on the public index is another project


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """`command`, from outside the checkout unless told (`python -c` puts the working folder first
    on sys.path, where this checkout's own `proxx` would load)."""
    kwargs.setdefault("cwd", "/")
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload,no-any-return]


def test_the_sdist_and_wheel_install_into_a_fresh_venv_with_a_plugin_wheel(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(dist)], cwd=ROOT)
    (sdist,) = dist.glob("proxx_media-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert not [n for n in names if "/tests/" in n or "/plugins/" in n], "the sdist holds the core only"
    # The wheel is built from the sdist, not the checkout: a file the sdist forgets fails here.
    wheel_from = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist)]
    run([*wheel_from, str(sdist)])
    run([*wheel_from, str(ROOT / "plugins" / "ffmpeg")])
    (core,) = dist.glob("proxx_media-*.whl")
    (plugin,) = dist.glob("proxx_ffmpeg-*.whl")

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", str(core), str(plugin)])
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # Third-party dependencies (attrs, pluggy, ffmpeg...) come from this environment, after the fresh
    # one's own site-packages: proxx and the plugin themselves load from the wheels.
    outer = sysconfig.get_paths()["purelib"]
    Path(site, "outer.pth").write_text(f"import site; site.addsitedir({outer!r})\n", encoding="utf-8")
    where = run([python, "-c", "import proxx, proxx_ffmpeg; print(proxx.__file__); print(proxx_ffmpeg.__file__)"])
    assert all(line.startswith(site) for line in where.stdout.split()), where.stdout

    # The plugin's requirement names the distribution, and the installed version satisfies it.
    metadata = """import importlib.metadata as m, json
print(json.dumps([m.version("proxx-media"), m.requires("proxx-ffmpeg")]))"""
    version, requires = json.loads(run([python, "-c", metadata]).stdout)
    (wanted,) = [Requirement(r) for r in requires if Requirement(r).name == DISTRIBUTION]
    assert Version(version) in wanted.specifier

    env = {**os.environ, "PROXX_HOME": str(tmp_path / "home"), "PROXX_LOAD_PLUGINS": "ffmpeg"}
    registry = json.loads(run([python, "-m", "proxx", "registry", "--json"], env=env).stdout)
    assert "ffmpeg" in json.dumps(registry["engines"]) and registry["canonical_profiles"]
    source = make_clip(tmp_path / "media" / "A001.mov", size="320x180", frames=6)
    (tmp_path / "out").mkdir()
    command = [python, "-m", "proxx", "run", "--profile", "Review H.264", "--output", "out", str(source)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    video = probe(str(tmp_path / "out" / "A001.mp4")).video
    assert video is not None and video.codec == "h264"
