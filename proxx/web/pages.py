"""The operator's pages: server-rendered HTML, usable without JavaScript. `static/live.js` refreshes
the live region of the jobs and job pages as a progressive enhancement (a request with the
`X-Proxx-Fragment` header gets only that region)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import attrs
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from proxx.store import STATES
from proxx.visibility import operator_check_rows, safe
from proxx.web import models
from proxx.web.problems import WebError
from proxx.web.roots import Entry
from proxx.web.security import CSRF_FIELD, check_csrf, csrf_token, set_csrf_cookie
from proxx.web.service import WebService

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
pages = APIRouter(include_in_schema=False)
FINAL = frozenset({"COMPLETED", "FAILED"})


def _when(stamp: str | None) -> str:
    if not stamp:
        return "—"
    moment = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}" if whole < 3600 else str(datetime.timedelta(seconds=whole))


def _check_rows(checks: list[models.Check]) -> list[tuple[str, str, str, bool]]:
    """The page's rows of a clip's checks: operator words, the format checks as one row."""
    return operator_check_rows(checks)


templates.env.filters["when"] = _when
templates.env.filters["check_rows"] = _check_rows
templates.env.filters["duration"] = _duration
templates.env.filters["shown"] = safe  # names from the media roots, made safe (`proxx.visibility.safe`)


def _announce(job: models.JobDetail) -> str:
    """What the page's polite live region says of the job: its state, and a running job's progress
    in quarter steps (a screen reader hears each step, not every percent); a cancel as a cancel."""
    if job.state == "RUNNING":
        return f"Running: {int(job.progress * 4) * 25} % done."
    if job.state == "QUEUED":
        return "Queued: waiting for a worker."
    if job.state == "COMPLETED":
        return f"Completed: {job.published} {'proxy' if job.published == 1 else 'proxies'} published."
    if job.failure is not None and job.failure.cancelled:
        return f"{job.failure.class_title}. {job.published} {'proxy' if job.published == 1 else 'proxies'} published."
    return "The job failed: " + (job.failure.message.split("\n")[0] if job.failure else "")


def _service(request: Request) -> WebService:
    web: WebService = request.app.state.service
    return web


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    token, new = csrf_token(request)
    fragment = request.headers.get("x-proxx-fragment") == "1"
    response = templates.TemplateResponse(
        request, name, {"csrf": token, "csrf_field": CSRF_FIELD, "fragment": fragment, **context}, status_code=status
    )
    if new:
        set_csrf_cookie(response, token)
    return response


@pages.get("/")
def home() -> Response:
    return RedirectResponse("/jobs", status_code=303)


PAGE_SIZE = 50


@pages.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, state: str | None = None, since: str | None = None, all: str | None = None, page: int = 1
) -> Response:
    chosen = state if state in STATES else None
    page = max(1, page)
    shown_hidden = all == "1"
    jobs = _service(request).jobs(chosen, PAGE_SIZE + 1, since or None, shown_hidden, (page - 1) * PAGE_SIZE)
    filters = {k: v for k, v in (("state", chosen), ("since", since), ("all", "1" if shown_hidden else None)) if v}
    return render(
        request, "jobs.html", jobs=jobs[:PAGE_SIZE], state=chosen, states=STATES, title="Jobs", nav="jobs",
        since=since or "", shown_hidden=shown_hidden, page=page, more=len(jobs) > PAGE_SIZE,
        query=lambda **change: urlencode({k: v for k, v in {**filters, **change}.items() if v}),
    )  # fmt: skip


# A tree this small is shown unfolded; a larger one shows its roots and the folders of what was chosen.
UNFOLDED_TREE = 100


@attrs.frozen
class Branch:
    """One name of the source tree with what lies beneath it, for the nested, foldable list."""

    entry: Entry
    parent: str  # the folder's reference, read to assistive technology with the name
    children: list[Branch] = attrs.field(factory=list)
    open: bool = False


def _branches(entries: list[Entry], chosen: set[str]) -> list[Branch]:
    """The flat, depth-first listing of the media roots as nested branches."""
    top: list[Branch] = []
    path: list[Branch] = []
    unfold = len(entries) <= UNFOLDED_TREE
    for entry in entries:
        del path[entry.depth :]
        parent = path[-1] if path else None
        opened = unfold or entry.depth == 0 or any(ref.startswith(entry.ref + "/") for ref in chosen)
        branch = Branch(entry, parent.entry.ref if parent else "", open=opened and entry.is_dir)
        (parent.children if parent else top).append(branch)
        if entry.is_dir:
            path.append(branch)
    return top


# Which form fields a refusal is about, by its reason, so that they are marked (aria-invalid).
_FIELDS_OF = {"new_folder": ("bad_folder_name", "folder_exists"), "output_folder": ("output",), "sources": ("source",)}


def _invalid_fields(error: WebError | None, missing: tuple[str, ...] = ()) -> set[str]:
    if error is None:
        return set()
    if missing:
        return set(missing)
    if error.failure_class == "A":
        return {"intent"}
    return {field for field, marks in _FIELDS_OF.items() if any(mark in error.reason for mark in marks)}


def _new_job(
    request: Request,
    status: int = 200,
    error: WebError | None = None,
    intent: str = "",
    sources: list[str] | None = None,
    output_folder: str = "",
    new_folder: str = "",
    missing: tuple[str, ...] = (),
) -> Response:
    web = _service(request)
    intents = web.intents()
    entries = web.tree()
    return render(
        request,
        "new.html",
        status=status,
        title="New job",
        nav="new",
        selectable=[i for i in intents if i.selectable],
        unavailable=[i for i in intents if not i.selectable],
        tree=_branches(entries, set(sources or ())),
        folders=[e for e in entries if e.is_dir],
        error=error,
        invalid=_invalid_fields(error, missing),
        chosen_intent=intent,
        chosen_sources=set(sources or ()),
        chosen_output=output_folder,
        chosen_new_folder=new_folder,
    )


@pages.get("/jobs/new", response_class=HTMLResponse)
def new_job_page(request: Request) -> Response:
    return _new_job(request)


def only_fields(*names: str, lists: frozenset[str] = frozenset()) -> Callable[[Request], Awaitable[None]]:
    """A page form's fields (urlencoded: a body of any other type is refused as that type before): a
    field the form has not (an override posted by hand) or one given twice (other than `lists`) is
    refused, never ignored nor "the last one wins", as the API refuses them."""

    async def check(request: Request) -> None:
        seen: set[str] = set()
        for name, _ in (await request.form()).multi_items():
            if name not in names:
                raise WebError(
                    422,
                    "unknown_field",
                    f"The form has no field '{safe(name[:60])}': a job is one intent, its sources and an output "
                    "folder; nothing else can be chosen.",
                )
            if name in seen and name not in lists:
                raise WebError(422, "repeated_field", f"'{name}' was given more than once: choose one.")
            seen.add(name)

    return check


_NEW_JOB_FIELDS = only_fields(
    CSRF_FIELD, "intent", "sources", "output_folder", "new_folder", lists=frozenset({"sources"})
)


@pages.post("/jobs", response_class=HTMLResponse, dependencies=[Depends(_NEW_JOB_FIELDS)])
def create_job_form(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    intent: Annotated[str, Form()] = "",
    sources: Annotated[list[str], Form()] = [],  # noqa: B006  (FastAPI copies defaults per request)
    output_folder: Annotated[str, Form()] = "",
    new_folder: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    given = (("intent", "an intent", intent), ("sources", "sources", sources),
             ("output_folder", "an output folder", output_folder))  # fmt: skip
    missing = tuple(field for field, _, value in given if not value)
    if missing:
        words = [what for field, what, _ in given if field in missing]
        error = WebError(422, "incomplete_form", f"Choose {', '.join(words)}.")
        return _new_job(request, 422, error, intent, sources, output_folder, new_folder, missing)
    try:
        try:
            request_body = models.CreateJob(
                intent=intent, sources=sources, output_folder=output_folder, new_folder=new_folder.strip() or None
            )
        except ValidationError:
            raise WebError(422, "invalid_request", "The form is not valid: too many or too long values.") from None
        job = _service(request).create_job(request_body)
    except WebError as error:
        return _new_job(request, error.status, error, intent, sources, output_folder, new_folder)
    return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)


# A card of hundreds of clips is shown a page of clips at a time, its result document only through
# the download link: every clip shown costs its sections and checks (a 1,000-clip job page was 7 MB).
CLIP_PAGE_SIZE = 100


@pages.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, clips: int = 1) -> Response:
    service = _service(request)
    page = max(1, clips)
    first = (page - 1) * CLIP_PAGE_SIZE
    job = service.job(job_id, slice(first, first + CLIP_PAGE_SIZE), result_up_to=CLIP_PAGE_SIZE)
    count = len(job.sources)
    pages_of_clips = max(1, -(-count // CLIP_PAGE_SIZE))
    if page > pages_of_clips:  # past the last page (the link of an older, longer listing): the last one
        return RedirectResponse(f"/jobs/{job.job_id}?clips={pages_of_clips}", status_code=303)
    result_json = json.dumps(job.result, indent=2, ensure_ascii=False) if job.result else None
    final = job.state in FINAL
    return render(
        request, "job.html", job=job, result_json=result_json, final=final, title=f"Job {job.job_id}",
        announce=_announce(job),
        clip_page=page, clip_pages=pages_of_clips, first_clip=first + 1, last_clip=min(count, first + CLIP_PAGE_SIZE),
        clip_count=count, clip_page_size=CLIP_PAGE_SIZE,
    )  # fmt: skip


@pages.post("/jobs/{job_id}/retry", response_class=HTMLResponse, dependencies=[Depends(only_fields(CSRF_FIELD))])
def retry_form(request: Request, job_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    retried = _service(request).retry(job_id)
    return RedirectResponse(f"/jobs/{retried.job.job_id}", status_code=303)


@pages.post("/jobs/{job_id}/cancel", response_class=HTMLResponse, dependencies=[Depends(only_fields(CSRF_FIELD))])
def cancel_form(request: Request, job_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    cancelled = _service(request).cancel(job_id)
    return RedirectResponse(f"/jobs/{cancelled.job_id}", status_code=303)


def error_page(request: Request, error: WebError) -> Response:
    return render(request, "error.html", status=error.status, error=error, title=error.title)
