"""Spec section "What the UI Must Never Do": the web page and its operator API are a chooser, not a
control panel."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proxx import Proxx
from proxx.cli import main
from proxx.store import FAILED
from proxx.web.app import create_app
from proxx.web.roots import MediaRoots, parse_roots
from proxx.web.service import WebService

INTENT = "Review H.264"


@pytest.fixture
def media(tmp_path: Path, clip: Path) -> Path:
    root = tmp_path / "media"
    (root / "out").mkdir(parents=True)
    (root / "A001_C001.mov").write_bytes(clip.read_bytes())
    return root


@pytest.fixture
def web(proxx_home: Path, media: Path) -> Iterator[WebService]:
    proxx = Proxx.open()
    service = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
    yield service
    service.proxx.store.close()


@pytest.fixture
def http(web: WebService) -> Iterator[TestClient]:
    with TestClient(create_app(web)) as client:
        yield client


def _create(http: TestClient, intent: object = INTENT, **extra: object) -> object:
    body = {"intent": intent, "sources": ["media/A001_C001.mov"], "output_folder": "media/out", **extra}
    return http.post("/api/jobs", json=body)


def _writes(http: TestClient) -> set[tuple[str, str]]:
    document = http.get("/openapi.json").json()
    return {
        (m.upper(), p) for p, ops in document["paths"].items() for m in ops if m in ("post", "put", "patch", "delete")
    }


def test_1_no_profile_editing_no_route_writes_an_intent(http):
    assert _writes(http) == {
        ("POST", "/api/jobs"), ("POST", "/api/jobs/{job_id}/retry"), ("POST", "/api/jobs/{job_id}/cancel")
    }  # fmt: skip
    assert http.post("/api/intents", json={"name": "Mine"}).status_code == 405
    assert http.put("/api/intents", json={"name": "Mine"}).status_code == 405


def test_1_no_ad_hoc_profile_inline(http, web):
    inline = {"name": "Mine", "constraints": {"codecs": ["h264"]}}
    assert _create(http, intent=inline).status_code == 422
    assert _create(http, constraints={"codecs": ["h264"]}).status_code == 422
    assert web.proxx.store.jobs() == []


def test_2_no_substitute_when_compilation_fails(http, web):
    answer = _create(http, intent="Legacy_ProRes_422")
    assert answer.status_code == 422 and answer.json()["failure_class"] == "A"
    assert web.proxx.store.jobs() == []


def test_2_no_alternative_suggestion_without_re_selection(http, web):
    answer = _create(http, intent="Review H.26")
    assert answer.json()["detail"] == "Intent 'Review H.26' does not exist."  # names no other intent
    others = [i.name for i in web.intents() if i.name != "Review H.26"]
    assert not [name for name in others if name in answer.text]


def test_3_no_automatic_retry(http, web, media):
    (media / "A001_C001.mov").unlink()
    job_id = _create(http).json()["job_id"]
    for _ in range(3):  # an operator watching the job page: nothing is retried on their behalf
        http.get(f"/jobs/{job_id}")
        http.get(f"/api/jobs/{job_id}")
        http.get("/api/jobs")
    assert [row.job_id for row in web.proxx.store.jobs()] == [job_id]
    assert web.proxx.store.job(job_id).state == FAILED


def test_3_no_fixing_parameters_and_retrying(http, web, media, clip):
    source = media / "A001_C001.mov"
    source.unlink()
    job_id = _create(http).json()["job_id"]
    source.write_bytes(clip.read_bytes())
    answer = http.post(f"/api/jobs/{job_id}/retry", json={"intent": "Archive ProRes", "output_folder": "media"})
    assert answer.status_code == 201
    retry = web.proxx.store.spec(answer.json()["job"]["job_id"])
    original = web.proxx.store.spec(job_id)
    assert retry.proxy_profile_origin.name == INTENT and retry.output_directory == original.output_directory


def test_4_no_jobspec_modification_route(http, web):
    job_id = _create(http).json()["job_id"]
    for method in ("put", "patch", "delete"):
        assert getattr(http, method)(f"/api/jobs/{job_id}").status_code == 405
    assert web.proxx.store.spec(job_id).proxy_profile_origin.name == INTENT


def test_4_no_override_injected_into_execution(http, web):
    for override in ({"overrides": {"bitrate": "50M"}}, {"codec": "prores"}, {"proxy_profile": "proxy_prores_hq"}):
        answer = _create(http, **override)
        assert answer.status_code == 422, override
    assert web.proxx.store.jobs() == []


def test_5_no_closest_match_on_the_operator_s_behalf(http, web):
    answer = _create(http, intent="review h.264")  # near enough for a person, not the intent's name
    assert answer.status_code == 422 and web.proxx.store.jobs() == []


def test_5_no_fallback_to_a_default_intent(http, web):
    body = {"sources": ["media/A001_C001.mov"], "output_folder": "media/out"}
    assert http.post("/api/jobs", json=body).status_code == 422
    token = re.search(r'name="csrf" value="([^"]+)"', http.get("/jobs/new").text)
    assert token is not None
    page = http.post("/jobs", data={**body, "sources": body["sources"][0], "csrf": token.group(1)})
    assert page.status_code == 422 and "Choose an intent." in page.text
    assert web.proxx.store.jobs() == []


def test_6_no_suppressed_failure(http, web, media):
    (media / "A001_C001.mov").unlink()
    job_id = _create(http).json()["job_id"]
    expected = "Source file 'media/A001_C001.mov' does not exist."
    assert http.get(f"/api/jobs/{job_id}").json()["failure"]["message"] == expected
    assert expected.replace("'", "&#39;") in http.get(f"/jobs/{job_id}").text


def test_6_no_genericized_failure(operator_surfaces):
    from tests.conformance.surfaces import GENERIC

    web = {where: text for where, text in operator_surfaces.texts.items() if where.startswith(("web", "api"))}
    assert {where for where, text in web.items() if GENERIC.search(text)} == set()
    assert any("the proxy's video is not the format this intent promises" in text for text in web.values())


def test_7_no_canonical_ids_on_the_web_or_in_the_operator_list(operator_surfaces, proxx_home, capsys):
    ids = {p.id for p in Proxx.open().repository.registry}
    pattern = re.compile(r"(?<![\w./-])(?:" + "|".join(map(re.escape, ids)) + r")(?![\w/])", re.IGNORECASE)
    found = operator_surfaces.found(pattern)
    assert {where: words for where, words in found.items() if where.startswith(("web", "api"))} == {}
    assert main(["profiles", "--all"]) == 0
    assert not pattern.search(capsys.readouterr().out)


def test_7_no_codec_or_container_details(operator_surfaces):
    found = operator_surfaces.found(operator_surfaces.forbidden)
    assert found == {}  # nor on the CLI, the operator's other UI


def _multipart(fields: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    """A form as a browser posts it with enctype="multipart/form-data" (any client may)."""
    body = "".join(f'--b0\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields)
    return f"{body}--b0--\r\n".encode(), {"Content-Type": "multipart/form-data; boundary=b0"}


def test_4_no_override_injected_through_the_page_s_form(http, web):
    # The page's form takes what its fields ask (intent, sources, output folder, new folder): a field
    # it has not, posted by hand, is refused as the API refuses it, never ignored without a word.
    token = re.search(r'name="csrf" value="([^"]+)"', http.get("/jobs/new").text)
    assert token is not None
    form = [("csrf", token.group(1)), ("intent", INTENT), ("sources", "media/A001_C001.mov"),
            ("output_folder", "media/out")]  # fmt: skip
    for override in (("codec", "prores_hq"), ("resolution", "source"), ("proxy_profile", "proxy_prores_hq")):
        page = http.post("/jobs", data=dict([*form, override]), follow_redirects=False)
        assert page.status_code == 422 and f"'{override[0]}'" in html.unescape(page.text), override
        body, headers = _multipart([*form, override])  # the page's form is urlencoded: refused as its type
        page = http.post("/jobs", content=body, headers=headers, follow_redirects=False)
        assert page.status_code == 415, override
    assert web.proxx.store.jobs() == []
