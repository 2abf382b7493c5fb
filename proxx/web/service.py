"""The web shell's use of `proxx.Proxx`: every page and endpoint goes through here.

Requests run on a thread pool while one SQLite connection serves them, so store access is
serialised by one lock (each call is a few milliseconds). The profile repository is re-read before
intents are listed and before every job creation, so an intent deprecated or broken while the server
runs is refused at once (compile happens at creation time, against the current registry).
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from proxx.app import Proxx, repository_layers
from proxx.compile.cache import ProfileCache
from proxx.compile.repository import load_repository
from proxx.errors import CANCELLED, FailureClass, PreJobError
from proxx.execute.clips import JOB_WIDE_REASONS
from proxx.execute.journal import published_so_far
from proxx.folders import open_own, read_own
from proxx.hookrecords import WebLookup
from proxx.jobspec.model import JobSpec, iso_moment
from proxx.jobspec.sources import expand_sources
from proxx.roots import Roots
from proxx.store import QUEUED, STATES, JobRow
from proxx.validate.checks import would_write_among_sources
from proxx.visibility import OperatorWords, check_label, failure_title, safe
from proxx.web import models
from proxx.web.problems import WebError
from proxx.web.roots import Entry, MediaRoots

LOG_TAIL_BYTES = 256 * 1024
# A FAILED job with one of these reasons stopped part way ("stopped at 40 %"); any other ran to its end.
STOPPING_REASONS = JOB_WIDE_REASONS | {"worker lost", CANCELLED}
FAILED_LISTED = 20  # failed clips a job names by their place (a card's page links to each)
# At most this often, a page or the API asks the render farm how its jobs stand before showing them.
REFRESH_SECONDS = 1.0


def _not_found(job_id: str) -> WebError:
    return WebError(404, "job_not_found", f"No job '{job_id[:80]}'.")


def _check_folder_name(name: str) -> None:
    """A new output sub-folder is one plain name: no path, no hidden or partial name, nothing a
    terminal or a page would have to escape."""
    if (
        not name.strip()
        or name != name.strip()
        or "/" in name
        or "\\" in name
        or name.startswith(".")
        or safe(name) != name
        or len(name.encode("utf-8")) > 255
    ):
        raise WebError(
            422,
            "bad_folder_name",
            "A new folder's name is one name: no '/' or '\\', no leading dot or space, no control characters.",
        )


def _read_json(path: str | None) -> dict[str, Any] | None:
    """A job's result as proxx wrote it: never through a link, nor a file someone else put there."""
    text = read_own(Path(path)) if path else None
    if text is None:
        return None
    document: dict[str, Any] = json.loads(text)
    return document


