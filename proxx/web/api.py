"""The HTTP API (JSON). Operator endpoints under /api; integrator endpoints, which expose canonical
ids, raw result documents and Fabric records, under /api/integrator. Errors are RFC 9457 problem
documents (`proxx.web.problems`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from proxx.web import models
from proxx.web.problems import problem_responses
from proxx.web.service import WebService

JobId = Annotated[str, Path(min_length=1, max_length=200, description="a job id, e.g. job-20261125T130501Z-3f9a1c2b")]

operator = APIRouter(prefix="/api", tags=["operator"], responses=problem_responses(401, 413, 422, 503))
integrator = APIRouter(prefix="/api/integrator", tags=["integrator"], responses=problem_responses(401, 422, 503))


def service(request: Request) -> WebService:
    web: WebService = request.app.state.service
    return web


@operator.get("/intents", summary="Intents an operator may see; only selectable ones can be chosen")
def list_intents(request: Request) -> list[models.Intent]:
    return service(request).intents()


@operator.get("/media", summary="The media roots")
def media_roots(request: Request) -> models.Folder:
    return service(request).root_folders()


@operator.get("/media/{ref:path}", summary="One folder inside the media roots", responses=problem_responses(400, 404))
def media_folder(request: Request, ref: str) -> models.Folder:
    return service(request).folder(ref)


@operator.get("/jobs", summary="Recent jobs, newest first, a page at a time; hidden jobs only with all=true")
def list_jobs(
    request: Request,
    state: models.State | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
    since: Annotated[str | None, Query(description="created at or after this ISO date or time")] = None,
    all: bool = False,
) -> list[models.Job]:
    return service(request).jobs(state, limit, since=since, hidden=all, offset=offset)


@operator.post(
    "/jobs",
    status_code=201,
    summary="Create a job: compile the ONE chosen intent; a class A failure (422) creates nothing, and so does a "
    "re-run whose every proxy is already there (409, no failure class)",
    responses=problem_responses(400, 403, 409),
)
def create_job(request: Request, body: models.CreateJob) -> models.Job:
    return service(request).create_job(body)


@operator.get(
    "/jobs/{job_id}", summary="One job: sources, outputs, checks, failure, log", responses=problem_responses(404)
)
def show_job(request: Request, job_id: JobId) -> models.JobDetail:
    return service(request).job(job_id)


@operator.post(
    "/jobs/{job_id}/retry",
    status_code=201,
    summary="Create a NEW job for a FAILED job's clips without a verified output; the original stays FAILED",
    responses=problem_responses(403, 404, 409),
)
def retry_job(request: Request, job_id: JobId) -> models.Retried:
    return service(request).retry(job_id)


@operator.post(
    "/jobs/{job_id}/cancel",
    summary="Cancel a queued or running job: it ends FAILED, cancelled by the operator (its worker stops it)",
    responses=problem_responses(403, 404, 409),
)
def cancel_job(request: Request, job_id: JobId) -> models.Job:
    return service(request).cancel(job_id)


@operator.get(
    "/jobs/{job_id}/result", summary="The job's result document (operator copy)", responses=problem_responses(404)
)
def job_result(request: Request, job_id: JobId) -> dict[str, Any]:
    return service(request).operator_result(job_id)


@integrator.get(
    "/jobs/{job_id}", summary="A job with its canonical id and full JobSpec", responses=problem_responses(404)
)
def integrator_job(request: Request, job_id: JobId) -> models.IntegratorJob:
    return service(request).integrator_job(job_id)


@integrator.get("/jobs/{job_id}/result", summary="The raw result document", responses=problem_responses(404))
def integrator_result(request: Request, job_id: JobId) -> dict[str, Any]:
    return service(request).raw_result(job_id)


@integrator.get(
    "/lookup/{name}/{key}",
    summary="What a plugin's lookup knows under a key (Fabric's: a proxy fingerprint); 404 for unknown ones",
    responses=problem_responses(404),
)
def plugin_lookup(
    request: Request,
    name: Annotated[str, Path(min_length=1, max_length=100)],
    key: Annotated[str, Path(min_length=1, max_length=500)],
) -> dict[str, Any]:
    return dict(service(request).lookup(name, key))
