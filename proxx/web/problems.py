"""RFC 9457 problem details: every error the web shell returns, with the proxx failure class.

A class A failure (the intent does not compile; nothing was created) is 422 with `failure_class`
"A" and the compiler's operator message verbatim as `detail`. Class B and C failures are not HTTP
errors: the job exists, is FAILED, and is read like any other job.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from proxx.errors import PreJobError
from proxx.visibility import OperatorWords

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem; `failure_class` and `reason` are proxx's own members."""

    type: str = Field(description="URI reference naming the problem type")
    title: str
    status: int
    detail: str = Field(description="for people: the failure's message, verbatim")
    reason: str = Field(description="stable machine-readable slug")
    failure_class: str | None = Field(
        default=None, description="'A' pre-job (nothing was created), 'B', 'C'; null for HTTP-level errors"
    )


class WebError(Exception):
    """An error answered as a problem document (API) or an error page (HTML)."""

    def __init__(self, status: int, reason: str, detail: str, failure_class: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.failure_class = failure_class

    @classmethod
    def of(cls, error: PreJobError, words: OperatorWords) -> WebError:
        """A class A failure (or a `JobStateError`), in the words the CLI says it in (`proxx.visibility`)."""
        named = error.context.get("profile")  # as the operator typed it, as the CLI says it
        if isinstance(named, str):
            words = words.keeping([named])
        detail = words.message(error.message, error.reason) or error.message
        if error.failure_class is None:  # a `JobStateError`: the job is not in a state for it, no failure
            return cls(409, error.reason, detail)
        return cls(422, error.reason, detail, error.failure_class.value)

    @property
    def title(self) -> str:
        if self.failure_class == "A":
            return "Pre-job failure: no job was created"
        return _TITLES.get(self.status, "Request failed")

    def problem(self) -> Problem:
        return Problem(
            type=f"urn:proxx:problem:{self.reason}",
            title=self.title,
            status=self.status,
            detail=self.detail,
            reason=self.reason,
            failure_class=self.failure_class,
        )


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    500: "Internal error",
    501: "Not implemented",
    503: "Service unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem documents for `statuses`."""
    return {
        status: {
            "description": _TITLES.get(status, "Problem"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
