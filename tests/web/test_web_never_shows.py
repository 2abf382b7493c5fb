"""The spec's forbidden list, checked on everything an operator can reach: a crawler follows every
link of every page and calls every operator GET endpoint of the OpenAPI document, for a completed
job, a class B failure, a class C verification failure on the container and codec, and a retry,
and finds no canonical id, codec, container or command line anywhere."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import create, run

from proxx.export.exporter import Exporter
from proxx.plugin import hookimpl
from proxx.verify.checks import Check
from proxx.visibility import OperatorWords
from proxx.web.service import WebService


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.links.append(href.split("#")[0])


class _ContainerAndCodecDiffer:
    """A verification plugin that finds the container and codec wrong, naming them as a real check
    would: the failure message then carries codec and container values."""

    @hookimpl
    def proxx_verify_output(self, spec: Any, clip: Any, source: Any, output: Any) -> Iterator[Check]:
        yield Check("container", "mxf", "mp4", False)
        yield Check("video_codec", "dnxhd", "h264", False)


def forbidden(service: WebService) -> re.Pattern[str]:
    words: set[str] = {"h264", "h265", "hevc", "prores", "dnxhd", "dnxhr", "aac", "mov", "mp4", "mxf", "proxy_profile"}
    for profile in service.proxx.repository.registry:
        words |= {profile.id, profile.codec, profile.container}
    free = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    command = r"-c:v|-c:a|-map |-profile:v|libx264|prores_aw|prores_ks|-fps_mode|file:/|-progress"
    return re.compile(rf"(?<![\w./-])(?:{free})(?![\w/])|{command}", re.IGNORECASE)


@pytest.fixture
def jobs(client: TestClient, service: WebService) -> dict[str, str]:
    completed = create(client, "media/day1/A001_C001.mov")
    run(service, completed)
    invalid = create(client, "media/day1/broken.mov")
    run(service, invalid)
    retry = client.post(f"/api/jobs/{invalid}/retry").json()["job"]["job_id"]
    pm = service.proxx.plugin_manager
    pm.register(_ContainerAndCodecDiffer(), name="differ")
    try:
        differs = create(client, "media/day1/A001_C001.mov", intent="HD Editorial LT")
        run(service, differs)
    finally:
        pm.unregister(name="differ")
    return {"completed": completed, "invalid": invalid, "retry": retry, "differs": differs}


def test_the_verification_failure_really_names_codec_and_container(service: WebService, jobs: dict[str, str]) -> None:
    raw = service.raw_result(jobs["differs"])
    assert raw["state"] == "FAILED"
    assert raw["failure"]["message"] == (
        "Output file generated but failed verification: the proxy's file is not the type this intent promises; "
        "the proxy's video is not the format this intent promises. The proxy of 'A001_C001.mov' was not published: "
        "tell an administrator, who finds every check in the job's result."
    )
    assert {c["name"]: c["actual"] for c in raw["clips"][0]["checks"]}["video_codec"] == "h264"  # integrators
    shown = service.job(jobs["differs"]).failure
    assert shown is not None
    assert shown.message == raw["failure"]["message"]


def test_no_page_or_operator_endpoint_shows_implementation(
    client: TestClient, service: WebService, jobs: dict[str, str], media: Path
) -> None:
    pattern = forbidden(service)
    seen: dict[str, str] = {}
    queue = ["/", "/jobs", "/jobs/new", "/jobs/job-does-not-exist"]
    while queue:
        path = queue.pop()
        if path in seen or path.startswith("/static"):
            continue
        response = client.get(path)
        assert response.status_code in (200, 404), path
        seen[path] = response.text
        if "text/html" in response.headers["content-type"]:
            parser = _Links()
            parser.feed(response.text)
            queue.extend(parser.links)
    for job_id in jobs.values():
        assert f"/jobs/{job_id}" in seen  # every job was reached by following links

    document = client.get("/openapi.json").json()
    refs = ["media", "media/day1", "media/out"]
    for template, operations in document["paths"].items():
        if "get" not in operations or template.startswith("/api/integrator"):
            continue
        for job_id in jobs.values():
            for ref in refs:
                path = template.replace("{job_id}", job_id).replace("{ref}", ref)
                response = client.get(path)
                assert response.status_code in (200, 404), path
                seen[path] = response.text
    assert any(path.endswith("/result") for path in seen)
    assert len(seen) >= 20

    # Intent names and descriptions are the studio's own words ("Archive ProRes" is the spec's own
    # example): they are what operators choose by, so they are taken out before searching.
    studio_words = sorted({w for i in service.intents() for w in (i.name, i.description) if w}, key=len, reverse=True)
    for path, text in seen.items():
        for words in studio_words:
            text = text.replace(html.escape(words), "").replace(json.dumps(words)[1:-1], "")
        found = pattern.findall(text)
        assert not found, f"{path} shows {sorted(set(found))}"
    # What was hidden is there for integrators: the crawl would have caught it.
    integrator = client.get(f"/api/integrator/jobs/{jobs['completed']}").text
    assert pattern.search(integrator)


def test_free_text_keeps_file_names_and_rewords_free_standing_values(service: WebService) -> None:
    words = OperatorWords.of(service.proxx.repository.registry, ["Archive ProRes"])
    message = "Source file '/media/prores/A001.mov' cannot be rendered with this intent: cannot write prores_lt in mp4."
    assert words.message(message) == (
        "Source file '/media/prores/A001.mov' cannot be rendered with this intent: "
        "cannot write this format in this file type."
    )
    assert words.text("job 1 (Archive ProRes) in prores") == "job 1 (Archive ProRes) in this format"
    assert words.check("codec_profile", "LT", "HQ", False) == (
        "as the intent promises",
        "differs from what the intent promises",
    )
    assert words.check("dimensions", "80x46", "80x46", True) == ("80x46", "80x46")
    log = "job x on worker vm:1:2\n$ /usr/bin/ffmpeg -i file:/media/a.mov -c:v prores_aw out.mov\n[prores_aw @ 0x1] warning"
    assert words.log(log) == "job x\n(2 technical lines of the renderer not shown here)"


def test_file_names_are_the_operators_own_words(service):
    words = OperatorWords.of(service.proxx.repository.registry, ["Archive ProRes"])
    document = {
        "clips": [{"source": "/media/B001 ProRes HQ.mov", "output": "/out/B001 ProRes HQ.mov", "checks": []}],
        "failure": {"message": "Source file '/media/B001 ProRes HQ.mov' cannot be rendered with prores_hq."},
    }
    shown = words.result(document)
    assert shown["clips"][0]["source"] == "/media/B001 ProRes HQ.mov"
    assert shown["clips"][0]["output"] == "/out/B001 ProRes HQ.mov"
    message = shown["failure"]["message"]
    assert "'/media/B001 ProRes HQ.mov'" in message and "prores_hq" not in message


class _SourceGoneExporter:
    """An exporter that reads the job's source after its proxy was published, and finds it gone (a card
    taken out while its job ran): its traceback goes to the job's log, for an administrator."""

    @hookimpl
    def proxx_exporters(self) -> Iterator[Exporter]:
        def export(spec: Any, result: Any) -> None:
            Path(spec.clips[0].source).unlink()
            Path(spec.clips[0].source).read_bytes()

        yield Exporter("reads-the-source", export)


def test_the_job_log_shows_an_operator_no_traceback(client: TestClient, service: WebService) -> None:
    pm = service.proxx.plugin_manager
    pm.register(_SourceGoneExporter(), name="source-gone")
    del service.proxx.exporters  # collected once a Proxx: again, with this one
    try:
        job_id = create(client, "media/day1/A001_C001.mov")
        run(service, job_id)
    finally:
        pm.unregister(name="source-gone")
    log_path = service.proxx.store.job(job_id).log_path or ""
    assert "Traceback (most recent call last):" in Path(log_path).read_text()  # kept for an administrator
    shown = client.get(f"/api/jobs/{job_id}").json()["log"]
    page = client.get(f"/jobs/{job_id}").text
    for text in (shown, html.unescape(page)):
        assert "Traceback" not in text and 'File "' not in text and "line 1, in" not in text
    assert "exporter reads-the-source failed:" in shown
    assert "lines for an administrator not shown here" in shown
