"""Folders as sources: a card expands to the media files beneath it (watch folders' skip rules), in a
stable order; each proxy keeps its sub-folder so same-named clips from two cards never collide; the
JobSpec records the expanded list; an output folder that would write on a card is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import Proxx, schemas
from proxx.errors import PreJobError
from proxx.jobspec.untrusted import check_spec
from proxx.media.samples import make_clip
from proxx.store import COMPLETED, FAILED

PROXX = [sys.executable, "-m", "proxx"]
INTENT = "Review H.264"
PROXY_FOLDER_INTENT = """user_profile_version: "1.1"
name: Proxy Folder
description: Proxies in a Proxy folder.
constraints: {codecs: [h264], resolution: [scale_50]}
naming: {folder: Proxy, suffix: _Proxy}
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mov", size="160x90", frames=6)


@pytest.fixture
def day(tmp_path, clip) -> Path:
    """day1/A001/CLIP/C0001.mov and day1/A002/CLIP/C0001.mov (same names, two cards), a clip at the
    top of each card, and what cards hold beside media."""
    day = tmp_path / "day1"
    for card in ("A001", "A002"):
        (day / card / "CLIP").mkdir(parents=True)
        os.link(clip, day / card / "CLIP" / "C0001.mov")
        os.link(clip, day / card / f"{card}_TOP.mov")
        (day / card / "CLIP" / "C0001.xml").write_text("<sidecar/>")  # sidecar
        (day / card / "CLIP" / ".C0001.mov").write_text("resource fork")  # hidden
        (day / card / "CLIP" / "C0002.mov.part").write_text("copying")  # partial
        (day / card / "CLIP" / "C0003.proxx-partial-0badc0de.mov").write_text("x")  # a proxx partial
        (day / card / "ascmhl").mkdir()
        os.link(clip, day / card / "ascmhl" / "not_media.mov")  # a checksum history folder
        (day / card / "Proxy").mkdir()
        os.link(clip, day / card / "Proxy" / "C0001_Proxy.mov")  # proxies are never proxied again
    return day


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROXX_HOME": str(home)}
    return subprocess.run([*PROXX, *args], capture_output=True, text=True, env=env, timeout=300)


def test_a_folder_expands_to_its_media_and_each_proxy_keeps_its_sub_folder(tmp_path, day, proxx_home):
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [day], out)
    assert [(Path(c.source).relative_to(day).as_posix(), c.folder) for c in spec.clips] == [
        ("A001/A001_TOP.mov", "day1/A001"),
        ("A001/CLIP/C0001.mov", "day1/A001/CLIP"),
        ("A002/A002_TOP.mov", "day1/A002"),
        ("A002/CLIP/C0001.mov", "day1/A002/CLIP"),
    ]
    document = json.loads(proxx.store.spec(spec.job_id).to_json())
    assert schemas.violations(document, schemas.JOBSPEC) == []
    check_spec(spec, "test", proxx.repository.registry, None)  # outputs are what the naming rule gives
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED, result.failure
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4")) == [
        "day1/A001/A001_TOP.mp4", "day1/A001/CLIP/C0001.mp4", "day1/A002/A002_TOP.mp4", "day1/A002/CLIP/C0001.mp4",
    ]  # fmt: skip


def test_two_cards_given_apart_keep_their_names_and_a_retry_keeps_the_folders(tmp_path, day, proxx_home):
    out = tmp_path / "out"
    out.mkdir()
    (out / "A002" / "CLIP").mkdir(parents=True)
    (out / "A002" / "CLIP" / "C0001.mp4").write_text("in the way")  # one clip fails in class B
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [day / "A001", day / "A002"], out)
    assert [c.output for c in spec.clips] == [
        str(out / "A001" / "A001_TOP.mp4"), str(out / "A001" / "CLIP" / "C0001.mp4"),
        str(out / "A002" / "A002_TOP.mp4"), str(out / "A002" / "CLIP" / "C0001.mp4"),
    ]  # fmt: skip
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == FAILED
    (out / "A002" / "CLIP" / "C0001.mp4").unlink()
    new, done = proxx.retry(spec.job_id)
    assert done == 0 and [c.folder for c in new.clips] == [c.folder for c in spec.clips]


