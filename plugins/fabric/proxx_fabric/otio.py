"""The index as an OpenTimelineIO collection: one clip per proxy, whose `DEFAULT_MEDIA` reference is
the source and whose `proxy` reference is the proxy, both with the source's available range (start
at its timecode, length in frames, at its exact frame rate)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from proxx_fabric.index import ProxyRecord


def available_range(record: ProxyRecord) -> otio.opentime.TimeRange:
    rate = float(Fraction(record.intrinsics.frame_rate))
    start = otio.opentime.RationalTime(0, rate)
    if record.source_timecode:
        start = otio.opentime.from_timecode(record.source_timecode, rate)
    return otio.opentime.TimeRange(start, otio.opentime.RationalTime(record.intrinsics.frames, rate))


def collection(records: Sequence[ProxyRecord]) -> otio.schema.SerializableCollection:
    clips = []
    for record in records:
        span = available_range(record)
        clip = otio.schema.Clip(name=Path(record.source_path).stem, source_range=span)
        clip.set_media_references(
            {
                otio.schema.Clip.DEFAULT_MEDIA_KEY: otio.schema.ExternalReference(
                    Path(record.source_path).as_uri(), span
                ),
                "proxy": otio.schema.ExternalReference(Path(record.output_path).as_uri(), span),
            },
            otio.schema.Clip.DEFAULT_MEDIA_KEY,
        )
        clip.metadata["proxx"] = {
            "job_id": record.job_id,
            "fingerprint": record.fingerprint,
            "intent": record.intent,
            "source_xxh128": record.source_xxh128,
            "proxy_xxh128": record.output_xxh128,
        }
        clips.append(clip)
    return otio.schema.SerializableCollection(name="proxx proxies", children=clips)
