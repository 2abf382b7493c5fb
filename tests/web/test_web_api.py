"""The HTTP API: intents, job creation and its class A failures, jobs, retry, results, problems."""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi.testclient import TestClient
from web_helpers import create, run, write_studio_intent

from proxx.web.service import WebService
from proxx_farm.state import FarmState
from proxx_farm.testing import RedisServer

PROBLEM = "application/problem+json"


def _job_count(client: TestClient) -> int:
    return len(client.get("/api/jobs").json())


def test_intents_list_every_intent_and_only_active_ones_are_selectable(client: TestClient) -> None:
    intents = {i["name"]: i for i in client.get("/api/intents").json()}
    assert intents["HD Editorial LT"]["selectable"] and intents["HD Editorial LT"]["lifecycle"] == "active"
    assert intents["Studio Review"]["selectable"]
    assert intents["Legacy_ProRes_422"]["lifecycle"] == "deprecated"
    assert not intents["Legacy_ProRes_422"]["selectable"]


def test_a_job_is_created_queued_and_completes_with_checks_shown_as_promises(
    client: TestClient, service: WebService
) -> None:
    job_id = create(client, "media/day1/A001_C001.mov")
    assert client.get(f"/api/jobs/{job_id}").json()["state"] == "QUEUED"
    run(service, job_id)
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "COMPLETED" and job["failure"] is None
    assert job["sources"] == ["media/day1/A001_C001.mov"]
    (clip,) = job["clips"]
    assert clip["output"] == "media/out/A001_C001.mp4" and clip["state"] == "completed"
    checks = {c["name"]: c for c in clip["checks"]}
    assert checks["container"]["expected"] == "as the intent promises"
    assert checks["video_codec"]["actual"] == "as the intent promises"
    assert checks["dimensions"] == {
        "name": "dimensions",
        "label": "Picture size",
        "expected": "80x46",
        "actual": "80x46",
        "passed": True,
    }
    assert "$ " not in job["log"] and "technical line" in job["log"]  # no command line, no placeholder
    assert [j["job_id"] for j in client.get("/api/jobs?state=COMPLETED").json()] == [job_id]
    assert client.get("/api/jobs?state=FAILED").json() == []


