"""Issue 13 through the web shell: a playlist inside a media root never reads the file it names;
operators see paths relative to the media roots, never the server's folders; 405 answers say which
methods are allowed; the OpenAPI document declares every problem answer."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from web_helpers import create, run

from proxx.web.service import WebService


def test_a_playlist_in_a_media_root_is_refused_and_reads_nothing(
    client: TestClient, service: WebService, media: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "outside" / "secret.mov"
    secret.parent.mkdir()
    secret.write_bytes((media / "day1" / "A001_C001.mov").read_bytes())
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.5,\n{secret}\n#EXT-X-ENDLIST\n"
    (media / "day1" / "A002.mov").write_text(playlist, encoding="utf-8")
    job_id = create(client, "media/day1/A002.mov")
    run(service, job_id)
    failure = client.get(f"/api/jobs/{job_id}").json()["failure"]
    assert (failure["failure_class"], failure["reason"]) == ("B", "source_not_media")
    assert failure["message"].startswith("Source file 'media/day1/A002.mov' is not a media file: it is an HLS")
    assert list((media / "out").iterdir()) == []


def test_operators_see_root_relative_paths_and_integrators_absolute_ones(
    client: TestClient, service: WebService, media: Path
) -> None:
    job_id = create(client, "media/day1/broken.mov")
    run(service, job_id)
    server_folder = str(media)
    operator = {
        "job": client.get(f"/api/jobs/{job_id}").text,
        "result": client.get(f"/api/jobs/{job_id}/result").text,
        "page": client.get(f"/jobs/{job_id}").text,
        "list": client.get("/api/jobs").text,
    }
    for name, text in operator.items():
        assert server_folder not in text, name
    detail = client.get(f"/api/jobs/{job_id}").json()
    assert (
        detail["failure"]["message"]
        == "Source file 'media/day1/broken.mov' is not a decodable video: "
        + (detail["failure"]["message"].split(": ", 1)[1])
    )
    result = client.get(f"/api/jobs/{job_id}/result").json()
    assert result["clips"][0]["source"] == "media/day1/broken.mov"
    assert result["clips"][0]["output"].startswith("media/out/broken.")
    raw = client.get(f"/api/integrator/jobs/{job_id}/result").json()
    assert raw["clips"][0]["source"] == str(media / "day1" / "broken.mov")


def test_a_method_a_path_does_not_have_is_405_with_allow(client: TestClient) -> None:
    response = client.delete("/api/jobs")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_every_operation_declares_its_problem_answers(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            for status in ("400", "405", "413", "422"):
                assert status in declared, f"{method.upper()} {path} does not declare {status}"
                assert "application/problem+json" in json.dumps(declared[status])


def test_a_job_log_or_result_replaced_by_a_link_shows_nothing_of_what_it_names(
    client: TestClient, service: WebService, tmp_path: Path
) -> None:
    """The page and the API read a job's log and result only as proxx's own files: a link put in
    their place (a group-writable PROXX_HOME) showed the file it named to anyone seeing the page."""
    job_id = create(client, "media/day1/A001_C001.mov")
    run(service, job_id)
    row = service.proxx.store.job(job_id)
    secret = tmp_path / "secret.txt"
    secret.write_text('{"state": "the secret"}\nthe secret line\n', encoding="utf-8")
    for path in (Path(row.log_path or ""), Path(row.result_path or "")):
        path.unlink()
        path.symlink_to(secret)
    answer = client.get(f"/api/jobs/{job_id}")
    assert answer.status_code == 200 and "the secret" not in answer.text
    assert answer.json()["log"] == "" and answer.json()["result"] is None
    assert "the secret" not in client.get(f"/jobs/{job_id}").text


def test_a_deeply_nested_body_is_a_problem_document_never_a_500(client: TestClient, media: Path) -> None:
    """A JSON body nested thousands deep (well under the size limit) made the duplicate-field check
    overflow Python's stack: a bare 500 'Internal Server Error' instead of a problem document."""
    deep = '{"intent": ' + "[" * 20_000 + "]" * 20_000 + ', "sources": ["media/day1/A001_C001.mov"]}'
    for kind in ("application/json", "application/problem+json; charset=utf-8"):
        response = client.post("/api/jobs", content=deep.encode(), headers={"content-type": kind})
        assert (response.status_code, response.headers["content-type"]) == (422, "application/problem+json")
        assert response.json()["reason"] == "request_too_deep"
    assert list((media / "out").iterdir()) == []


def test_a_name_that_is_not_text_is_refused_creating_nothing(client: TestClient, media: Path) -> None:
    """A reference holding a lone surrogate (how a JSON string carries a byte that is not UTF-8)
    reached the job store, which cannot write it: a 500 instead of a refusal."""
    body = {"intent": "Review H.264", "sources": ["media/day1/\udcff.mov"], "output_folder": "media/out"}
    text = json.dumps(body)  # ensure_ascii: the surrogate travels as \udcff
    response = client.post("/api/jobs", content=text.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["reason"], problem["failure_class"]) == ("name_not_text", "A")
    assert "\\xff" in problem["detail"]
    assert client.get("/api/jobs").json() == []


def test_a_refusal_before_any_job_names_paths_by_their_media_root_only(
    client: TestClient, service: WebService, media: Path
) -> None:
    """Class A refusals made while a job's folders are expanded (an empty folder, nothing missing) said
    the server's own folders ('/srv/media/empty') to operators, who see root-relative paths only."""
    (media / "empty").mkdir()
    body = {"intent": "Review H.264", "sources": ["media/empty"], "output_folder": "media/out"}
    response = client.post("/api/jobs", json=body)
    assert (response.status_code, response.json()["reason"]) == (422, "folder_without_media")
    assert response.json()["detail"].startswith("Folder 'media/empty' holds no video files")
    run(service, create(client, "media/day1/A001_C001.mov"))
    again = client.post("/api/jobs", json={**body, "sources": ["media/day1/A001_C001.mov"]})
    assert (again.status_code, again.json()["reason"]) == (409, "nothing_missing")
    assert "in 'media/out'" in again.json()["detail"]
    for answer in (response, again):
        assert str(media) not in answer.text


def test_proxies_never_go_into_a_folder_an_exporter_keeps_its_records_in(
    client: TestClient, service: WebService, media: Path
) -> None:
    """`ascmhl` as the new folder (or the output folder) put the proxies inside Fabric's ASC MHL
    history, where no generation records them."""
    body = {"intent": "Review H.264", "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/out"}
    response = client.post("/api/jobs", json={**body, "new_folder": "ascmhl"})
    assert (response.status_code, response.json()["reason"]) == (422, "bad_folder_name")
    assert not (media / "out" / "ascmhl").exists()
    (media / "out" / "ascmhl").mkdir()
    job_id = create_in(client, {**body, "output_folder": "media/out/ascmhl"})
    failure = client.get(f"/api/jobs/{job_id}").json()["failure"]
    assert (failure["failure_class"], failure["reason"]) == ("B", "output_in_records")
    assert list((media / "out" / "ascmhl").iterdir()) == []


def create_in(client: TestClient, body: dict[str, object]) -> str:
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id
