"""The docs tried from the reader's side: an engine and an exporter written from README.md and docs/
alone (`examples/from-the-docs/`), each built as a wheel, installed with proxx's own wheel into a
fresh virtual environment, and their own tests run there: the engine passes the conformance suite,
the exporter writes its ALE from the clips' facts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "examples" / "from-the-docs"


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("cwd", "/")  # never this checkout: `python -c` would import its proxx first
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload,no-any-return]


def test_an_engine_and_an_exporter_from_the_docs_pass_their_tests_from_wheels_in_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels)]
    run([*build, str(ROOT), str(PLUGINS / "mpeg4-engine"), str(PLUGINS / "ale-exporter")])
    built = sorted(p.name for p in wheels.glob("*.whl"))
    assert [name.split("-")[0] for name in built] == ["proxx_media", "studio_ale_exporter", "studio_mpeg4_engine"]

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            *map(str, wheels.glob("*.whl")),
        ]
    )
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    outer = sysconfig.get_paths()["purelib"]  # pytest, attrs, the bundled ffmpeg plugin...: after the wheels
    Path(site, "outer.pth").write_text(f"import site; site.addsitedir({outer!r})\n", encoding="utf-8")
    where = run(
        [
            python,
            "-c",
            "import proxx, proxx_mpeg4, proxx_ale; print(proxx.__file__, proxx_mpeg4.__file__, proxx_ale.__file__)",
        ]
    )
    assert all(path.startswith(site) for path in where.stdout.split()), where.stdout
    metadata = """import importlib.metadata as m, json
print(json.dumps([m.version("proxx-media"), m.requires("studio-mpeg4-engine"), m.requires("studio-ale-exporter")]))"""
    version, *requires = json.loads(run([python, "-c", metadata]).stdout)
    for needs in requires:
        (wanted,) = [Requirement(r) for r in needs if Requirement(r).name == "proxx-media"]
        assert Version(version) in wanted.specifier

    tests = tmp_path / "plugin-tests"
    for plugin in ("mpeg4-engine", "ale-exporter"):
        shutil.copytree(PLUGINS / plugin / "tests", tests / plugin)
    env = {**os.environ, "PROXX_LOAD_PLUGINS": "mpeg4,ale,ffmpeg", "PROXX_HOME": str(tmp_path / "home")}
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "9 passed" in done.stdout, done.stdout[-2000:]  # 7 conformance checks, the engine's own, the ALE
