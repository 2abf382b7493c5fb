"""Tokens, CSRF, cross-origin writes, request size, and the fabric integration point."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from proxx.plugin import WebLookup, hookimpl
from proxx.web.app import create_app
from proxx.web.server import is_loopback, required_token
from proxx.web.service import WebService


def test_loopback_needs_no_token_and_any_other_bind_gets_one() -> None:
    assert required_token("127.0.0.1", None) == (None, False)
    assert required_token("::1", None) == (None, False)
    token, generated = required_token("0.0.0.0", None)
    assert generated and token and len(token) >= 24
    assert required_token("192.168.1.20", "fixed") == ("fixed", False)
    assert required_token("127.0.0.1", "fixed") == ("fixed", False)
    assert not is_loopback("proxx.example")


def test_a_token_guards_every_request(service: WebService) -> None:
    with TestClient(create_app(service, token="s3cret")) as http:
        for path in ("/api/jobs", "/openapi.json", "/jobs", "/static/style.css"):
            response = http.get(path)
            assert response.status_code == 401, path
            assert response.headers["content-type"] == "application/problem+json"
        assert http.get("/api/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/api/jobs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        # The printed URL logs a browser in: the token goes into a cookie and out of the address bar.
        response = http.get("/jobs?token=s3cret&state=FAILED", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/jobs?state=FAILED"
        assert http.get("/jobs").status_code == 200


def test_the_token_login_redirects_only_to_a_local_path(service: WebService) -> None:
    with TestClient(create_app(service, token="s3cret")) as http:
        for path in ("//evil.example/x", "/\\evil.example/x", "///evil.example/x"):
            response = http.get(f"http://testserver{path}?token=s3cret", follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/evil.example/x", path


def _csrf(http: TestClient, page: str = "/jobs/new") -> str:
    html = http.get(page).text
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_form_posts_need_the_csrf_token(client: TestClient) -> None:
    form = {"intent": "Review H.264", "sources": "media/day1/A001_C001.mov", "output_folder": "media/out"}
    assert client.post("/jobs", data=form, follow_redirects=False).status_code == 403
    assert client.post("/jobs", data={**form, "csrf": "forged"}, follow_redirects=False).status_code == 403
    assert client.get("/api/jobs").json() == []
    response = client.post("/jobs", data={**form, "csrf": _csrf(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/job-")


def test_cross_origin_writes_are_refused(client: TestClient) -> None:
    body = {"intent": "Review H.264", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media"}
    response = client.post("/api/jobs", json=body, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and response.json()["reason"] == "cross_origin"
    response = client.post("/api/jobs", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert client.get("/api/jobs").json() == []


def test_request_bodies_are_bounded(service: WebService) -> None:
    with TestClient(create_app(service, max_body=1024)) as http:
        body = {"intent": "Review H.264", "sources": ["media/x" * 300], "output_folder": "media"}
        response = http.post("/api/jobs", json=body)
        assert response.status_code == 413 and response.json()["reason"] == "request_too_large"

        def chunks() -> Any:
            yield b'{"intent": "' + b"x" * 800
            yield b"x" * 800 + b'"}'

        response = http.post("/api/jobs", content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413


def test_a_lookup_no_plugin_provides_is_404(service: WebService) -> None:
    service.lookups = {}
    with TestClient(create_app(service)) as http:
        response = http.get("/api/integrator/lookup/fabric/fp1-abc")
    assert response.status_code == 404 and response.json()["reason"] == "lookup_unknown"


class _Lookups:
    """A plugin providing the lookup "index" through the hook."""

    @hookimpl
    def proxx_web_lookups(self) -> Iterator[WebLookup]:
        records = {"fp1-abc": {"job_id": "job-1", "proxy_profile": "proxy_h264_low"}}
        yield WebLookup("index", records.get, "a fingerprint")


def test_a_lookup_asks_the_plugin_providing_it(service: WebService) -> None:
    pm = service.proxx.plugin_manager
    pm.register(_Lookups(), name="lookups")
    try:
        service.lookups = pm.web_lookups()
        with TestClient(create_app(service)) as http:
            assert http.get("/api/integrator/lookup/index/fp1-abc").json()["proxy_profile"] == "proxy_h264_low"
            response = http.get("/api/integrator/lookup/index/fp1-zzz")
            assert response.status_code == 404 and response.json()["reason"] == "key_unknown"
    finally:
        pm.unregister(name="lookups")


@pytest.mark.parametrize("spec", ["", "no-such-folder-anywhere", "a=b=c"])
def test_bad_media_roots_are_configuration_errors(spec: str) -> None:
    from proxx.web.roots import parse_roots

    with pytest.raises(ValueError):
        parse_roots([spec] if spec else [])


def test_without_a_token_only_loopback_host_names_are_answered(service: WebService) -> None:
    from proxx.web.security import loopback_hosts

    with TestClient(
        create_app(service, allowed_hosts=loopback_hosts("127.0.0.1")), base_url="http://127.0.0.1:8421"
    ) as http:
        assert http.get("/api/jobs").status_code == 200
        assert http.get("/api/jobs", headers={"Host": "localhost:8421"}).status_code == 200
        assert http.get("/api/jobs", headers={"Host": "[::1]:8421"}).status_code == 200
        response = http.get("/api/jobs", headers={"Host": "rebound.example:8421"})
        assert response.status_code == 400 and response.json()["reason"] == "host_not_allowed"


def test_a_browser_without_the_token_gets_a_page_saying_where_it_is(service: WebService) -> None:
    with TestClient(create_app(service, token="s3cret")) as http:
        response = http.get("/jobs", headers={"Accept": "text/html"})
        assert response.status_code == 401 and "access token" in response.text and "s3cret" not in response.text


def test_an_oversized_form_is_refused_on_the_page(client: TestClient) -> None:
    html = client.get("/jobs/new").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf
    form = {"csrf": csrf.group(1), "intent": "x" * 600, "sources": "media/day1/A001_C001.mov", "output_folder": "media"}
    response = client.post("/jobs", data=form)
    assert response.status_code == 422 and "The form is not valid" in response.text


def test_responses_forbid_framing_inline_scripts_and_referrers(client: TestClient) -> None:
    for path in ("/jobs/new", "/api/jobs", "/api/jobs/job-nope"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"


def test_fabric_lookup_answers_from_the_installed_fabric_plugin(service: WebService) -> None:
    from web_helpers import create, run

    if "fabric" not in service.lookups:
        pytest.skip("the Fabric plugin is not installed")
    with TestClient(create_app(service)) as http:
        job_id = create(http, "media/day1/A001_C001.mov")
        run(service, job_id)
        result = http.get(f"/api/integrator/jobs/{job_id}/result").json()
        (export,) = [e for e in result["exports"] if e["exporter"] == "fabric"]
        fingerprint = export["details"]["clips"][0]["fingerprint"]
        record = http.get(f"/api/integrator/lookup/fabric/{fingerprint}").json()
    assert record["proxy_profile"] == result["proxy_profile"]
    assert record["proxies"][0]["job_id"] == job_id
