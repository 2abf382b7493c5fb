"""Class B checks of a job that runs elsewhere (a render farm's worker), made before it is sent.

A job for another machine cannot be validated whole here: its sources and output folder are checked
on the machine that runs it (paths may be mapped there, its engine installed there only). What does
not depend on that machine is checked here, at once, with the words local validation uses
(`proxx.validate.checks`), so a job refused locally is refused the same way, immediately, when it
goes to a farm instead of waiting in a queue (the contract's class B: FAILED immediately, nothing
run):
* two sources of the job written to the same output (decided by the JobSpec alone);
* an output that already exists, where this machine sees the output folder.
"""

from __future__ import annotations

from pathlib import Path

from proxx.errors import JobValidationError
from proxx.jobspec.model import JobSpec
from proxx.jobspec.rerun import output_key
from proxx.validate.checks import check_outputs, collision


def dispatch_problems(spec: JobSpec) -> list[JobValidationError]:
    """The problems above of `spec`, each clip's once, in clip order."""
    problems: list[JobValidationError] = []
    seen: dict[str, str] = {}
    for clip in spec.clips:
        key = output_key(clip.output)
        if key in seen:  # the words of `check_outputs`, which needs the output folder to exist here
            problems.append(
                JobValidationError(
                    "output_collision", collision(seen[key], clip.source, clip.output), {"output": clip.output}
                )
            )
            continue
        seen[key] = clip.source
    if Path(spec.output_directory).is_dir():  # visible here: what is already there is there for any worker
        problems.extend(p for p in check_outputs(spec) if p.reason == "output_exists")
    return problems
