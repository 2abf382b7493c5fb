"""Nothing Linux-only at import time: every module of proxx and its bundled plugins imports where
`os.uname`, `os.posix_fallocate`, `fcntl` and `prctl` (PR_SET_PDEATHSIG) do not exist, as on
Windows, where Resolve studios run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PACKAGES = ["proxx", "proxx_ffmpeg", "proxx_fabric", "proxx_resolve"]


def test_every_module_imports_without_linux_only_calls():
    script = textwrap.dedent(
        f"""
        import ctypes, importlib, os, pkgutil, sys

        # Third-party libraries pick their own platform branch by sys.platform: load theirs first,
        # then take away what proxx's own code must not need.
        for library in ("celery", "celery.app.base", "billiard", "redis", "kombu", "fastapi", "uvicorn", "ascmhl"):
            importlib.import_module(library)
        del os.uname
        del os.posix_fallocate
        sys.modules["fcntl"] = None  # `import fcntl` raises ImportError, as on Windows

        class NoLibc:
            def __init__(self, *args, **kwargs):
                raise OSError("no C library by that name here")

        ctypes.CDLL = NoLibc  # no prctl, so no PR_SET_PDEATHSIG
        imported = 0
        for name in {PACKAGES!r}:
            package = importlib.import_module(name)
            for info in pkgutil.walk_packages(package.__path__, name + "."):
                if ".testing" in info.name or info.name.endswith("__main__"):
                    continue  # pytest's plugin kit; `python -m proxx` runs the CLI
                importlib.import_module(info.name)
                imported += 1
        print(imported)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 80
