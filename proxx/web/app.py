"""The ASGI application: pages, API, OpenAPI 3.1 document, problem documents, the guard."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

from proxx.errors import ConfigurationError, PreJobError
from proxx.version import __version__
from proxx.web.api import integrator, operator
from proxx.web.pages import error_page, pages
from proxx.web.problems import PROBLEM_MEDIA_TYPE, Problem, WebError, problem_responses
from proxx.web.security import DEFAULT_MAX_BODY, Guard, problem_response
from proxx.web.service import WebService

log = logging.getLogger("proxx.web")
DESCRIPTION = """Operators choose ONE intent, sources and an output folder, and watch their jobs; they
never configure encoding. Paths are media-root references `<root>/<relative path>`.

Operator endpoints (`/api/...`) never return a canonical profile id, codec, container or engine
command line. Integrator endpoints (`/api/integrator/...`) do: they return the canonical id, the
JobSpec and the raw result document.

Errors are RFC 9457 problem documents (`application/problem+json`) with proxx's `failure_class`
("A": the intent did not compile and nothing was created) and `reason`. Class B and C failures are
jobs in state FAILED, read like any job. There is no automatic retry: `POST /api/jobs/{id}/retry`
creates a new job. With a token configured, send `Authorization: Bearer <token>`."""


# What operators read of a configuration error that concerns the render farm (a retry or cancel of a
# farm job): what cannot be used, never the installation's words nor the broker's address (the server
# log has them), and never said as a broken profile repository.
_FARM_UNUSABLE = {
    "farm_unreachable": "The render farm cannot be reached now, so nothing was sent to it and the job is as it was. "
    "Ask an administrator to check the farm's broker; the server log has the details.",
    "farm_password_unknown": "The render farm cannot be used from this server (it does not know the broker's "
    "password), so nothing was sent to it. Ask an administrator; the server log has the details.",
    "farm_key_required": "The render farm cannot be used from this server (it does not have the farm's key), so "
    "nothing was sent to it. Ask an administrator; the server log has the details.",
    "dispatcher_not_installed": "The render farm cannot be used from this server (its plugin is not installed), so "
    "nothing was sent to it. Ask an administrator; the server log has the details.",
}
# ... and one that concerns where proxx keeps its records (PROXX_HOME): never said as a broken profile
# repository either.
_HOME_UNUSABLE = {
    "store_locked": "The job records are held by another program just now, so nothing was changed. Try again in a "
    "moment; if it lasts, ask an administrator (the server log says which file).",
    "home_full": "The space where proxx keeps its records is full, so nothing was changed. Ask an administrator to "
    "free space there; the server log has the details.",
    "home_unusable": "The space where proxx keeps its records cannot be written, so nothing was changed. Ask an "
    "administrator; the server log has the details.",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api", "/openapi"))


def create_app(
    service: WebService,
    token: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    allowed_hosts: frozenset[str] | None = None,
) -> Guard:
    app = FastAPI(
        title="proxx",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "operator", "description": "Intents, files, states and outcomes: never an implementation detail."},
            {
                "name": "integrator",
                "description": "Exposes canonical profile ids, JobSpecs, raw result documents and Fabric records.",
            },
        ],
        docs_url=None,  # the interactive docs load scripts from a CDN; /openapi.json is the document
        redoc_url=None,
    )
    app.state.service = service
    app.include_router(operator)
    app.include_router(integrator)
    app.include_router(pages)
    app.mount("/static", StaticFiles(packages=[("proxx.web", "static")]), name="static")

    def answer(request: Request, error: WebError) -> Response:
        return problem_response(error) if _is_api(request) else error_page(request, error)

    @app.exception_handler(WebError)
    async def web_error(request: Request, error: WebError) -> Response:
        return answer(request, error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in error.errors()[:10]
        )
        return answer(request, WebError(422, "invalid_request", f"The request is not valid: {details}"))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        reason = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        response = answer(request, WebError(error.status_code, reason, str(error.detail)))
        response.headers.update(error.headers or {})
        if error.status_code == 405:  # every method the path has (Starlette names only the first route's)
            response.headers["Allow"] = ", ".join(_allowed(request.url.path))
        return response

    @app.exception_handler(PreJobError)
    async def pre_job_error(request: Request, error: PreJobError) -> Response:
        # A class A failure outside a job's creation (the installation's configuration file cannot be
        # used, read again whenever the profiles are): said as it is, never as an internal error.
        return answer(request, service.refusal(error))

    @app.exception_handler(ConfigurationError)
    async def configuration_error(request: Request, error: ConfigurationError) -> Response:
        # The administrator's detail (file names, plugin names) goes to the server log, not to operators.
        log.error("configuration error on %s %s: %s", request.method, request.url.path, error.message)
        unusable = _FARM_UNUSABLE.get(error.reason) or _HOME_UNUSABLE.get(error.reason)
        if unusable is not None:
            return answer(request, WebError(503, error.reason, unusable))
        detail = "The profile repository or an installed plugin is broken; the server log has the details."
        return answer(request, WebError(503, "configuration_error", detail))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return answer(request, WebError(500, "internal_error", "Internal error: the server log has the details."))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_schema(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return Guard(app, token, max_body, allowed_hosts)


STATIC_METHODS = frozenset({"GET", "HEAD"})  # what StaticFiles answers


def _allowed(path: str) -> list[str]:
    """The methods the routes of `path` answer (the static files': GET and HEAD)."""
    if path == "/static" or path.startswith("/static/"):
        return sorted(STATIC_METHODS)
    methods: set[str] = set()
    for router in (operator, integrator, pages):
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path_regex.match(path):
                methods |= route.methods or set()
    return sorted(methods)


def _problem_schema(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its request-validation errors as `HTTPValidationError` JSON; proxx answers
    them as problem documents, so the document says so. Adds the Problem schema and bearer auth."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            # Any request may be malformed (400), use a method the path has not (405, with Allow),
            # be too large (413), of a type nothing reads (415) or invalid (422): every operation
            # documents those problem answers.
            for status, problem in problem_responses(400, 405, 413, 415).items():
                responses.setdefault(str(status), problem)
            responses["422"] = {
                "description": "Class A failure (nothing created) or invalid request",
                "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
    components["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{}, {"token": []}]
    return document
