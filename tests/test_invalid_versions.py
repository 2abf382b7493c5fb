"""BACKGROUND section 3: an INVALID intent never becomes ACTIVE again; a fixed one is a new profile or a new
version. The memory of INVALID intents is keyed by name, version and defining file, never by file content, and what
it says is true now (when it was found so, why then, what an administrator does)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from proxx import Proxx
from proxx.cli import main
from proxx.compile.invalid import InvalidMemory
from proxx.errors import PreJobError
from proxx.media.samples import make_clip
from proxx.web.app import create_app
from proxx.web.roots import MediaRoots, parse_roots
from proxx.web.service import WebService

DET_LT = (
    'user_profile_version: "1.1"\nname: Det LT\nconstraints:\n  codecs: [prores_lt]\n  resolution: [source]\n'
    "  engine_preference: [ffmpeg]\n"
)
# A second ffmpeg ProRes LT profile: with it, "Det LT" matches two canonical profiles.
CONFLICT = (
    'canonical_profile_version: "1.0"\nid: studio_prores_lt_copy\nengine: ffmpeg\ncodec: prores_lt\n'
    "container: mov\nresolution: source\naudio: copy\n"
)


def _said(argv: list[str]) -> tuple[int, str]:
    said = io.StringIO()
    with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
        code = main(argv)
    return code, said.getvalue()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "A001_C001.mov", frames=3, size="160x90")


@pytest.fixture
def det_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    layer = tmp_path / "studio"
    (layer / "user").mkdir(parents=True)
    (layer / "canonical").mkdir()
    (layer / "user" / "det_lt.yaml").write_text(DET_LT)
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    return layer


def test_an_intent_found_invalid_says_so_truly_once_its_conflict_is_gone(proxx_home, det_layer, clip, tmp_path):
    conflict = det_layer / "canonical" / "conflict.yaml"
    conflict.write_text(CONFLICT)
    argv = ["run", "--profile", "Det LT", "--output", str(tmp_path / "out"), str(clip)]
    code, said = _said(argv)
    assert code == 3 and "match more than one canonical profile" in said  # true now
    conflict.unlink()

    code, said = _said(argv)
    assert code == 3
    assert "match more than one" not in said.replace("\n", " ").split("(")[0]  # no longer said as a fact of now
    flat = " ".join(said.split())
    assert "Intent 'Det LT' no longer compiles: it was found INVALID on 20" in flat
    assert "stays invalid even when what made it fail is gone" in flat
    assert "needs a new version (user_profile_version, now 1.1)" in flat
    assert "sees which with `proxx validate`" not in flat  # validate no longer shows an ambiguity

    code, said = _said(["validate"])
    flat = " ".join(said.split())
    assert code == 3 and "(stays_invalid)" in flat and "[Det LT]" in flat and "found INVALID on 20" in flat
    assert "1 problem(s)" in flat
    assert Proxx.open().store.jobs() == []


def test_an_intent_stays_invalid_when_its_edit_is_undone_byte_for_byte_until_its_version_changes(
    proxx_home, det_layer, clip, tmp_path
):
    media = tmp_path / "media"
    (media / "out").mkdir(parents=True)
    (media / "A001_C001.mov").write_bytes(clip.read_bytes())
    intent = det_layer / "user" / "det_lt.yaml"
    proxx = Proxx.open()
    web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
    body = {"intent": "Det LT", "sources": ["media/A001_C001.mov"], "output_folder": "media/out"}
    with TestClient(create_app(web)) as http:
        intent.write_text(DET_LT.replace("  engine_preference: [ffmpeg]\n", ""))  # ambiguous: ffmpeg or Resolve
        refused = http.post("/api/jobs", json=body)
        assert refused.status_code == 422, refused.text
        intent.write_text(DET_LT)  # restored byte for byte: the same name, the same version
        still = http.post("/api/jobs", json=body)
        assert still.status_code == 422, still.text
        assert "found INVALID" in still.json()["detail"]
        intent.write_text(DET_LT.replace('"1.1"', '"1.2"'))  # a new version: judged afresh
        created = http.post("/api/jobs", json=body)
        assert created.status_code == 201, created.text
    web.proxx.store.close()


def test_a_record_of_the_earlier_format_holds_while_its_file_is_the_same(proxx_home, det_layer):
    from proxx.compile.invalid import file_digest

    digest = file_digest(str(det_layer / "user" / "det_lt.yaml"))
    message = "Intent 'Det LT' no longer compiles: no canonical profile satisfies its constraints."
    proxx_home.mkdir(parents=True, exist_ok=True)
    (proxx_home / "intents-invalid.json").write_text(json.dumps({"Det LT": {"digest": digest, "message": message}}))
    with pytest.raises(PreJobError, match=r"found INVALID \(no canonical profile satisfies its constraints\)"):
        Proxx.open().select("Det LT")
    held = InvalidMemory.at(proxx_home).held("Det LT", "1.1")
    assert held is not None and held.why == "no canonical profile satisfies its constraints"


def test_a_repository_named_for_one_command_never_makes_the_installations_intent_invalid(
    proxx_home, clip, tmp_path, monkeypatch
):
    """PROXX_PROFILES set for one `proxx run`, naming an override of 'HD Editorial LT' that does not
    compile, made the installation's own 'HD Editorial LT' INVALID for good: the memory held every
    definition of that name and version as the one found INVALID, for every later command."""
    trial = tmp_path / "trial"
    (trial / "user").mkdir(parents=True)
    (trial / "user" / "hd.yaml").write_text(
        'user_profile_version: "1.1"\nname: HD Editorial LT\noverrides: true\n'
        "constraints:\n  codecs: [hevc]\n  resolution: [source]\n"
    )
    (tmp_path / "out").mkdir()
    argv = ["run", "--profile", "HD Editorial LT", "--output", str(tmp_path / "out"), str(clip)]
    monkeypatch.setenv("PROXX_PROFILES", str(trial))
    code, said = _said(argv)
    assert code == 3 and "no longer compiles" in said
    monkeypatch.delenv("PROXX_PROFILES")
    code, said = _said(argv)  # the installation's definition: never found INVALID
    assert code == 0 and "COMPLETED" in said, said
    code, said = _said(["profiles"])
    assert code == 0 and "HD Editorial LT" in said.split("Not available")[0]
    monkeypatch.setenv("PROXX_PROFILES", str(trial))  # the trial's definition stays INVALID
    code, said = _said(argv)
    assert code == 3 and "found INVALID on 20" in " ".join(said.split())
