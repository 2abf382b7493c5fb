"""What the web shows of jobs: only jobs whose files lie in its media roots, Retry only where a retry
could succeed, no output for a clip that has none, a cancel said as a cancel, and 405 answers that
name the methods that work (the static files' too)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import create, run

from proxx.cli import main
from proxx.web.service import WebService


def test_jobs_outside_the_media_roots_are_not_shown(
    client: TestClient, service: WebService, media: Path, tmp_path: Path
) -> None:
    inside = create(client, "media/day1/A001_C001.mov")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(media / "day1" / "A001_C001.mov", elsewhere / "SECRET_PROJECT.mov")
    outside = service.proxx.create_job("Review H.264", [elsewhere / "SECRET_PROJECT.mov"], elsewhere).job_id
    listed = [job["job_id"] for job in client.get("/api/jobs").json()]
    assert listed == [inside]
    for path in ("/jobs", f"/jobs/{outside}", f"/api/jobs/{outside}", f"/api/integrator/jobs/{outside}"):
        response = client.get(path)
        assert "SECRET_PROJECT" not in response.text and str(elsewhere) not in response.text, path
    assert client.get(f"/api/jobs/{outside}").status_code == 404
    assert client.get(f"/jobs/{outside[-8:]}").status_code == 404
    assert client.post(f"/api/jobs/{outside}/cancel").status_code == 404
    assert client.get("/api/jobs?limit=1&offset=0").json()[0]["job_id"] == inside  # pages count shown jobs only


def test_retry_only_where_a_retry_could_succeed_and_failed_clips_show_no_output(
    client: TestClient, service: WebService
) -> None:
    refused = create(client, "media/day1/broken.mov")
    run(service, refused)
    job = client.get(f"/api/jobs/{refused}").json()
    assert job["failure"]["failure_class"] == "B" and job["retryable"] is False
    assert all(clip["output"] is None for clip in job["clips"])
    listed = next(j for j in client.get("/api/jobs").json() if j["job_id"] == refused)
    assert listed["failed_clips"] == 1  # the refused clip counts as failed, as in `proxx jobs list`
    page = client.get(f"/jobs/{refused}").text
    assert "Retry as new job" not in page and "Output:" not in page

    cancelled = create(client, "media/day1/A001_C001.mov")
    client.post(f"/api/jobs/{cancelled}/cancel")
    job = client.get(f"/api/jobs/{cancelled}").json()
    assert job["state"] == "FAILED" and job["retryable"] is True and job["failure"]["cancelled"] is True
    page = client.get(f"/jobs/{cancelled}").text
    assert "Cancelled by the operator" in page and "The job failed" not in page and "Retry as new job" in page


def test_405_names_the_methods_that_work_for_pages_api_and_static_files(client: TestClient) -> None:
    for method, path, allowed in (
        ("delete", "/api/jobs", {"GET", "POST"}),
        ("post", "/static/style.css", {"GET", "HEAD"}),
        ("put", "/static/live.js", {"GET", "HEAD"}),
    ):
        response = client.request(method.upper(), path)
        assert response.status_code == 405, path
        assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed, path


def test_a_class_a_failure_reads_as_the_cli_says_it(
    client: TestClient, layer: Path, media: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The intent's own constraint names a file type: operators read "this file type", on every surface.
    (layer / "user" / "cont_bad.yaml").write_text(
        'user_profile_version: "1.2"\nname: Cont Bad\nconstraints:\n  codecs: [prores_lt]\n  containers: [mxf]\n'
    )
    listed = {i["name"]: i for i in client.get("/api/intents").json()}["Cont Bad"]["problem"]
    body = {"intent": "Cont Bad", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/out"}
    answer = client.post("/api/jobs", json=body)
    assert answer.status_code == 422 and answer.json()["failure_class"] == "A"
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    argv = ["run", "--profile", "Cont Bad", "--output", str(media / "out"), str(media / "day1" / "A001_C001.mov")]
    assert main(argv) == 3
    said = capsys.readouterr().err.removeprefix("proxx: ").strip()
    assert "this file type" in said and "mxf" not in said
    # Found INVALID by the first listing, it is said so from then on, the same everywhere.
    assert "Intent 'Cont Bad' no longer compiles: containers ([this file type]) constraint" in listed
    listed = {i["name"]: i for i in client.get("/api/intents").json()}["Cont Bad"]["problem"]
    assert answer.json()["detail"] == said and listed == said
