"""The journal of a job's published proxies (`published.jsonl` in the job's folder, a JSON line a
clip, appended and synced as each proxy is published: `proxx.execute.recover`), read without the
modules a run needs: `jobs show` and the web page of a running job say what it published so far."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from proxx.folders import read_own

JOURNAL = "published.jsonl"


def journal_lines(job_dir: Path) -> Iterator[Any]:
    """Each line of the job's journal, parsed; a line that is not JSON (cut by a crash) is skipped. Only
    proxx's own journal is read (`proxx.folders.read_own`): one someone else put in the job's folder,
    or a link there, would name what counts as published."""
    text = ""
    with contextlib.suppress(OSError):
        text = (read_own(job_dir / JOURNAL) or b"").decode("utf-8", errors="replace")
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            yield json.loads(line)


def published_so_far(job_dir: Path) -> dict[int, str]:
    """Each clip a running job has published so far, by index: its proxy's final name (read every
    second by a running job's page, so without building each record)."""
    return {
        line["index"]: line["output"]
        for line in journal_lines(job_dir)
        if isinstance(line, dict) and isinstance(line.get("index"), int) and isinstance(line.get("output"), str)
    }
