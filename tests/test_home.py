"""Facts remembered under PROXX_HOME: a binary's version is asked once, until the binary changes; and
the one atomic JSON writer every record and cache goes through."""

from __future__ import annotations

import json
import os

import pytest

from proxx.home import json_pieces, write_cache, write_json_atomically, write_text_atomically
from proxx.media.tools import Tool


def test_a_tool_version_is_asked_once_until_the_binary_changes(proxx_home, tmp_path):
    calls = tmp_path / "calls"
    binary = tmp_path / "ffmpeg"
    binary.write_text(f'#!/bin/sh\necho x >> "{calls}"\necho "ffmpeg version 9.9-test Copyright"\n')
    binary.chmod(0o755)

    def version() -> str:
        return Tool("ffmpeg", str(binary), "PROXX_FFMPEG").version  # a fresh Tool: no in-process memory

    assert version() == "9.9-test"
    assert version() == "9.9-test"
    assert calls.read_text().count("x") == 1
    stat = binary.stat()
    os.utime(binary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # replaced or rebuilt
    assert version() == "9.9-test"
    assert calls.read_text().count("x") == 2


def test_json_is_replaced_whole_and_a_folder_swapped_for_a_link_is_never_written_through(tmp_path):
    folder, elsewhere = tmp_path / "jobs" / "j1", tmp_path / "elsewhere"
    record = folder / "result.json"
    write_json_atomically(record, {"clips": [{"name": "A001 é"}] * 3})
    write_json_atomically(record, {"clips": []})
    assert json.loads(record.read_text(encoding="utf-8")) == {"clips": []}
    assert os.listdir(folder) == ["result.json"]  # no temporary file left behind

    elsewhere.mkdir()
    os.rename(folder, tmp_path / "moved")
    folder.symlink_to(elsewhere)  # someone who may write jobs/ plants a link in the folder's place
    with pytest.raises(OSError):
        write_json_atomically(record, {"clips": []})
    write_cache(record, {"clips": []})  # a cache is best effort: nothing raised, nothing written
    assert os.listdir(elsewhere) == []


def test_a_document_that_is_not_json_leaves_the_old_file(tmp_path):
    record = tmp_path / "result.json"
    write_json_atomically(record, {"state": "COMPLETED"})
    with pytest.raises(TypeError):
        write_json_atomically(record, {"state": object()})
    assert json.loads(record.read_text(encoding="utf-8")) == {"state": "COMPLETED"}
    assert os.listdir(tmp_path) == ["result.json"]


DOCUMENTS = [
    {},
    [],
    "A001 é",
    {"clips": []},
    {"job_id": "j1", "timings": {}, "clips": [{"index": 0, "checks": [{"name": "codec", "passed": True}]}] * 3},
    {"a": [1, 2.5, None, True, "x\ny"], "b": {"c": [], "d": {"e": [{"f": {}}]}}, "é": "\u2028", "n": [[], [[1]]]},
    [{"k": [1, {"z": "w"}]}, [], {}, "s", 0, [[{"deep": [1, 2]}]]],
    {1: "int key", "s": [1]},  # a key json.dumps converts: encoded whole
    {"exports": [{"details": {"clips": [{"index": n, "ok": [n, "é"]} for n in range(300)], "n": 1}, "ok": True}]},
    {"deep": {"short": [1, 2], "long": [[n] for n in range(256)], "none": []}, "t": ({"k": (1, 2)},) * 300},
]


def test_a_long_list_deep_in_a_document_is_written_an_item_at_a_time():
    # An exporter's details of every clip of a 1,000-clip card, encoded whole, was the peak of the result's write.
    details = {"clips": [{"index": n, "fingerprint": "fp1:" + "0" * 64} for n in range(1000)]}
    document = {"exports": [{"exporter": "fabric", "details": details}], "clips": [{"checks": [1] * 10}]}
    for indent in (None, 2):
        pieces = list(json_pieces(document, indent))
        assert "".join(pieces) == json.dumps(document, ensure_ascii=False, indent=indent)
        assert max(len(piece) for piece in pieces) < 200


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("indent", [None, 2])
def test_json_made_in_pieces_is_the_text_json_dumps_makes(document, indent):
    assert "".join(json_pieces(document, indent)) == json.dumps(document, ensure_ascii=False, indent=indent)


def test_a_result_is_written_in_pieces_with_the_bytes_of_its_whole_document(tmp_path):
    from proxx.jobspec.model import Origin
    from proxx.result import ClipResult, EngineRun, ExportOutcome, Failure, JobResult
    from proxx.verify.checks import Check
    from proxx.verify.facts import ClipFacts

    checks = (Check("codec", "prores_lt", "prores_lt", True), Check("frames", "3", "2", False))
    facts = ClipFacts("01:00:00:00", "01:00:00:03", "24000/1001", 3, 0.125, 160, 90)
    clips = tuple(
        ClipResult(
            n, f"/card/A{n:03d} é.mov", f"/out/A{n:03d}.mov", "completed", None, checks, None, 0.5, 10, None, facts
        )
        for n in range(3)
    )
    failure = Failure("C", "verification_failed", "A001: 2 frames of 3", {"clip": 1})
    result = JobResult(
        "1.0", "j1", "d" * 64, "prores_lt", Origin("HD Editorial LT", "builtin", "1"), "t0", "FAILED", "t0", "t1",
        "t2", {"render": 1.5}, EngineRun("ffmpeg", "7.1", {"argv": ["-y"]}), clips, "/log", "w1", None, failure,
        (), (ExportOutcome("fabric", True, None, {"clips": [{"index": 0}]}),),
    )  # fmt: skip
    for indent in (None, 2):
        assert "".join(result.json_text(indent)) == json.dumps(result.to_dict(), ensure_ascii=False, indent=indent)
    record = tmp_path / "result.json"
    write_text_atomically(record, result.json_text())
    assert record.read_bytes() == json.dumps(result.to_dict(), ensure_ascii=False).encode("utf-8")
    assert os.listdir(tmp_path) == ["result.json"]


def _home_command(home, *args):
    """`proxx` with PROXX_HOME `home`, as another user would run it: a folder of mode 0500 is not
    writable (root keeps its uid but loses the capability that writes past file modes)."""
    import subprocess
    import sys

    prefix = ["setpriv", "--bounding-set", "-dac_override"] if os.geteuid() == 0 else []
    env = {**os.environ, "PROXX_HOME": str(home)}
    return subprocess.run([*prefix, sys.executable, "-m", "proxx", *args], capture_output=True, text=True, env=env)


def test_a_proxx_home_that_cannot_be_written_is_said_in_one_line_not_an_internal_error(tmp_path):
    """A read-only, full or mistyped PROXX_HOME said "proxx: internal error (OSError)" (and could
    not even write the error's log): the operator learnt nothing of what to fix."""
    (tmp_path / "a-file").write_text("")
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o500)
    for home in (tmp_path / "a-file" / "home", tmp_path / "a-file", read_only):
        done = _home_command(home, "jobs", "list")
        assert done.returncode == 6, done.stderr  # a configuration error, as a refused PROXX_HOME is
        (line,) = done.stderr.splitlines()
        assert line.startswith(f"proxx: configuration error: PROXX_HOME '{home}' cannot be used (") and (
            "internal error" not in line
        ), line


def test_a_proxx_home_that_cannot_be_made_is_a_configuration_error_naming_it(tmp_path, monkeypatch, capsys):
    from proxx import ConfigurationError, Proxx
    from proxx.cli import main

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")
    monkeypatch.setenv("PROXX_HOME", str(not_a_folder / "home"))
    with pytest.raises(ConfigurationError) as raised:
        Proxx.open()
    assert raised.value.reason == "home_unusable" and str(not_a_folder / "home") in raised.value.message
    for command in (["profiles"], ["jobs", "list"]):
        assert main(command) == 6
        err = capsys.readouterr().err
        assert err.startswith("proxx: configuration error: PROXX_HOME") and err.count("\n") == 1, err
