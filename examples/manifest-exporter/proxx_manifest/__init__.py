"""The manifest exporter: a CSV line per verified proxy of every finished job, in a `.manifest`
folder beside the proxies, for the editorial team's ingest script."""

from __future__ import annotations

import csv
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from proxx.plugin import ClipState, Exporter, JobResult, JobSpec, hookimpl

PROXX_PLUGIN_API = "1.1"  # the plugin API (proxx.plugin.API_VERSION) this plugin was built for
FOLDER = ".manifest"
# `proxx worker --concurrency N` and `proxx serve --workers N` call export for several jobs at once,
# from threads of one process: they append to a manifest one at a time.
APPENDING = threading.Lock()


COLUMNS = ["job", "intent", "source", "proxy", "bytes", "timecode", "frame_rate", "frames", "display_size"]


def export(spec: JobSpec, result: JobResult) -> dict[str, Any]:
    """Append the job's verified proxies to <output folder>/.manifest/proxies.csv."""
    done = [clip for clip in result.clips if clip.state == ClipState.COMPLETED and clip.facts is not None]
    if not done:  # a job without a verified proxy leaves the output folder as it found it
        return {"proxies": 0}
    folder = Path(spec.output_directory) / FOLDER
    folder.mkdir(exist_ok=True)
    manifest = folder / "proxies.csv"
    # Never through a link planted at its name (the output folder may be writable by others).
    descriptor = os.open(manifest, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with APPENDING, open(descriptor, "a", newline="", encoding="utf-8") as handle:
        if sys.platform != "win32":  # and across processes (a farm worker's pool): released on close
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        writer = csv.writer(handle)
        if handle.seek(0, os.SEEK_END) == 0:  # asked under the lock: one header, however many jobs append
            writer.writerow(COLUMNS)
        for clip in done:
            facts = clip.facts  # typed values read from the proxy and its source: no probing here
            assert facts is not None
            writer.writerow([
                result.job_id, result.proxy_profile_origin.name, clip.source, clip.output, clip.output_bytes,
                facts.proxy_timecode or "", facts.frame_rate, facts.frame_count,
                f"{facts.display_width}x{facts.display_height}",
            ])  # fmt: skip
    return {"manifest": str(manifest), "proxies": len(done)}  # recorded in the result's `exports`


@hookimpl
def proxx_exporters() -> Iterator[Exporter]:
    yield Exporter("manifest", export, beside_outputs=(FOLDER,))
