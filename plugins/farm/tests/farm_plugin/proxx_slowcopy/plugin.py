"""The `slowcopy` engine: "renders" by copying the source in chunks, reporting progress. A source
named like `A001.slow30.mov` takes 30 seconds, long enough to kill its worker mid-encode; one named
like `A001.slowcheck30.mov` takes 30 seconds to validate (a check of a slow share), long enough to
kill its worker while it checks the job."""

from __future__ import annotations

import re
import time
from pathlib import Path

from proxx.plugin import Availability, Engine, RenderReport, RenderTask, hookimpl

PROXX_PLUGIN_API = "1.0"  # the plugin API (proxx.plugin.API_VERSION) this plugin was built for

CHUNKS = 100


class SlowCopy(Engine):
    name = "slowcopy"
    display_name = "SlowCopy"

    def availability(self) -> Availability:
        return Availability(True, version="1.0")

    def render(self, task: RenderTask) -> RenderReport:
        data = Path(task.clip.source).read_bytes()
        slow = re.search(r"\.slow(\d+)\.", Path(task.clip.source).name)
        pause = int(slow.group(1)) / CHUNKS if slow else 0.0
        step = max(1, len(data) // CHUNKS + 1)
        with open(task.partial_path, "wb") as out:
            for n, start in enumerate(range(0, len(data), step)):
                out.write(data[start : start + step])
                out.flush()
                task.progress(min(1.0, (n + 1) * step / len(data)))
                if task.is_cancelled():  # stopped as an encoder is: the runner removes what was written
                    break
                time.sleep(pause)
        return RenderReport("1.0", {"chunks": CHUNKS})


@hookimpl
def proxx_engines():
    yield SlowCopy()


@hookimpl
def proxx_validate_job(spec, sources):
    for clip in spec.clips:
        slow = re.search(r"\.slowcheck(\d+)\.", Path(clip.source).name)
        if slow:
            time.sleep(int(slow.group(1)))
    return ()


@hookimpl
def proxx_canonical_profiles():
    return [Path(__file__).parent / "canonical"]
