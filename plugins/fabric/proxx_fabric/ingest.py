"""`proxx fabric ingest`: rebuild or merge the index from result files (this machine's or another's).

A result whose `fabric` export succeeded carries everything (fingerprint inputs, hashes) in its
`exports` details: nothing else is read. A result without it (the exporter failed: disk full, index
locked, folder unwritable) is measured now from its source and outputs, and when the job's JobSpec
is in this machine's job store and it published any proxy (COMPLETED or FAILED), its output folder
is sealed in ASC MHL too, which fills the gap the failed export left.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from proxx import PreJobError, Proxx
from proxx.plugin import load_result
from proxx_fabric.index import Index
from proxx_fabric.record import EXPORTER, completed, measure, records_from_details, seal


@attrs.frozen
class Ingested:
    job_id: str
    proxies: int
    measured: bool  # True: re-probed and re-hashed; False: read from the result's export details
    sealed: str | None = None  # the ASC MHL generation added, when the ingest also sealed


def ingest(path: Path, index: Index) -> Ingested:
    result = load_result(path)
    exported = next((e for e in result.exports if e.exporter == EXPORTER and e.ok), None)
    if exported is not None:
        index.record(records_from_details(result, exported.details))
        return Ingested(result.job_id, len(exported.details["clips"]), False)
    records = [measure(result, clip) for clip in completed(result)]
    index.record(records)
    folder = _output_directory(result.job_id)
    if not records or folder is None:
        return Ingested(result.job_id, len(records), True)
    return Ingested(result.job_id, len(records), True, seal(folder, result, records)["ascmhl_generation"])


def _output_directory(job_id: str) -> Path | None:
    """The output folder the job's JobSpec names, when this machine's job store has the job (asked
    as an integrator would: the plugin contract gives exporters the JobSpec itself)."""
    try:
        return Path(Proxx.open().spec(job_id).output_directory)
    except (KeyError, PreJobError):  # not a job of this machine, or an altered JobSpec: no folder to trust
        return None
