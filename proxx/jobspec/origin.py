"""A JobSpec that creates a job on arrival (the JobSpec inbox) must be one a compilation would make
now: its origin intent exists, can be chosen for new jobs, and compiles against the registry as it
is now to exactly the canonical profile the JobSpec names and snapshots, with the intent's naming.
Otherwise nothing is queued or run, with the class A message the operator would get choosing that
intent, an intent found INVALID staying so (the contract: no JobSpec without a successful compile, no
silent substitution). An OpenJD task's JobSpec (`proxx run-spec`) is checked the same way: its digest
proves the file whole, not who wrote it. A farm task is not: it runs from its snapshot, as the job
its submitting machine created and stored.
"""

from __future__ import annotations

from collections.abc import Collection

from proxx.compile.invalid import InvalidMemory
from proxx.compile.repository import Repository
from proxx.compile.select import select
from proxx.errors import PreJobError
from proxx.jobspec.model import JobSpec


def check_origin(
    spec: JobSpec, repository: Repository, engines: Collection[str], where: str, memory: InvalidMemory
) -> None:
    """Raise a class A `PreJobError` unless `spec`'s origin intent compiles, now, to exactly its
    canonical profile, for one of `engines` (those installed here, and a farm's workers' for a job
    sent there); `memory`: the intents found INVALID, as every other way of choosing one sees them."""
    origin = spec.proxy_profile_origin
    try:
        compiled = select(repository, origin.name, engines, memory)
    except PreJobError as error:
        raise PreJobError(
            error.reason, f"JobSpec {where} refused: {error.message} Nothing was queued or run.", error.context
        ) from None
    differs = [
        what
        for what, same in (
            ("the profile it names", compiled.canonical == spec.canonical_profile),
            ("its output naming", compiled.user_profile.naming == spec.naming),
            ("its intent's version", compiled.user_profile.user_profile_version == origin.version),
        )
        if not same
    ]
    if differs:
        raise PreJobError(
            "origin_mismatch",
            f"JobSpec {where} refused: intent '{origin.name}' does not compile to what this JobSpec says it "
            f"chose ({' and '.join(differs)} differ). Nothing was queued or run; create the job from the intent.",
            {"profile": origin.name, "differs": differs, "proxy_profile": spec.proxy_profile},
        )
