"""Per-worker path mapping: the same shared storage is mounted at different paths on different hosts
(/Volumes/Media on a Mac, /mnt/media on Linux, M:\\Media on Windows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from proxx.errors import ConfigurationError
from proxx.jobspec.model import JobSpec
from proxx.result import JobResult


@attrs.frozen
class PathRule:
    """Paths under `source` (as the JobSpec names them) are under `target` on this worker."""

    source: str
    target: str

    @classmethod
    def parse(cls, text: str) -> PathRule:
        source, sep, target = text.partition("=")
        if not sep or not source or not target:
            raise ConfigurationError(
                "invalid_path_mapping",
                f"Path mapping '{text}' is not SOURCE=TARGET (e.g. /Volumes/Media=/mnt/media).",
                {"mapping": text},
            )
        return cls(source.rstrip("/\\") or source, target.rstrip("/\\") or target)

    def apply(self, path: str) -> str | None:
        """The mapped path, or None when `path` is not under `source` (whole components only)."""
        if path != self.source and not path.startswith(self.source + "/"):
            return None
        rest = path[len(self.source) :]
        if "\\" in self.target:  # a Windows target: its separators throughout
            rest = rest.replace("/", "\\")
        return self.target + rest

    def as_dict(self) -> dict[str, str]:
        return {"from": self.source, "to": self.target}


def map_path(path: str, rules: Sequence[PathRule]) -> str:
    """`path` through the first rule that applies (the longest source wins), else unchanged."""
    for rule in sorted(rules, key=lambda r: len(r.source), reverse=True):
        mapped = rule.apply(path)
        if mapped is not None:
            return mapped
    return path


def mapped_spec(spec: JobSpec, rules: Sequence[PathRule]) -> JobSpec:
    """A copy of `spec` with this worker's paths, for execution only (never stored as the JobSpec)."""
    if not rules:
        return spec
    clips = tuple(
        attrs.evolve(c, source=map_path(c.source, rules), output=map_path(c.output, rules)) for c in spec.clips
    )
    return attrs.evolve(spec, clips=clips, output_directory=map_path(spec.output_directory, rules))


def mapping_record(spec: JobSpec, rules: Sequence[PathRule]) -> dict[str, Any]:
    """What the result records: the rules, the JobSpec's own paths of every clip, and this worker's."""
    return {
        "rules": [r.as_dict() for r in rules],
        "jobspec_paths": [{"index": c.index, "source": c.source, "output": c.output} for c in spec.clips],
        "worker_paths": [
            {"index": c.index, "source": map_path(c.source, rules), "output": map_path(c.output, rules)}
            for c in spec.clips
        ],
    }


def in_jobspec_paths(result: JobResult, spec: JobSpec, rules: Sequence[PathRule]) -> JobResult:
    """The result of `spec` run from its mapped copy, for the machine that created the job: each clip's
    source and output as the JobSpec names them (what its operator is shown, what a re-run there looks
    up), a partial output mapped back where a rule does. This worker's own records keep its paths, and
    the result its `path_mapping` (`mapping_record`)."""
    if not rules:
        return result
    back = [PathRule(rule.target, rule.source) for rule in rules]
    named = {c.index: c for c in spec.clips}
    clips = tuple(
        attrs.evolve(
            clip,
            source=named[clip.index].source,
            output=named[clip.index].output,
            partial_output=None if clip.partial_output is None else map_path(clip.partial_output, back),
        )
        if clip.index in named
        else clip
        for clip in result.clips
    )
    return attrs.evolve(result, clips=clips)
