"""A JobSpec inbox at facility size: 1,000 JobSpec files dropped at once, drained without
quadratic work.

    .venv/bin/python benchmarks/inbox_scale.py [--files 1000]

Drops `--files` JobSpecs (each for its own source, as an upstream system would) into an inbox in ten
equal batches, each drained by one `JobSpecInbox.poll()` pass that checks every file as untrusted and
queues it. Prints the time per file of the first and the last batch and their ratio (quadratic work
would make the last batch, facing a store and ledger of 900 earlier jobs, cost more), proxx's own
CPU a file in both apart from ffprobe's, the process's peak memory, then one pass over the drained
inbox. Core count and load printed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from measure import peak_mib, tools_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="proxx-inbox-") as tmp:
        root = Path(tmp)
        os.environ["PROXX_HOME"] = str(root / "home")
        from proxx import Proxx
        from proxx.jobspec.model import create_jobspec, utc_now
        from proxx.media.samples import make_clip
        from proxx.roots import Roots
        from proxx.watch.watcher import JobSpecInbox

        media, out, inbox = root / "media", root / "out", root / "inbox"
        for folder in (media, out, inbox):
            folder.mkdir()
        clip = make_clip(root / "clip.mov", frames=2)
        proxx = Proxx.open()
        compiled = proxx.select("HD Editorial LT")
        requires = proxx.requirements(compiled.canonical.engine)
        box = JobSpecInbox(proxx, inbox, Roots([media, out]), settle=0)
        batch = max(1, args.files // 10)
        per_file: list[float] = []
        cpu_per_file: list[float] = []  # proxx's own, in this process; ffprobe's apart
        probes_cpu = 0.0
        queued = 0
        for first in range(0, args.files, batch):
            for n in range(first, min(args.files, first + batch)):
                source = media / f"A{n:05d}_C001.mov"
                os.link(clip, source)  # a real clip (each new job is validated), probed once: one inode
                spec = create_jobspec(compiled, [source], out, utc_now(), requires)
                (inbox / f"{spec.job_id}.json").write_text(spec.to_json(), encoding="utf-8")
            started, cpu, tools = time.perf_counter(), time.process_time(), tools_cpu()
            events = box.poll()
            per_file.append((time.perf_counter() - started) / max(1, len(events)))
            cpu_per_file.append((time.process_time() - cpu) / max(1, len(events)))
            probes_cpu += tools_cpu() - tools
            queued += sum(e.outcome == "queued" for e in events)
        print(f"{queued} of {args.files} queued in batches of {batch}")
        print(
            f"per file: first batch {per_file[0] * 1000:.2f} ms, last batch {per_file[-1] * 1000:.2f} ms, "
            f"ratio {per_file[-1] / per_file[0]:.2f}"
        )
        print(
            f"proxx's own CPU a file: first batch {cpu_per_file[0] * 1000:.2f} ms, last batch "
            f"{cpu_per_file[-1] * 1000:.2f} ms; ffprobe's {probes_cpu:.2f} s in all; "
            f"peak memory {peak_mib():.0f} MiB"
        )
        started = time.perf_counter()
        again = box.poll()
        print(f"drained inbox, one more pass: {len(again)} events in {time.perf_counter() - started:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
