"""What `proxx run` does before its first encode that a run does not need: each import below is
serial start-up time of every job (issue 28's batch ratios)."""

from __future__ import annotations

import subprocess
import sys

from proxx.media.samples import make_clip

# Never imported by a run of an ffmpeg intent without a configuration file: the TOML parser (read only
# when `proxx.toml` exists), and the Resolve plugin's bridge client, scripting-module search and
# settings (used only by a Resolve job or check). The plugin itself still loads through its entry point.
NOT_IMPORTED = ("tomllib", "proxx_resolve.client", "proxx_resolve.locate", "proxx_resolve.settings", "uuid")
LOADED = ("proxx_resolve.plugin", "proxx_resolve.engine", "proxx_fabric.mhl")


def test_proxx_run_imports_only_what_a_run_uses(tmp_path, proxx_home):
    clip = make_clip(tmp_path / "A001.mov", frames=2, size="64x36")
    (tmp_path / "out").mkdir()
    command = ["run", "--profile", "HD Editorial LT", str(clip), "--output", str(tmp_path / "out")]
    code = (
        f"import sys; from proxx.cli import main; code = main({command!r}); "
        f"print(sorted(m for m in {NOT_IMPORTED!r} if m in sys.modules), "
        f"sorted(m for m in {LOADED!r} if m in sys.modules)); sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == f"[] {sorted(LOADED)!r}", done.stdout
    assert "COMPLETED: 1 verified proxy published with 'HD Editorial LT'." in done.stdout
    assert (tmp_path / "out" / "A001.mov").is_file()
