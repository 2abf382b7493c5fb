"""A JobSpec that creates a job on arrival (the JobSpec inbox) must be one a compilation would make
now: its origin intent exists, can be chosen for new jobs, and compiles against the registry as it
is now to exactly the canonical profile the JobSpec names and snapshots, with the intent's naming.
Otherwise nothing is queued or run, with the class A message the operator would get choosing that
intent, an intent found INVALID staying so (the contract: no JobSpec without a successful compile, no
silent substitution). An OpenJD task's JobSpec (`proxx run-spec`) is checked the same way: its digest
proves the file whole, not who wrote it. A farm task is not: it runs from its snapshot, as the job
its submitting machine created and stored.

The JobSpec is the job's audit trail, stored and copied into its result as it is, so what it says of
its own making must be true here too, or nothing is queued (`Proxx.add_job` holds an integrator's
JobSpec to the same rules):
* its origin names the file that defines the intent here, that file's digest and what it overrides,
  exactly as compiling the intent here records them (a JobSpec made where the profiles live elsewhere
  is made again here); a JobSpec of before origins named their file states none of the three;
* its times are not in the future (beyond CLOCK_SKEW_SECONDS) and it was created after its intent
  was selected;
* `retry_of`, when set, names a FAILED job of this store, unaltered, of the same intent and canonical
  profile (a retry is of a failed job; a link to any other job would rewrite its history).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import TYPE_CHECKING

from proxx.compile.compiler import Definition
from proxx.compile.invalid import InvalidMemory
from proxx.compile.repository import Repository
from proxx.compile.select import select
from proxx.errors import JobValidationError, PreJobError
from proxx.jobspec.model import JobSpec, makes_the_same

if TYPE_CHECKING:
    from proxx.store import Store

# How far ahead of this machine's clock a JobSpec's times may be: clocks of machines that share an
# inbox differ by seconds, not by minutes.
CLOCK_SKEW_SECONDS = 300.0


def check_origin(
    spec: JobSpec,
    repository: Repository,
    engines: Collection[str],
    where: str,
    memory: InvalidMemory,
    store: Store | None = None,
) -> None:
    """Raise a class A `PreJobError` unless `spec`'s origin intent compiles, now, to exactly its
    canonical profile and origin, for one of `engines` (those installed here, and a farm's workers'
    for a job sent there); `memory`: the intents found INVALID, as every other way of choosing one
    sees them. A class B `JobValidationError` when its times or `retry_of` are not true here (the
    rules above); `store`: the job store `retry_of` must name a job of (None: a JobSpec that says it
    retries a job is refused, as there is no store to check it against)."""
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
            ("its origin's type", origin.type == "user_profile"),
            ("the file, digest or override its origin names", _same_definition(spec, compiled.definition)),
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
    check_times(spec, where)
    check_retry_of(spec, store, where)


def _same_definition(spec: JobSpec, definition: Definition | None) -> bool:
    """Whether the origin names the definition compiling found here (or, as JobSpecs made before
    origins named it, nothing at all)."""
    origin = spec.proxy_profile_origin
    if not (origin.file or origin.digest or origin.overrides):
        return True
    stated = (origin.file, origin.digest, origin.overrides)
    found = ("", "", "") if definition is None else (definition.file, definition.digest, definition.overrides)
    return stated == found


def _refused(where: str, reason: str, why: str, **context: object) -> JobValidationError:
    return JobValidationError(
        reason, f"JobSpec {where} refused: {why}. Nothing was queued or run.", {"source": where, **context}
    )


def _moment(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None  # proxx records UTC, saying so


def check_times(spec: JobSpec, where: str, now: datetime.datetime | None = None) -> None:
    """Class B unless `created_at` and `selected_at` are times with a zone, not in the future beyond
    CLOCK_SKEW_SECONDS, and the intent was selected no later than the job was created."""
    now = now or datetime.datetime.now(datetime.UTC)
    latest = now + datetime.timedelta(seconds=CLOCK_SKEW_SECONDS)
    moments = {}
    for field, text in (("selected_at", spec.selected_at), ("created_at", spec.created_at)):
        moment = _moment(text)
        if moment is None:
            raise _refused(where, "jobspec_bad_time", f"its {field} '{text[:40]}' is not a UTC time", field=field)
        if moment > latest:
            raise _refused(
                where,
                "jobspec_time_in_future",
                f"its {field} {text[:40]} is in the future (this machine's clock says {now.isoformat()[:19]}Z)",
                field=field,
            )
        moments[field] = moment
    if moments["selected_at"] > moments["created_at"]:
        raise _refused(
            where,
            "jobspec_bad_time",
            f"its intent was selected ({spec.selected_at}) after the job was created ({spec.created_at})",
        )


def check_retry_of(spec: JobSpec, store: Store | None, where: str) -> None:
    """Class B unless `retry_of` is unset or names a FAILED job of `store`, unaltered, of the same
    intent and canonical profile."""
    original = spec.retry_of
    if original is None:
        return
    from proxx.store import FAILED, DigestMismatch

    def refused(why: str) -> JobValidationError:
        return _refused(where, "jobspec_retry_of_refused", f"it says it retries job '{original[:80]}', {why}",
                        retry_of=original[:80])  # fmt: skip

    if store is None:
        raise refused("and no job store is there to check that against")
    try:
        row = store.job(original)
        earlier = store.spec(original)
    except KeyError:
        raise refused("which is not a job of this machine's store") from None
    except DigestMismatch:
        raise refused("whose stored JobSpec was altered after creation") from None
    if row.state != FAILED:
        raise refused(f"which is {row.state}: only a FAILED job is retried")
    same_intent = earlier.proxy_profile_origin.name == spec.proxy_profile_origin.name
    if not same_intent or not makes_the_same(earlier, spec):
        raise refused("which is a job of another intent, or whose proxies it makes differently")
