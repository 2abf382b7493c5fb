"""Facts remembered under PROXX_HOME: a binary's version is asked once, until the binary changes; and
the one atomic JSON writer every record and cache goes through."""

from __future__ import annotations

import json
import os

import pytest

from proxx.home import write_cache, write_json_atomically
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
