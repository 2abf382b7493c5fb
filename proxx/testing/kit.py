"""Helpers behind the pytest fixtures; plain functions, so they work without pytest too."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from proxx.app import Proxx
from proxx.jobspec.model import JobSpec
from proxx.result import JobResult
from proxx.store import JobRow

#: A profile repository as data: {relative path: YAML text, or a mapping written as YAML}.
RepositoryFiles = Mapping[str, str | Mapping[str, Any]]


def write_repository(root: Path, files: RepositoryFiles) -> Path:
    """Write `files` under `root` (created) and return it, ready for `Proxx.open(profiles=[root])`."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # JSON is YAML 1.2, so a mapping needs no YAML writer and keeps its key order.
        text = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
    return root


def intent_for(canonical_id: str, name: str | None = None) -> dict[str, Any]:
    """A user profile that means exactly `canonical_id` whatever else the registry holds: one
    graduated to it, so no constraint can make it ambiguous."""
    return {
        "user_profile_version": "1.1",
        "name": name or f"Test {canonical_id}",
        "lifecycle": "graduated",
        "graduated_to": canonical_id,
        "constraints": {},
    }


@attrs.frozen
class JobOutcome:
    """One job run end to end: its JobSpec, the JobResult, the store's row, and the result JSON as
    written to disk (what exporters and other tools read)."""

    spec: JobSpec
    result: JobResult
    row: JobRow
    document: dict[str, Any]

    @property
    def outputs(self) -> list[Path]:
        """The final output path of every clip, whether or not it exists."""
        return [Path(clip.output) for clip in self.spec.clips]

    @property
    def why(self) -> str:
        """What a plugin author needs to see when the job did not go as a test expected: its message
        (in operators' words, which leave out what an engine must fix), then each class B problem,
        each failed check with its expected and actual values, and each failed clip's engine words
        (`admin_message`). For an assert's message: `assert outcome.row.state == "COMPLETED", outcome.why`."""
        lines = [f"{self.row.state}: {self.row.message or ''}"]
        lines += [f"  problem {p.reason}: {p.message}" for p in self.result.validation_problems]
        for clip in self.result.clips:
            name = Path(clip.source).name
            failed = [c for c in clip.checks if not c.passed]
            lines += [f"  {name}: check {c.name}: expected {c.expected}, actual {c.actual}" for c in failed]
            if clip.failure is not None and clip.failure.context.get("admin_message"):
                lines.append(f"  {name}: {clip.failure.reason}: {clip.failure.context['admin_message']}")
        return "\n".join(lines)


def run_job(app: Proxx, intent: str, sources: Sequence[str | Path], output_directory: str | Path) -> JobOutcome:
    """Create a job for `intent` and run it here, as `proxx run` does."""
    spec = app.create_job(intent, sources, output_directory)
    result = app.run_job(spec.job_id)
    if result is None:
        raise RuntimeError(f"job {spec.job_id} was claimed by another worker")
    row = app.store.job(spec.job_id)
    if row.result_path is None:
        raise RuntimeError(f"job {spec.job_id} finished without a result JSON")
    document = json.loads(Path(row.result_path).read_text(encoding="utf-8"))
    return JobOutcome(spec, result, row, document)
