"""The installation's configuration file (`PROXX_HOME/proxx.toml`): the profile repositories the
commands that create jobs use, its place among the layers, and a broken file as a clear class A
error, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.config import MAX_CONFIG_BYTES, config_path
from proxx.errors import PreJobError

INTENT = "Studio Review"


def _repository(folder: Path, overrides: bool, resolution: str = "scale_50") -> Path:
    (folder / "user").mkdir(parents=True)
    replace = "overrides: true\n" if overrides else ""
    (folder / "user" / "studio.yaml").write_text(
        f'user_profile_version: "1.1"\nname: {INTENT}\n{replace}constraints:\n  codecs: [h264]\n'
        f"  resolution: [{resolution}]\n  engine_preference: [ffmpeg]\n"
    )
    return folder


def _configure(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    config_path(home).write_text(text)
    return config_path(home)


def test_the_configured_repository_is_what_run_uses(proxx_home, tmp_path, capsys):
    _repository(tmp_path / "studio", overrides=False)
    _configure(proxx_home, '[profiles]\nrepositories = ["../studio"]\n')  # relative: from the file's folder
    assert main(["profiles"]) == 0
    assert INTENT in capsys.readouterr().out
    spec = Proxx.open().create_job(INTENT, [tmp_path / "gone.mov"], tmp_path)
    assert spec.proxy_profile_origin.file == str(tmp_path / "studio" / "user" / "studio.yaml")


def test_precedence_service_flag_over_environment_over_configuration_file_over_bundled(proxx_home, tmp_path,
                                                                                        monkeypatch):  # fmt: skip
    configured = _repository(tmp_path / "configured", overrides=False, resolution="scale_50")
    environment = _repository(tmp_path / "environment", overrides=True, resolution="scale_25")
    flag = _repository(tmp_path / "flag", overrides=True, resolution="scale_50")
    _configure(proxx_home, f'[profiles]\nrepositories = ["{configured}"]\n')

    def defining(profiles: tuple[Path, ...] = ()) -> tuple[str, str]:
        compiled = Proxx.open(profiles=profiles).select(INTENT)
        return compiled.definition.file if compiled.definition else "", compiled.canonical.id

    assert defining() == (str(configured / "user" / "studio.yaml"), "proxy_h264_low")
    monkeypatch.setenv("PROXX_PROFILES", str(environment))
    assert defining() == (str(environment / "user" / "studio.yaml"), "proxy_h264_quarter")
    assert defining((flag,)) == (str(flag / "user" / "studio.yaml"), "proxy_h264_low")
    # ... and a configured repository replaces a bundled intent only when it declares it
    (configured / "user" / "hd.yaml").write_text(
        'user_profile_version: "1.1"\nname: HD Editorial LT\noverrides: true\nconstraints:\n  codecs: [h264]\n'
        "  resolution: [scale_25]\n  engine_preference: [ffmpeg]\n"
    )
    monkeypatch.delenv("PROXX_PROFILES")
    assert Proxx.open().select("HD Editorial LT").canonical.id == "proxy_h264_quarter"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[profiles\nrepositories = 1", "it is not valid TOML"),
        (
            '[profiles]\nrepositories = ["/no/such/folder"]\n',
            "the profile repository '/no/such/folder' is not a folder",
        ),
        ('[profiles]\nrepository = ["/tmp"]\n', "unknown key 'profiles.repository' (valid: repositories)"),
        ('[engines]\nffmpeg = "/usr/bin/ffmpeg"\n', "unknown section 'engines' (valid: profiles)"),
        ('[profiles]\nrepositories = "/tmp"\n', "'profiles.repositories' must be a list of folder paths"),
        ("[profiles]\nrepositories = [1]\n", "'profiles.repositories' must be a list of folder paths"),
        ("profiles = 3\n", "'profiles' must be a section ([profiles])"),
        ("# " + "x" * MAX_CONFIG_BYTES + "\n", f"more than {MAX_CONFIG_BYTES}"),
        (b"\xff\xfe".decode("latin-1"), "it is not UTF-8 text"),
    ],
)
def test_a_broken_configuration_file_is_a_class_a_error_naming_the_file(proxx_home, tmp_path, capsys, text, why):
    path = config_path(proxx_home.parent / "proxx-home")
    proxx_home.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("latin-1") if why == "it is not UTF-8 text" else text.encode())
    assert main(["run", "--profile", "HD Editorial LT", "--output", str(tmp_path), str(tmp_path / "a.mov")]) == 3
    err = capsys.readouterr().err
    assert f"proxx: The configuration file '{path}' cannot be used: " in err and why in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    with pytest.raises(PreJobError) as caught:
        Proxx.open()
    assert (caught.value.reason, caught.value.context) == ("configuration_unusable", {"configuration": str(path)})


def test_a_configuration_that_is_not_a_regular_file_never_blocks(proxx_home, tmp_path, capsys):
    proxx_home.mkdir(parents=True, exist_ok=True)
    os.mkfifo(config_path(proxx_home))  # nobody ever writes into it: reading must not wait
    assert main(["profiles"]) == 3
    assert "it is not a regular file" in capsys.readouterr().err


def test_the_web_says_a_broken_configuration_file_as_class_a_never_as_an_internal_error(proxx_home, tmp_path):
    from fastapi.testclient import TestClient

    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    proxx = Proxx.open()
    web = WebService(proxx, MediaRoots(parse_roots([f"media={tmp_path}"]), proxx.beside_outputs))
    path = _configure(proxx_home, '[profiles]\nrepositories = ["/no/such/folder"]\n')  # written while it runs
    try:
        with TestClient(create_app(web)) as http:
            answer = http.get("/api/intents")
            body = {"intent": "Review H.264", "sources": ["media/a.mov"], "output_folder": "media"}
            created = http.post("/api/jobs", json=body)
            page = http.get("/jobs/new")
    finally:
        web.proxx.store.close()
    for response in (answer, created):
        assert response.status_code == 422 and response.json()["failure_class"] == "A"
        shown = web.roots.relative_text(str(path))  # a file inside a media root is named by that root
        assert response.json()["detail"].startswith(f"The configuration file '{shown}' cannot be used: ")
    assert page.status_code == 422 and "cannot be used" in page.text and "Internal error" not in page.text


def test_a_repository_named_by_the_environment_or_a_service_flag_that_does_not_exist_is_a_class_a_error(
    proxx_home, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("PROXX_PROFILES", str(tmp_path / "typo"))
    assert main(["profiles"]) == 3
    said = capsys.readouterr().err
    assert said.strip() == (
        f"proxx: The profile repository '{tmp_path / 'typo'}' (PROXX_PROFILES) does not exist. Ask an administrator "
        "to correct it; no job can be created until then."
    )
    monkeypatch.delenv("PROXX_PROFILES")
    with pytest.raises(PreJobError, match=r"\(--profiles\) does not exist"):
        Proxx.open(profiles=[tmp_path / "typo"])
