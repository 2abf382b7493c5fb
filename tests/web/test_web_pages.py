"""The pages without JavaScript: what each shows, and the live region served alone."""

from __future__ import annotations

import contextlib
import io
import re
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import create, run

from proxx.errors import ConfigurationError
from proxx.web.service import WebService
from tests.test_cli_jobs import cut_in_half


def test_new_job_page_offers_one_intent_choice_roots_and_no_settings(client: TestClient, media: Path) -> None:
    # What a card holds beside its media, and what proxx and Fabric write: never offered as sources.
    for name in ("day1/A001_C001.xml", "day1/A001.proxx-partial-0badc0de.mov", "day1/.DS_Store", "out/ascmhl/x.mhl",
                 "out/.proxx/index", "out/Proxy/A001_C001.mov", "day1/notes.txt"):  # fmt: skip
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_text("x")
    html = client.get("/jobs/new").text
    radios = re.findall(r'<input type="radio" name="intent" value="([^"]+)"([^>]*)>', html)
    enabled = [name for name, rest in radios if "disabled" not in rest]
    disabled = [name for name, rest in radios if "disabled" in rest]
    assert enabled == ["Archive ProRes", "HD Editorial LT", "Review H.264", "Studio Review"]
    assert disabled == ["Legacy_ProRes_422"]
    assert not any("checked" in rest for _, rest in radios)  # no default intent, ever
    assert re.findall(r'name="sources" value="([^"]+)"', html) == [  # media files, and folders as cards
        "media",
        "media/day1",
        "media/day1/A001_C001.mov",
        "media/day1/broken.mov",
        "media/out",
    ]
    assert re.findall(r'<option value="([^"]*)"', html) == ["", "media", "media/day1", "media/out"]
    names = set(re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', html))
    assert names == {"csrf", "intent", "sources", "output_folder", "new_folder"}  # nothing to configure


def test_job_pages_show_state_failure_and_retry_only_for_failed_jobs(client: TestClient, service: WebService) -> None:
    done = create(client, "media/day1/A001_C001.mov")
    run(service, done)
    failed = create(client, "media/day1/broken.mov")
    run(service, failed)
    page = client.get(f"/jobs/{done}").text
    assert "COMPLETED" in page and "Retry as new job" not in page and 'data-live="0"' in page
    assert "media/out/A001_C001.mp4" in page and "as the intent promises" in page
    page = client.get(f"/jobs/{failed}").text
    banner = page.split('<section class="failure"')[1].split("</section>")[0]
    assert "Job validation failure" in banner and "Class B" not in page
    assert "source_not_decodable" not in banner  # reason codes are for integrators
    assert "is not a decodable video" in page
    assert "Retry as new job" not in page  # a refusal would only be repeated: retry is for execution failures
    listing = client.get("/jobs?state=FAILED").text
    assert failed in listing and done not in listing
    assert client.get("/jobs/job-missing").status_code == 404


def test_the_live_region_is_served_alone_for_refreshes(client: TestClient, service: WebService) -> None:
    job_id = create(client, "media/day1/A001_C001.mov")
    fragment = client.get("/jobs", headers={"X-Proxx-Fragment": "1"}).text
    assert fragment.lstrip().startswith('<div id="live" data-live="1">') and "<html" not in fragment
    assert job_id in fragment and "QUEUED" in fragment
    fragment = client.get(f"/jobs/{job_id}", headers={"X-Proxx-Fragment": "1"}).text
    assert 'data-live="1"' in fragment and "<nav" not in fragment


def test_a_broken_installation_is_an_administrator_problem_without_details(
    client: TestClient, service: WebService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise ConfigurationError("unreadable_profile", "Cannot read '/etc/studio/profiles/x.yaml'.")

    monkeypatch.setattr(service, "intents", broken)
    for path in ("/api/intents", "/jobs/new"):
        response = client.get(path)
        assert response.status_code == 503
        assert "/etc/studio" not in response.text
        assert "broken" in response.text
        assert ("configuration_error" in response.text) == path.startswith("/api")  # the page shows no reason code


def test_a_failed_batch_names_the_failing_clip_first_and_folds_the_checks(
    client: TestClient, service: WebService, media: Path
) -> None:
    cut = media / "day1" / "B001_C001.mov"
    cut_in_half(cut.parent, cut.name)
    job_id = client.post(
        "/api/jobs",
        json={"intent": "Review H.264", "sources": ["media/day1/A001_C001.mov", "media/day1/B001_C001.mov"],
              "output_folder": "media/out"},
    ).json()["job_id"]  # fmt: skip
    run(service, job_id)
    page = client.get(f"/jobs/{job_id}").text
    banner = page.split('<section class="failure"')[1].split("</section>")[0]
    first = re.search(
        r'<ul class="failed-clips">\s*<li><a href="#clip-1"><strong>([^<]+)</strong></a>: ([^<]+)', banner
    )
    assert first is not None and first.group(1) == "B001_C001.mov"
    assert "1 of 2 clips failed; 1 proxy published." in banner
    assert page.index("failed-clips") < page.index('<dl class="summary">')
    assert (
        '<details class="checks" id="checks-0">' in page and "<td>Picture size</td>" in page
    )  # folded, in operator words
    assert "stopped at" not in page  # it ran to its end
    detail = client.get(f"/api/jobs/{job_id}").json()
    assert (detail["published"], detail["failed"], detail["not_run"]) == (1, 1, 0)
    names = {c["name"]: c["label"] for c in detail["clips"][0]["checks"]}
    assert names["frame_rate"] == "Frame rate"  # the technical name stays for integrators


def test_the_jobs_page_filters_like_the_cli(client: TestClient, service: WebService) -> None:
    first = create(client, "media/day1/broken.mov")
    run(service, first)
    second = create(client, "media/day1/broken.mov")
    service.proxx.store.hide([first])
    listing = client.get("/jobs").text
    assert second[-8:] in listing and first[-8:] not in listing
    assert first[-8:] in client.get("/jobs?all=1").text
    assert "No jobs match." in client.get("/jobs?since=2999-01-01").text
    api = client.get("/api/jobs?all=true&state=FAILED").json()  # the second failed in class B when created
    assert [(j["job_id"], j["hidden"]) for j in api] == [(second, False), (first, True)]
    assert client.get("/api/jobs?since=yesterday").status_code == 400


def test_the_jobs_page_names_the_first_of_several_problems(client: TestClient, media: Path) -> None:
    (media / "day1" / "other.mov").write_text("not a video either\n", encoding="utf-8")
    sources = ["media/day1/broken.mov", "media/day1/other.mov"]
    response = client.post(
        "/api/jobs", json={"intent": "Review H.264", "sources": sources, "output_folder": "media/out"}
    )
    assert response.status_code == 201, response.text
    row = re.search(r'<tr class="failure-row"><td colspan="7">([^<]*)</td>', client.get("/jobs").text)
    assert row is not None  # not only "2 problems, nothing was run:"
    assert row.group(1).startswith("2 problems, nothing was run: - Source file &#39;media/day1/")
    assert row.group(1).endswith(" …")


def test_a_running_job_shows_the_clips_it_published_so_far(
    client: TestClient, service: WebService, media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxx.cli import main
    from proxx.execute.journal import published_so_far
    from proxx.media.tools import find_tool
    from tests.wrapped_ffmpeg import wait_for, wrapped_ffmpeg

    (media / "day1" / "A001_C002.mov").hardlink_to(media / "day1" / "A001_C001.mov")
    sources = ["media/day1/A001_C001.mov", "media/day1/A001_C002.mov"]
    response = client.post(
        "/api/jobs", json={"intent": "Review H.264", "sources": sources, "output_folder": "media/out"}
    )
    job_id = response.json()["job_id"]
    # The real encoder, held back for the second clip until the test has looked at the running job.
    go = tmp_path / "go"
    encoder = wrapped_ffmpeg(tmp_path, "A001_C002", wait_for(go))
    monkeypatch.setenv("PROXX_FFMPEG", str(encoder))
    find_tool.cache_clear()
    running = threading.Thread(target=service.proxx.run_job, args=(job_id,))
    running.start()
    try:
        deadline = time.monotonic() + 60
        while not (service.proxx.store.job(job_id).log_path and published_so_far(service.proxx.home / "jobs" / job_id)):
            assert time.monotonic() < deadline and running.is_alive()
            time.sleep(0.02)
        page = client.get(f"/api/jobs/{job_id}").json()
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            assert main(["jobs", "show", job_id]) == 0
    finally:
        go.touch()
        running.join(120)
        find_tool.cache_clear()
    assert page["state"] == "RUNNING"
    assert [(c["source"], c["state"]) for c in page["clips"]] == [
        ("media/day1/A001_C001.mov", "completed"),
        ("media/day1/A001_C002.mov", "running"),
    ]
    assert "  A001_C001.mov  published  -> " in shown.getvalue() and "  A001_C002.mov  RUNNING  -> " in shown.getvalue()
    assert service.proxx.store.job(job_id).state == "COMPLETED"


def test_a_large_job_page_shows_its_clips_a_page_at_a_time(
    client: TestClient, service: WebService, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxx.web import pages

    monkeypatch.setattr(pages, "CLIP_PAGE_SIZE", 2)  # a card of hundreds, in small
    day1 = media / "day1"
    (day1 / "A001_C002.mov").hardlink_to(day1 / "A001_C001.mov")
    cut_in_half(day1, "A001_C003.mov")  # it passes validation and fails as it runs
    sources = [f"media/day1/A001_C00{n}.mov" for n in (1, 2, 3)]
    response = client.post(
        "/api/jobs", json={"intent": "Review H.264", "sources": sources, "output_folder": "media/out"}
    )
    job_id = response.json()["job_id"]
    run(service, job_id)
    first = client.get(f"/jobs/{job_id}").text
    assert first.count('<section class="clip"') == 2 and "Clips 1\u20132 of 3." in first
    assert f'<a href="/jobs/{job_id}?clips=2">Next 1</a>' in first  # above the clips too, not only below
    assert f'<a href="/jobs/{job_id}?clips=2">Last</a>' in first and ">First</a>" not in first
    assert f'href="/jobs/{job_id}?clips=2">Clips 3\u20133 \u2192' in first
    assert "Show the result JSON" not in first and f"/api/jobs/{job_id}/result" in first  # linked, not inlined
    # The failed clip, on a later page, is linked from the first, where its clip section is.
    assert f'<a href="/jobs/{job_id}?clips=2#clip-2">media/day1/A001_C003.mov</a>' in first
    assert "<dt>Output folder</dt><dd><code>media/out</code></dd>" in first
    second = client.get(f"/jobs/{job_id}?clips=2").text
    assert second.count('<section class="clip"') == 1 and 'id="clip-2"' in second and "\u2190 Clips 1\u20132" in second
    assert f'<a href="/jobs/{job_id}?clips=1">First</a>' in second
    assert client.get(f"/jobs/{job_id}?clips=9", follow_redirects=False).headers["location"].endswith("?clips=2")
    api = client.get(f"/api/jobs/{job_id}").json()
    assert len(api["clips"]) == 3  # the API still has every clip
    assert api["failed_indexes"] == [2] and api["output_folder"] == "media/out"