class WebService:
    def __init__(
        self,
        proxx: Proxx,
        roots: MediaRoots,
        profiles: Sequence[Path] = (),
        bundled: bool | None = None,
        lookups: Mapping[str, WebLookup] | None = None,
    ) -> None:
        self.proxx = proxx
        self.roots = roots
        self.job_roots = Roots(r.path for r in roots.roots)  # checked again when each job runs
        # The integrator lookups plugins provide (hook `proxx_web_lookups`), by name.
        self.lookups = dict(proxx.plugin_manager.web_lookups() if lookups is None else lookups)
        self._profiles = tuple(profiles)
        self._bundled = bundled
        self._lock = threading.RLock()
        self._cache = ProfileCache(proxx.home / "cache" / "profiles.json")
        self.words = self._words()
        self._refreshed_at = time.monotonic()
        with self._lock:
            _ = proxx.store  # open (and reap lost jobs, mirror the farm's) now, not on the first request

    def _refresh(self) -> None:
        """Mirror the jobs dispatched elsewhere (the render farm's) before they are shown, at most once
        a REFRESH_SECONDS: the store is opened once for the server's life (`Proxx.refresh`). Called
        with the lock held."""
        now = time.monotonic()
        if now - self._refreshed_at >= REFRESH_SECONDS:
            self._refreshed_at = now
            self.proxx.refresh()

    def _reload(self) -> None:
        # Profile edits show without a restart, but an unchanged file is never read again (the cache
        # keys on size and time), and a hostile one is refused before it is loaded.
        layers = repository_layers(self.proxx.plugin_manager, self._profiles, self._bundled)
        self.proxx.repository = load_repository(layers, self._cache)
        self.words = self._words()

    def _words(self) -> OperatorWords:
        repository = self.proxx.repository
        return OperatorWords.of(repository.registry, (p.name for p in repository.user_profiles))

    def _display(self, path: str) -> str:
        """A job's path as operators see it: its media-root reference, made safe; a path outside
        every root (an earlier job's proxy, reused) by its file name, said to be outside."""
        ref = self.roots.ref_of(path)
        return safe(ref) if ref is not None else f"{safe(Path(path).name)} (outside the media roots)"

    def in_roots(self, spec: JobSpec) -> bool:
        """True when every file of the job lies in the media roots: the web shows no other job (a
        job made with the CLI, the inbox or the farm elsewhere is not this server's operators')."""
        paths = [spec.output_directory, *(c.source for c in spec.clips), *(c.output for c in spec.clips)]
        return all(self.roots.ref_of(path) is not None for path in paths)

    # --- intents and media ------------------------------------------------------------------------

    def intents(self) -> list[models.Intent]:
        with self._lock:
            self._reload()
            statuses = self.proxx.intents()
        return [
            models.Intent(
                name=s.name,
                description=s.description,
                lifecycle=s.lifecycle.value,
                selectable=s.selectable,
                problem=self.words.text(s.problem) if s.problem else None,
                replaced_by=list(s.replaced_by),
            )
            for s in statuses
        ]

    def tree(self) -> list[Entry]:
        return self.roots.tree()

    def folder(self, ref: str) -> models.Folder:
        entries = [models.Entry(ref=e.ref, name=e.name, is_dir=e.is_dir) for e in self.roots.listing(ref)]
        return models.Folder(ref=ref.rstrip("/"), entries=entries)

    def root_folders(self) -> models.Folder:
        entries = [models.Entry(ref=r.name, name=r.name, is_dir=True) for r in self.roots.roots]
        return models.Folder(ref="", entries=entries)

    # --- jobs -------------------------------------------------------------------------------------

    def create_job(self, request: models.CreateJob) -> models.Job:
        """Compile the ONE chosen intent and queue a job; a class A failure creates nothing. With
        `new_folder`, the proxies go to that sub-folder of the output folder, made once the intent
        compiles and only for a job that is not refused for where it writes (on a camera card nothing
        is made: the job ends FAILED in class B, as without a new folder)."""
        output = self.roots.resolve(request.output_folder)
        if request.new_folder is not None:
            _check_folder_name(request.new_folder)
            if request.new_folder in self.proxx.beside_outputs:  # validation refuses it: never made either
                raise WebError(
                    422,
                    "bad_folder_name",
                    f"'{request.new_folder}' is where an installed exporter keeps its records; choose another name.",
                )
            output = output / request.new_folder
        # Folders are walked here, outside the lock every other request waits on, each once, and
        # never past the per-job cap (`proxx.jobspec.sources`).
        refs = list(dict.fromkeys(request.sources))
        try:
            sources = expand_sources(
                [self.roots.resolve(ref) for ref in refs], beside_outputs=self.proxx.beside_outputs
            )
        except PreJobError as error:
            raise self.refusal(error) from None
        with self._lock:
            self._reload()
            try:
                if request.new_folder is not None:
                    self.proxx.select(request.intent)  # a class A failure makes no folder either
                    # The card rule before the folder: a job it refuses is created FAILED (its
                    # validation says why) and its new folder never made on the card.
                    if not would_write_among_sources(output, sources.sources):
                        output = self._make_folder(request.output_folder, request.new_folder)
                spec = self.proxx.create_job(request.intent, sources, output, roots=self.job_roots)
            except PreJobError as error:
                raise self.refusal(error) from None
            return self._job(self.proxx.store.job(spec.job_id), spec)

    def refusal(self, error: PreJobError) -> WebError:
        """A class A refusal as operators read it: in the CLI's words, and any path inside a media root
        as its reference (a folder's expansion names the server's folders)."""
        refused = WebError.of(error, self.words)
        refused.detail = self.roots.relative_text(refused.detail)
        return refused

    def _make_folder(self, parent_ref: str, name: str) -> Path:
        """The sub-folder `name` of the output folder `parent_ref`, made if it is not there, through
        the parent's descriptor (no link followed); an existing folder is used as it is."""
        parent = self.roots.resolve(parent_ref)
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            try:
                os.mkdir(name, 0o777, dir_fd=fd)
            except FileExistsError:
                if not stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise WebError(
                        422, "folder_exists", f"'{safe(name)}' is already in the output folder, and is not a folder."
                    ) from None
        finally:
            os.close(fd)
        return self.roots.resolve(f"{parent_ref.rstrip('/')}/{name}")

    def jobs(
        self,
        state: str | None = None,
        limit: int = 200,
        since: str | None = None,
        hidden: bool = False,
        offset: int = 0,
    ) -> list[models.Job]:
        """A page of jobs, newest first; hidden jobs (kept for audit) only with `hidden`."""
        if state is not None and state not in STATES:
            raise WebError(400, "unknown_state", f"State must be one of {', '.join(STATES)}.")
        moment = None
        if since:
            try:
                moment = iso_moment(since)
            except ValueError:
                raise WebError(
                    400, "bad_date", "'since' must be a date such as 2026-11-29 or 2026-11-29T10:00."
                ) from None
        with self._lock:
            self._refresh()
            store = self.proxx.store
            shown: list[JobRow] = []
            skipped = 0
            for row in store.iter_jobs(state, None, moment, hidden=hidden):
                if not self._listed(row):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                shown.append(row)
                if len(shown) >= limit:
                    break
        # A list entry names the first source and counts the rest (kept in the job's row): a job of
        # 200,000 clips costs a list what a job of one does, and no JobSpec is read for a list.
        return [self._job(row, None) for row in shown]

    def _listed(self, row: JobRow) -> bool:
        """Whether a job is this server's to list: its output folder and first source lie in the media
        roots (read from its row; a job's page checks every file of its JobSpec, `in_roots`)."""
        paths = (row.output_directory, row.first_source)
        return all(path is not None and self.roots.ref_of(path) is not None for path in paths)

    def _row(self, job_id: str) -> JobRow:
        """A job by its id or its short form (the last 8 characters, as the CLI shows it); a job
        whose files lie outside the media roots is not found here."""
        self._refresh()
        try:
            row = self.proxx.store.job(job_id)
        except KeyError:
            try:
                row = self.proxx.store.find(job_id)
            except KeyError:
                raise _not_found(job_id) from None
        if not self.in_roots(self.proxx.store.spec_unchecked(row.job_id)):
            raise _not_found(job_id)
        return row

    def _failure(self, failure_class: str | None, reason: str | None, message: str | None) -> models.Failure | None:
        if not failure_class:
            return None
        return models.Failure(
            failure_class=failure_class,
            class_title=failure_title(failure_class, reason, letter=False),
            reason=reason or "",
            message=self.roots.relative_text(self.words.message(message, reason) or ""),
            cancelled=reason == CANCELLED,
        )

    def _job(self, row: JobRow, spec: JobSpec | None) -> models.Job:
        """The job as lists and pages show it; `spec` None: for a list (first source and the count)."""
        if spec is not None:
            sources = [self._display(c.source) for c in spec.clips]
        else:
            sources = [self._display(row.first_source)] if row.first_source else []
        return models.Job(
            job_id=row.job_id,
            state=row.state,  # type: ignore[arg-type]  # the store's CHECK constraint keeps it in State
            intent=safe(row.intent),
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            progress=row.progress,
            eta_seconds=row.eta_seconds if row.state == "RUNNING" else None,
            sources=sources,
            source_count=len(spec.clips) if spec is not None else row.clip_count,
            retry_of=row.retry_of,
            failure=self._failure(row.failure_class, row.reason, row.message),
            stopped=row.state == "FAILED" and row.started_at is not None and row.reason in STOPPING_REASONS,
            published=row.published,
            # A job refused before anything ran (class B) failed every clip, as `proxx jobs list` counts it.
            failed_clips=row.clip_count if row.refused else row.failed_clips,
            refused=row.refused,
            hidden=row.hidden,
            # A queued job's message is why it may never run (`Store.note_waiting`): never left unsaid here.
            note=self.roots.relative_text(self.words.text(row.message))
            if row.state == QUEUED and row.message
            else None,
            retryable=row.state == "FAILED"
            and (row.failure_class == FailureClass.EXECUTION.value or row.reason == CANCELLED),
        )

    def job(self, job_id: str, clips: slice | None = None, result_up_to: int | None = None) -> models.JobDetail:
        """The job with its clips (only those of `clips`, a page of a large card: each clip costs the
        redaction of its every check) and the operator copy of its result document (left out of a job
        of more than `result_up_to` clips)."""
        with self._lock:
            row = self._row(job_id)
            spec = self.proxx.store.spec_unchecked(row.job_id)
            retried_as = self.proxx.store.retries_of(row.job_id)
            left_out = self.proxx.store.left_out(row.job_id)
        raw = _read_json(row.result_path)
        summary = self._job(row, spec)
        shown = self._clips(row, spec, raw, clips or slice(None))
        limit = len(spec.clips) if result_up_to is None else result_up_to
        raw_clips = raw.get("clips", []) if raw else []
        states = [c.get("state") for c in raw_clips]
        problems = (raw or {}).get("validation_problems", [])
        counted = {
            **summary.model_dump(),
            "published": states.count("completed"),
            # as the list counts it: a job refused before anything ran (class B) failed every clip
            "failed_clips": summary.failed_clips if row.refused else states.count("failed"),
        }
        return models.JobDetail(
            **counted,
            clips=shown,
            failed=states.count("failed"),
            failed_indexes=[c["index"] for c in raw_clips if c.get("state") == "failed"][:FAILED_LISTED],
            output_folder=self._display(spec.output_directory),
            not_run=states.count("not_run"),
            problems=[self.roots.relative_text(self.words.failure(p)) for p in problems],
            retried_as=retried_as,
            left_out=[
                models.LeftOut(
                    source=self._display(item.path),
                    why=self.words.text(item.why),
                    proxy=None if item.proxy is None else self._display(item.proxy),
                )
                for item in left_out
            ],
            log=self._log(row.log_path),
            result=self.roots.relative(self.words.result(raw)) if raw and len(spec.clips) <= limit else None,
        )

    def _clips(self, row: JobRow, spec: JobSpec, raw: dict[str, Any] | None, which: slice) -> list[models.Clip]:
        display = self._display
        if raw is None:  # no result yet: a running job's clips published so far, from its journal
            done = published_so_far(Path(row.log_path).parent) if row.state == "RUNNING" and row.log_path else {}
            return [
                models.Clip(
                    index=c.index,
                    source=display(c.source),
                    output=None if row.state == "FAILED" else display(c.output),
                    state="completed" if c.index in done else row.state.lower(),
                )
                for c in spec.clips[which]
            ]
        clips = []
        for clip in raw.get("clips", [])[which]:
            checks = []
            drop_frame = any(c["name"] == "timecode" and ";" in c["actual"] for c in clip.get("checks", []))
            for check in clip.get("checks", []):
                name, passed = check["name"], check["passed"]
                expected, actual = self.words.check(name, check["expected"], check["actual"], passed, drop_frame)
                checks.append(
                    models.Check(name=name, label=check_label(name), expected=expected, actual=actual, passed=passed)
                )
            failure = clip.get("failure") or {}
            clips.append(
                models.Clip(
                    index=clip["index"],
                    source=display(clip["source"]),
                    output=display(clip["output"]) if clip["state"] == "completed" else None,
                    state=clip["state"],
                    partial_output=display(clip["partial_output"]) if clip.get("partial_output") else None,
                    checks=checks,
                    failure=self._failure(failure.get("failure_class"), failure.get("reason"), failure.get("message")),
                )
            )
        return clips

    def _log(self, log_path: str | None) -> str:
        fd = open_own(Path(log_path)) if log_path else None  # never a link, nor another user's file
        if fd is None:
            return ""
        with os.fdopen(fd, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - LOG_TAIL_BYTES))
            text = handle.read().decode("utf-8", "replace")
        prefix = "[... earlier lines left out ...]\n" if size > LOG_TAIL_BYTES else ""
        return prefix + self.roots.relative_text(self.words.log(text))

    def retry(self, job_id: str) -> models.Retried:
        """The operator's explicit retry: a NEW job; the original stays FAILED and untouched."""
        with self._lock:
            row = self._row(job_id)
            self._reload()
            try:
                spec, done = self.proxx.retry(row.job_id)
            except PreJobError as error:
                raise self.refusal(error) from None
            return models.Retried(job=self._job(self.proxx.store.job(spec.job_id), spec), clips_already_verified=done)

    def cancel(self, job_id: str) -> models.Job:
        """The operator's cancel: a queued job ends at once, a running one when its worker sees it."""
        with self._lock:
            row = self._row(job_id)
            try:
                row = self.proxx.cancel(row.job_id)
            except PreJobError as error:
                raise self.refusal(error) from None
            return self._job(row, self.proxx.store.spec_unchecked(row.job_id))

    def operator_result(self, job_id: str) -> dict[str, Any]:
        """The result as operators see it: redacted, and paths relative to the media roots."""
        document: dict[str, Any] = self.roots.relative(self.words.result(self.raw_result(job_id)))
        return document

    def raw_result(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._row(job_id)
        raw = _read_json(row.result_path)
        if raw is None:
            raise WebError(404, "no_result_yet", f"Job {row.job_id} is {row.state}: it has no result document yet.")
        return raw

    # --- integrators ------------------------------------------------------------------------------

    def integrator_job(self, job_id: str) -> models.IntegratorJob:
        with self._lock:
            row = self._row(job_id)
            spec = self.proxx.store.spec_unchecked(row.job_id)
        return models.IntegratorJob(
            job_id=row.job_id,
            state=row.state,  # type: ignore[arg-type]
            intent=row.intent,
            proxy_profile=spec.proxy_profile,
            created_at=row.created_at,
            retry_of=row.retry_of,
            failure_class=row.failure_class,
            reason=row.reason,
            message=row.message,
            jobspec=json.loads(spec.to_json()),
            result=_read_json(row.result_path),
        )

    def lookup(self, name: str, key: str) -> Mapping[str, Any]:
        """What the plugin lookup `name` answers for `key`."""
        found = self.lookups.get(name)
        if found is None:
            raise WebError(
                404,
                "lookup_unknown",
                f"No installed plugin provides the lookup '{name}' (installed: {', '.join(self.lookups) or 'none'}).",
            )
        record = found.lookup(key)
        if record is None:
            raise WebError(404, "key_unknown", f"The lookup '{name}' knows nothing under this key.")
        return record
