"""The JSON documents of the HTTP API (pydantic: FastAPI derives the OpenAPI 3.1 schemas from them).

Operator documents name intents, files, states and outcomes only. `IntegratorJob` adds the
canonical id and the raw result document, and is served under `/api/integrator/...` only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

State = Literal["QUEUED", "RUNNING", "COMPLETED", "FAILED"]


class Intent(BaseModel):
    name: str
    description: str
    lifecycle: Literal["active", "deprecated", "graduated", "invalid"]
    selectable: bool = Field(description="false for deprecated and invalid intents: they cannot be chosen")
    problem: str | None = Field(default=None, description="why an invalid intent no longer compiles")
    replaced_by: list[str] = Field(
        default=[], description="the intents that replace a deprecated one (never chosen for you)"
    )


class Entry(BaseModel):
    ref: str = Field(description="'<root name>/<relative path>': how paths are named in this API")
    name: str
    is_dir: bool


class Folder(BaseModel):
    ref: str
    entries: list[Entry]


class CreateJob(BaseModel):
    """A new job: ONE intent, sources and an output folder, all by media-root reference. Nothing else
    (no overrides, no settings) can be given."""

    model_config = ConfigDict(extra="forbid")

    intent: str = Field(min_length=1, max_length=500)
    sources: list[str] = Field(min_length=1, max_length=500)
    output_folder: str = Field(min_length=1, max_length=4096)
    new_folder: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="a sub-folder to make inside `output_folder` (one name, no '/'), where the proxies then go",
    )


class Failure(BaseModel):
    failure_class: str = Field(description="'A', 'B' or 'C'")
    class_title: str = Field(description="the class in words, e.g. 'execution failure, class C'")
    reason: str = Field(description="stable machine-readable slug (never shown on the pages)")
    message: str
    cancelled: bool = Field(default=False, description="the operator cancelled the job (its state stays FAILED)")


class Job(BaseModel):
    job_id: str
    state: State
    intent: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: float = Field(ge=0, le=1)
    eta_seconds: float | None
    sources: list[str] = Field(description="every source of the job; in a list of jobs, the first only")
    source_count: int = Field(default=0, description="how many sources the job has")
    retry_of: str | None
    failure: Failure | None
    stopped: bool = Field(default=False, description="the job stopped while it ran (cancelled, lost, timed out)")
    published: int | None = Field(default=None, description="proxies published, once the job ended")
    failed_clips: int | None = Field(
        default=None, description="clips that failed, once the job ended (every clip of a refused job)"
    )
    refused: bool = Field(
        default=False, description="refused by its checks before anything ran (class B): none of its clips was run"
    )
    hidden: bool = Field(default=False, description="left out of lists unless asked for (kept for audit)")
    note: str | None = Field(
        default=None,
        description="why a queued job may never run (a render farm job no worker takes), as `proxx jobs show` says it",
    )
    retryable: bool = Field(
        default=False,
        description="a retry could succeed: the job failed while it ran (an execution failure, a cancel, a lost "
        "worker); a refusal before anything ran would only be repeated",
    )


class Check(BaseModel):
    name: str = Field(description="the technical name, e.g. frame_rate")
    label: str = Field(default="", description="the check in an operator's words, e.g. Frame rate")
    expected: str
    actual: str
    passed: bool


class Clip(BaseModel):
    index: int
    source: str
    output: str | None = Field(description="where its proxy is (or will be); none for a failed clip")
    state: str = Field(description="completed, failed, not_run; or the job's state before it ran")
    partial_output: str | None = None
    checks: list[Check] = []
    failure: Failure | None = None


class LeftOut(BaseModel):
    source: str = Field(description="a file of a folder the job was given, which it does not proxy")
    why: str = Field(description="why, in an operator's words: not video, or already proxied")
    proxy: str | None = Field(default=None, description="an already proxied file's verified proxy")


class JobDetail(Job):
    clips: list[Clip]
    left_out: list[LeftOut] = Field(default=[], description="files of its folders the job does not proxy")
    failed: int = Field(default=0, description="clips that failed, each with its own failure")
    failed_indexes: list[int] = Field(
        default=[], description="the `index` of its first 20 failed clips (of a card: where its page links to)"
    )
    output_folder: str = Field(default="", description="where its proxies go")
    not_run: int = Field(default=0, description="clips never started (the job stopped, or was refused)")
    problems: list[str] = Field(default=[], description="every problem found before anything ran")
    retried_as: list[str] = Field(description="jobs created by retrying this one")
    log: str
    result: dict[str, Any] | None = Field(description="the result document, operator copy")


class Retried(BaseModel):
    job: Job
    clips_already_verified: int = Field(description="clips of the original with a verified output, not repeated")


class IntegratorJob(BaseModel):
    job_id: str
    state: State
    intent: str
    proxy_profile: str = Field(description="the canonical profile id the intent compiled to")
    created_at: str
    retry_of: str | None
    failure_class: str | None
    reason: str | None
    message: str | None
    jobspec: dict[str, Any]
    result: dict[str, Any] | None