def test_a_deprecated_intent_fails_class_a_verbatim_and_creates_nothing(client: TestClient) -> None:
    before = _job_count(client)
    response = client.post(
        "/api/jobs",
        json={"intent": "Legacy_ProRes_422", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/out"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["failure_class"] == "A" and problem["reason"] == "profile_deprecated"
    assert problem["detail"] == "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs."
    assert _job_count(client) == before


def test_an_intent_deprecated_while_the_server_runs_is_refused_at_once(client: TestClient, layer: Path) -> None:
    write_studio_intent(layer, deprecated=True)
    response = client.post(
        "/api/jobs", json={"intent": "Studio Review", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "Intent 'Studio Review' is deprecated and cannot be used for new jobs."
    assert _job_count(client) == 0


def test_an_unknown_intent_is_not_replaced_by_a_close_one(client: TestClient) -> None:
    response = client.post(
        "/api/jobs", json={"intent": "HD Editorial", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "Intent 'HD Editorial' does not exist."
    assert _job_count(client) == 0


def test_overrides_and_unknown_fields_are_refused(client: TestClient) -> None:
    response = client.post(
        "/api/jobs",
        json={
            "intent": "Review H.264",
            "sources": ["media/day1/A001_C001.mov"],
            "output_folder": "media",
            "codec": "prores_hq",
        },
    )
    assert response.status_code == 422 and response.json()["reason"] == "invalid_request"
    assert _job_count(client) == 0


def test_paths_outside_the_media_roots_are_refused_without_saying_where_they_lead(
    client: TestClient, media: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret-place"
    secret.mkdir()
    (secret / "clip.mov").write_text("x")
    os.symlink(secret, media / "day1" / "escape")
    for source in ("media/../secret-place/clip.mov", str(secret / "clip.mov"), "media/day1/escape/clip.mov", "other/x"):
        response = client.post(
            "/api/jobs", json={"intent": "Review H.264", "sources": [source], "output_folder": "media"}
        )
        assert response.status_code == 400, source
        assert response.json()["reason"] == "outside_media_roots"
        assert "secret-place" not in response.text.replace(source, "")
    response = client.post(
        "/api/jobs",
        json={"intent": "Review H.264", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/.."},
    )
    assert response.status_code == 400
    assert _job_count(client) == 0
    listing = client.get("/api/media/media/day1").json()
    assert "escape" not in [e["name"] for e in listing["entries"]]
    assert client.get("/api/media/media/day1/escape").status_code == 400


def test_a_failed_job_shows_its_failure_and_retry_creates_a_new_job(client: TestClient, service: WebService) -> None:
    job_id = create(client, "media/day1/broken.mov")
    run(service, job_id)
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "FAILED"
    failure = job["failure"]
    assert failure["failure_class"] == "B" and failure["class_title"] == "job validation failure"
    assert "broken.mov' is not a decodable video" in failure["message"]
    response = client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 201
    retried = response.json()
    new_id = retried["job"]["job_id"]
    assert new_id != job_id and retried["job"]["retry_of"] == job_id
    assert retried["job"]["state"] == "FAILED"  # validated when created: the source is still broken
    original = client.get(f"/api/jobs/{job_id}").json()
    assert original["state"] == "FAILED" and original["retried_as"] == [new_id]


def test_a_job_refused_before_it_ran_counts_its_failed_clips_alike_in_the_list_and_alone(
    client: TestClient, service: WebService
) -> None:
    # A job refused in class B failed every clip, as `proxx jobs list` counts it: the list of jobs
    # said 1 and the same job's own document said 0.
    job_id = create(client, "media/day1/broken.mov")
    (listed,) = [job for job in client.get("/api/jobs").json() if job["job_id"] == job_id]
    alone = client.get(f"/api/jobs/{job_id}").json()
    assert (listed["failed_clips"], alone["failed_clips"]) == (1, 1)
    assert listed["refused"] and alone["refused"]  # why: none of its clips was run
    assert (alone["failed"], alone["not_run"]) == (0, 1)  # each clip's own state: none ran


def test_only_failed_jobs_can_be_retried(client: TestClient, service: WebService) -> None:
    job_id = create(client, "media/day1/A001_C001.mov")
    response = client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 409
    # not a pre-job failure (class A: the intent did not compile): the job is not in a state for it
    assert response.json()["failure_class"] is None and response.json()["reason"] == "not_retryable"
    assert response.json()["title"] == "Conflict"
    assert client.post("/api/jobs/job-nope/retry").status_code == 404


def test_result_documents_operator_copy_and_integrator_original(client: TestClient, service: WebService) -> None:
    job_id = create(client, "media/day1/A001_C001.mov")
    assert client.get(f"/api/jobs/{job_id}/result").status_code == 404
    run(service, job_id)
    operator = client.get(f"/api/jobs/{job_id}/result").json()
    assert "proxy_profile" not in operator and "engine" not in operator and "log_path" not in operator
    assert operator["proxy_profile_origin"]["name"] == "Review H.264"
    raw = client.get(f"/api/integrator/jobs/{job_id}/result").json()
    assert raw["proxy_profile"] == "proxy_h264_low"
    checks = {c["name"]: c for c in raw["clips"][0]["checks"]}
    assert checks["video_codec"]["actual"] == "h264"
    integrator = client.get(f"/api/integrator/jobs/{job_id}").json()
    assert integrator["proxy_profile"] == "proxy_h264_low"
    assert integrator["jobspec"]["job_id"] == job_id


def test_unknown_jobs_and_routes_are_problems(client: TestClient) -> None:
    for path in ("/api/jobs/job-nope", "/api/integrator/jobs/job-nope", "/api/nothing-here"):
        response = client.get(path)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    response = client.get("/api/jobs?state=DONE")
    assert response.status_code == 422 and response.json()["reason"] == "invalid_request"


def test_the_openapi_document_is_3_1_and_marks_integrator_endpoints(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert "/api/jobs" in paths and "/api/jobs/{job_id}/retry" in paths
    assert paths["/api/integrator/jobs/{job_id}"]["get"]["tags"] == ["integrator"]
    assert paths["/api/jobs"]["post"]["responses"]["422"]["content"]["application/problem+json"]
    assert not any(path.startswith("/jobs") for path in paths)  # pages are not API


def test_a_retry_compiles_afresh_and_a_now_deprecated_intent_creates_nothing(
    client: TestClient, service: WebService, layer: Path
) -> None:
    job_id = create(client, "media/day1/broken.mov", intent="Studio Review")
    run(service, job_id)
    write_studio_intent(layer, deprecated=True)
    response = client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 422 and response.json()["failure_class"] == "A"
    assert response.json()["detail"] == "Intent 'Studio Review' is deprecated and cannot be used for new jobs."
    assert _job_count(client) == 1
    client.cookies.set("proxx_csrf", "x")
    assert client.post(f"/jobs/{job_id}/retry", data={"csrf": "x"}).status_code == 403  # a planted token
    client.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/jobs/new").text)
    assert csrf
    page = client.post(f"/jobs/{job_id}/retry", data={"csrf": csrf.group(1)})
    assert page.status_code == 422 and "Intent &#39;Studio Review&#39; is deprecated" in page.text
    assert _job_count(client) == 1


def test_a_retry_whose_intent_now_makes_other_proxies_creates_nothing(
    client: TestClient, service: WebService, layer: Path
) -> None:
    job_id = create(client, "media/day1/broken.mov", intent="Studio Review")
    run(service, job_id)
    studio = layer / "user" / "studio_review.yaml"
    studio.write_text(studio.read_text().replace("scale_50", "scale_25"))  # the studio's profiles changed
    response = client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 422 and response.json()["failure_class"] == "A"
    assert response.json()["detail"].startswith(f"Job {job_id} cannot be retried: intent 'Studio Review' now makes")
    assert _job_count(client) == 1


def test_a_job_store_locked_by_another_process_is_said_as_that(
    client: TestClient, service: WebService, monkeypatch
) -> None:
    """It read "The profile repository or an installed plugin is broken" (before that, "Internal error")."""
    import sqlite3

    from proxx import store as store_module

    monkeypatch.setattr(store_module, "BUSY_SECONDS", 0.2, raising=False)
    service.proxx.store._db.execute("PRAGMA busy_timeout = 200")  # opened before: its wait as BUSY_SECONDS says
    holder = sqlite3.connect(service.proxx.store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post(
            "/api/jobs",
            json={"intent": "Review H.264", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/out"},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503 and response.json()["reason"] == "store_locked"
    assert response.json()["detail"].startswith("The job records are held by another program just now")
    assert _job_count(client) == 0


def test_cancel_ends_a_queued_job_and_refuses_a_finished_one(client: TestClient, service: WebService) -> None:
    queued = create(client, "media/day1/A001_C001.mov")
    assert 'action="/jobs/' + queued + '/cancel"' in client.get(f"/jobs/{queued}").text
    response = client.post(f"/api/jobs/{queued}/cancel")
    assert response.status_code == 200 and response.json()["state"] == "FAILED"
    assert response.json()["failure"]["message"] == "Cancelled by the operator before it started."
    job = client.get(f"/api/jobs/{queued}").json()
    assert [c["state"] for c in job["clips"]] == ["not_run"] and job["result"] is not None
    page = client.get(f"/jobs/{queued}").text
    assert "/cancel" not in page
    assert '<h2 id="failure-heading">Cancelled by the operator</h2>' in page  # a cancel reads as a cancel
    assert "xecution failure" not in page and job["failure"]["class_title"] == "Cancelled by the operator"
    again = client.post(f"/api/jobs/{queued}/cancel")
    assert again.status_code == 409 and again.json()["reason"] == "not_cancellable"


def test_a_folder_is_a_source_through_the_api(client: TestClient, service: WebService, media: Path) -> None:
    (media / "day1" / "A001_C001.xml").write_text("<sidecar/>")
    response = client.post("/api/jobs", json={"intent": "Review H.264", "sources": ["media/day1"],
                                              "output_folder": "media/out"})  # fmt: skip
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["sources"] == ["media/day1/A001_C001.mov", "media/day1/broken.mov"]  # media files, sidecar left out
    spec = service.proxx.store.spec(job["job_id"])
    assert [c.folder for c in spec.clips] == ["day1", "day1"]
    assert spec.clips[0].output.endswith("/media/out/day1/A001_C001.mp4")


def test_the_job_page_says_what_a_folder_left_out_and_a_re_run_with_nothing_missing_creates_no_job(
    client: TestClient, service: WebService, media: Path
) -> None:
    (media / "day1" / "broken.mov").unlink()
    (media / "day1" / "ZOOM0001.WAV").write_bytes(b"RIFF....WAVE")
    job_id = create(client, "media/day1")
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["left_out"] == [
        {"source": "media/day1/ZOOM0001.WAV", "why": "a sound file, not a camera clip",
         "proxy": None},
    ]  # fmt: skip
    assert "ZOOM0001.WAV</code>: a sound file, not a camera clip" in client.get(f"/jobs/{job_id}").text
    assert service.proxx.run_job(job_id) is not None
    again = client.post("/api/jobs", json={"intent": "Review H.264", "sources": ["media/day1"],
                                           "output_folder": "media/out"})  # fmt: skip
    assert again.status_code >= 400 and again.json()["reason"] == "nothing_missing", again.text
    assert "Every source already has its verified proxy" in again.json()["detail"]
    assert len(service.proxx.store.jobs()) == 1


def test_cancel_stops_a_running_job_in_another_process(
    client: TestClient, service: WebService, media: Path, proxx_home: Path
) -> None:
    import subprocess
    import sys
    import time

    from tests.long_clip import make_long_clip

    make_long_clip(media / "day1" / "LONG.mov", size="1280x720", frames=2400, audio=())
    job_id = create(client, "media/day1/LONG.mov")
    worker = subprocess.Popen([sys.executable, "-m", "proxx", "worker", "--once"],
                              env={**os.environ, "PROXX_HOME": str(proxx_home)})  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not list((media / "out").glob(".proxx-partial-*/*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        response = client.post(f"/api/jobs/{job_id[-8:]}/cancel")  # the short id, as everywhere
        assert response.status_code == 200 and response.json()["state"] == "RUNNING"
        assert worker.wait(timeout=30) == 5  # the job it ran ended FAILED (cancelled): `--once` says so
    finally:
        worker.kill()
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "FAILED" and job["failure"]["message"].startswith("Cancelled by the operator")
    assert [c["state"] for c in job["clips"]] == ["failed"]
    assert list((media / "out").iterdir()) == []  # the encoder's partial removed


def test_the_web_cancel_reaches_a_queued_farm_job(client: TestClient, service: WebService, media: Path) -> None:
    """A job queued on the render farm from another shell (no worker has taken it yet) is cancelled
    there from the web: it ends FAILED at once, and its claim is taken so that no worker starts it."""
    with RedisServer() as server:
        spec = service.proxx.submit("Review H.264", [media / "day1" / "A001_C001.mov"], media / "out", farm=server.url)
        queued = spec.job_id
        response = client.post(f"/api/jobs/{queued}/cancel")
        assert response.status_code == 200 and response.json()["state"] == "FAILED"
        assert response.json()["failure"]["message"] == "Cancelled by the operator before it started."
        farm = FarmState.connect(server.url)
        assert (farm.job(queued)["state"], farm.job(queued)["reason"]) == ("FAILED", "cancelled by the operator")
        assert not farm.claim(queued, "a-worker:1", lease=5)  # a worker receiving its task never starts it
        assert [c["state"] for c in client.get(f"/api/jobs/{queued}").json()["clips"]] == ["not_run"]


def test_an_intent_named_like_a_canonical_id_is_said_as_the_operator_typed_it(client: TestClient) -> None:
    """The CLI says "Intent 'proxy_prores_lt_hd' does not exist."; the web said "Intent 'this
    intent's proxy format' does not exist." (the operator's own words, reworded as a canonical id)."""
    response = client.post(
        "/api/jobs",
        json={"intent": "proxy_prores_lt_hd", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "Intent 'proxy_prores_lt_hd' does not exist."


def test_an_intent_given_twice_is_refused_not_the_last_one_taken(client: TestClient) -> None:
    body = (
        '{"intent": "HD Editorial LT", "intent": "Review H.264", '
        '"sources": ["media/day1/A001_C001.mov"], "output_folder": "media"}'
    )
    response = client.post("/api/jobs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == "'intent' was given more than once: choose one."
    assert response.json()["reason"] == "repeated_field"
    form = "intent=HD+Editorial+LT&intent=Review+H.264&sources=media%2Fday1%2FA001_C001.mov&output_folder=media"
    page = client.post("/jobs", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (page.status_code, page.json()["reason"]) == (422, "repeated_field")
    assert _job_count(client) == 0


def test_a_new_folder_is_never_made_for_a_job_refused_for_writing_on_a_card(
    client: TestClient, service: WebService, media: Path
) -> None:
    """The card rule is decided before the new folder is made: a refused job leaves the card as it was."""
    card = media / "cardA"
    card.mkdir()
    os.link(media / "day1" / "A001_C001.mov", card / "A001_C001.mov")
    response = client.post("/api/jobs", json={"intent": "Review H.264", "sources": ["media/cardA"],
                                              "output_folder": "media/cardA", "new_folder": "y"})  # fmt: skip
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["state"] == "FAILED" and job["failure"]["reason"] == "output_inside_source_folder", job
    assert sorted(p.name for p in card.iterdir()) == ["A001_C001.mov"]  # no y/, nothing else
    made = client.post("/api/jobs", json={"intent": "Review H.264", "sources": ["media/cardA"],
                                          "output_folder": "media/out", "new_folder": "y"})  # fmt: skip
    assert made.status_code == 201 and made.json()["state"] == "QUEUED", made.text
    assert (media / "out" / "y").is_dir()


def test_a_body_neither_json_nor_a_page_form_is_refused_as_its_type(client: TestClient) -> None:
    """A page's form sent as multipart/form-data took the LAST of two intents (the duplicate check
    reads JSON and urlencoded bodies only); a JSON body labelled text/plain read as "Input should be
    a valid dictionary". Every write body is JSON or the pages' urlencoded form; anything else is 415."""
    new_page = client.get("/jobs/new").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', new_page)
    assert csrf
    fields = [("csrf", csrf.group(1)), ("intent", "HD Editorial LT"), ("intent", "Review H.264"),
              ("sources", "media/day1/A001_C001.mov"), ("output_folder", "media/out")]  # fmt: skip
    page = client.post("/jobs", files=[(name, (None, value)) for name, value in fields], follow_redirects=False)
    assert (page.status_code, page.json()["reason"]) == (415, "unsupported_media_type")
    body = '{"intent": "Review H.264", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/out"}'
    for kind in ("text/plain", "application/xml", None):
        headers = {"Content-Type": kind} if kind else {}
        response = client.post("/api/jobs", content=body, headers=headers)
        assert (response.status_code, response.headers["content-type"]) == (415, "application/problem+json"), kind
    assert _job_count(client) == 0