def test_an_output_folder_inside_a_card_is_refused_even_when_proxies_get_their_own_folder(tmp_path, day, proxx_home):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [day / "A001"], day / "A001")
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert result.failure.reason == "output_inside_source_folder"
    card = day / "A001"
    assert result.failure.message.startswith(
        f"Output folder '{card}' would put files among the source media in '{card}'"
    )
    assert not list((day / "A001").rglob("*.mp4"))
    layer = tmp_path / "layer"
    (layer / "user").mkdir(parents=True)
    (layer / "user" / "proxy_folder.yaml").write_text(PROXY_FOLDER_INTENT)
    proxx = Proxx.open(profiles=[layer])
    spec = proxx.create_job("Proxy Folder", [day / "A001"], day / "A001")  # .proxx/, ascmhl/ would be on the card
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert result.failure.reason == "output_inside_source_folder"
    assert not (day / "A001" / "Proxy" / "A001").exists() and not (day / "A001" / ".proxx").exists()
    again = proxx.create_job("Proxy Folder", [day / "A001"], tmp_path)  # Proxy/ is never taken as media
    assert len(again.clips) == 2


def test_a_folder_without_media_creates_nothing(tmp_path, proxx_home):
    empty = tmp_path / "card"
    empty.mkdir()
    (empty / "notes.txt").write_text("no media")
    proxx = Proxx.open()
    with pytest.raises(PreJobError) as raised:
        proxx.create_job(INTENT, [empty], tmp_path)
    assert raised.value.reason == "folder_without_media"
    assert proxx.store.jobs() == []


def test_proxx_run_on_a_folder(tmp_path, day):
    out = tmp_path / "out"
    out.mkdir()
    done = cli(tmp_path / "home", "run", "--profile", INTENT, "--output", str(out), str(day / "A001"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        f"Proxy:  {out / 'A001' / 'A001_TOP.mp4'}",
        f"Proxy:  {out / 'A001' / 'CLIP' / 'C0001.mp4'}",
    ]


def test_a_card_with_a_broken_file_fails_the_job_before_anything_renders(tmp_path, day):
    # A text file named .mov fails validation: the contract's class B fails the whole job at once,
    # naming it, before any clip renders (nothing is half done; the operator fixes it and retries).
    (day / "A001" / "CLIP" / "C0009.mov").write_text("not a video")
    out = tmp_path / "out"
    out.mkdir()
    home = tmp_path / "home"
    done = cli(home, "run", "--profile", INTENT, "--output", str(out), str(day / "A001"))
    assert done.returncode == 4, done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("Proxy:")]
    assert f"Source file '{day / 'A001' / 'CLIP' / 'C0009.mov'}' is not " in done.stderr
    assert "class B" in done.stderr
    assert not list(out.rglob("*.mp4"))


def test_a_folder_takes_every_camera_file_kind(tmp_path):
    from proxx.media.files import is_media

    names = ["HDV_0001.m2t", "MOV001.MOD", "MOV001.TOD", "00001.MTS", "C0001.MP4", "VID_1.3gp", "VTS_01_1.VOB",
             "A001.MXF", "clip.m2v", "CLIP.GXF", "A001_C001.mov", "capture.wmv", "capture.flv"]  # fmt: skip
    assert [n for n in names if not is_media(tmp_path / n)] == []
    assert [n for n in ("A001.THM", "A001.XML", "notes.txt", "A001.LRV.part") if is_media(tmp_path / n)] == []


def test_what_exporters_write_beside_proxies_is_never_a_source(tmp_path, clip, proxx_home):
    from proxx.jobspec.sources import expand_sources

    card = tmp_path / "A001"
    (card / "manifest").mkdir(parents=True)
    os.link(clip, card / "C0001.mov")
    os.link(clip, card / "manifest" / "M0001.mov")

    def found(beside_outputs: set[str]) -> list[str]:
        expansion = expand_sources([card], beside_outputs=beside_outputs)
        return [Path(source.path).relative_to(card).as_posix() for source in expansion.sources]

    assert found(set()) == ["C0001.mov", "manifest/M0001.mov"]  # no exporter writes a manifest/ folder
    assert found({"manifest"}) == ["C0001.mov"]  # one that declares it does
    proxx = Proxx.open()
    assert proxx.beside_outputs == {n for e in proxx.exporters.values() for n in e.beside_outputs}
    if "fabric" in proxx.exporters:
        assert "ascmhl" in proxx.beside_outputs  # Fabric's checksum history, declared by Fabric itself
