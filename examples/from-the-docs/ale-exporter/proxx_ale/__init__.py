"""An Avid ALE (Avid Log Exchange) per finished job, beside its proxies, from each clip's facts."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from proxx.plugin import ClipState, Exporter, JobResult, JobSpec, hookimpl

PROXX_PLUGIN_API = "1.1"
FOLDER = "ALE"
COLUMNS = ("Name", "Tape", "Start", "Frames", "FPS", "Image Size", "Source File")


def export(spec: JobSpec, result: JobResult) -> dict[str, Any]:
    clips = [c for c in result.clips if c.state == ClipState.COMPLETED and c.facts is not None]
    if not clips:
        return {"clips": 0}
    folder = Path(spec.output_directory) / FOLDER
    folder.mkdir(exist_ok=True)
    ale = folder / f"{result.job_id}.ale"
    rate = Fraction(clips[0].facts.frame_rate)  # type: ignore[union-attr]
    lines = ["Heading", "FIELD_DELIM\tTABS", "VIDEO_FORMAT\t1080", f"FPS\t{float(rate):.3f}", "", "Column"]
    lines += ["\t".join(COLUMNS), "", "Data"]
    for clip in clips:
        facts = clip.facts
        assert facts is not None
        lines.append("\t".join([
            Path(clip.output).stem, Path(clip.source).stem, facts.proxy_timecode or "00:00:00:00",
            str(facts.frame_count), f"{float(Fraction(facts.frame_rate)):.3f}",
            f"{facts.display_width}x{facts.display_height}", clip.source,
        ]))  # fmt: skip
    ale.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"ale": str(ale), "clips": len(clips)}


@hookimpl
def proxx_exporters() -> Iterator[Exporter]:
    yield Exporter("ale", export, beside_outputs=(FOLDER,))
