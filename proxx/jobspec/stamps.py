"""The JobSpec's digest and the times proxx records, apart from the JobSpec model: the store and the
job list use them without loading the model and the profiles it holds."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

# A job id as `proxx.jobspec.model.new_job_id` makes it: job-20261125T130501Z-3f9a1c2b. Digits are
# 0-9 (`\d` would take any script's).
JOB_ID = re.compile(r"job-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}")


def canonical_json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(spec_json: str) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(spec_json.encode("utf-8")).hexdigest()


def utc_now() -> str:
    """The current UTC time as proxx records it (ISO 8601 to the millisecond, "Z")."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_moment(text: str) -> str:
    """An ISO date or time an operator gives (UTC unless it says otherwise), written as the store
    writes its times, so that the two compare as text. ValueError when it is neither."""
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
