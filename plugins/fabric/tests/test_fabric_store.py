"""Fabric's building blocks: xxh128 hashing, the index and its migrations, ASC MHL generations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import xxhash
from ascmhl.hasher import hash_file as ascmhl_hash_file
from hypothesis import given, settings
from hypothesis import strategies as st

from proxx_fabric.fingerprint import Intrinsics, fingerprint
from proxx_fabric.folder import FolderRefused
from proxx_fabric.hashing import read_file, xxh128_file
from proxx_fabric.index import MIGRATIONS, SCHEMA_VERSION, Index, IndexNewer, ProxyRecord
from proxx_fabric.mhl import HashedFile, MHLMismatch, _xml_text, add_generation, xml_safe

ASCMHL = str(Path(sys.executable).with_name("ascmhl"))


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=5000), block=st.integers(1, 64))
def test_xxh128_of_a_file_read_in_blocks_is_the_xxh128_of_its_bytes(tmp_path_factory, data, block):
    path = tmp_path_factory.mktemp("h") / "f.bin"
    path.write_bytes(data)
    assert xxh128_file(path, block=block) == xxhash.xxh3_128(data).hexdigest()
    assert read_file(path, block=block) == len(data)


def test_xxh128_is_the_hash_ascmhl_writes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 40_000)  # 10 MB: two 8 MiB blocks
    assert xxh128_file(path) == ascmhl_hash_file(str(path), "xxh128")


def record(job: str = "job-20261125T130501Z-3f9a1c2b", index: int = 0, **changes) -> ProxyRecord:
    intrinsics = Intrinsics("mov", "prores", 1920, 1080, "25/1", 250, ("2:stereo",))
    fields = dict(
        job_id=job, clip_index=index, fingerprint=fingerprint("proxy_prores_lt", intrinsics), fingerprint_version="1",
        canonical_profile="proxy_prores_lt", intent="HD Editorial LT", intrinsics=intrinsics,
        source_path="/media/A001.mov", source_xxh128="a" * 32, source_bytes=10, source_timecode="01:00:00:00",
        output_path="/proxies/A001.mov", output_xxh128="b" * 32, output_bytes=5,
        verification=({"name": "output_exists", "expected": "x", "actual": "x", "passed": True},),
        reused_from=None, job_started_at="2026-11-25T13:05:01.000Z", job_finished_at="2026-11-25T13:05:09.000Z",
    )  # fmt: skip
    fields.update(changes)
    return ProxyRecord(**fields)  # type: ignore[arg-type]


def test_the_index_finds_records_by_fingerprint_source_hash_job_and_folder(tmp_path):
    with Index(tmp_path / "fabric.db") as index:
        one, two = (
            record(),
            record(
                "job-20261125T130600Z-00000000",
                output_path="/elsewhere/A001.mov",
                job_finished_at="2026-11-25T13:06:09.000Z",
            ),
        )
        index.record([one, two])
        index.record([one])  # an ingest repeating an export replaces, never duplicates
        assert index.by_fingerprint(one.fingerprint) == [two, one]
        assert index.by_source_hash("a" * 32) == [two, one]
        assert index.by_job(one.job_id) == [one]
        assert index.under(Path("/proxies")) == [one]
        assert index.under(Path("/prox")) == []
        assert index.schema_version == SCHEMA_VERSION


def test_records_are_made_into_rows_one_at_a_time_as_they_are_written(tmp_path):
    taken: list[bool] = []
    with Index(tmp_path / "fabric.db") as index:

        def records():  # the caller measured them already: each is only made into its row
            for n in range(3):
                taken.append(index._db.in_transaction)
                yield record(index=n, output_path=f"/proxies/A00{n}.mov")

        index.record(records())
        assert taken == [True, True, True]
        assert [r.clip_index for r in index.by_job(record().job_id)] == [0, 1, 2]


def test_the_index_holds_no_operator_identity(tmp_path):
    with Index(tmp_path / "fabric.db") as index:
        index.record([record()])
    columns = {row[1] for row in sqlite3.connect(tmp_path / "fabric.db").execute("PRAGMA table_info(proxies)")}
    assert not columns & {"operator", "user", "host", "hostname", "worker_id", "engine", "engine_version"}


def test_an_older_index_is_migrated_and_keeps_its_records(tmp_path):
    path = tmp_path / "fabric.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.close()
    with Index(path) as index:
        assert index.schema_version == SCHEMA_VERSION
        index.record([record()])
        index.record_check(record(), "ok")
        assert index.by_job(record().job_id) == [record()]


def test_an_index_from_a_newer_fabric_is_refused(tmp_path):
    path = tmp_path / "fabric.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(IndexNewer, match="Upgrade proxx-fabric"):
        Index(path)


def _hashed(path: Path) -> HashedFile:
    return HashedFile(str(path), path.stat().st_size, xxh128_file(path))


def test_a_generation_passes_the_reference_check_until_a_byte_changes(tmp_path):
    folder = tmp_path / "out"
    proxy = folder / "Proxy" / "A001.mov"
    proxy.parent.mkdir(parents=True)
    proxy.write_bytes(b"proxy bytes" * 1000)
    (folder / "A002.proxx-partial-12345678.mov").write_bytes(b"in progress")  # ignored: it comes and goes
    add_generation(folder, [_hashed(proxy)], "test")
    (folder / "A002.proxx-partial-12345678.mov").unlink()
    assert subprocess.run([ASCMHL, "create", str(folder)], capture_output=True).returncode == 0
    with open(proxy, "r+b") as handle:
        handle.seek(5)
        handle.write(b"X")
    assert subprocess.run([ASCMHL, "create", str(folder)], capture_output=True).returncode == 11


def test_a_path_recorded_with_other_content_is_refused_and_nothing_is_written(tmp_path):
    proxy = tmp_path / "A001.mov"
    proxy.write_bytes(b"one")
    add_generation(tmp_path, [_hashed(proxy)], "first")
    proxy.write_bytes(b"two")
    with pytest.raises(MHLMismatch):
        add_generation(tmp_path, [_hashed(proxy)], "second")
    assert len(list((tmp_path / "ascmhl").glob("*.mhl"))) == 1


WRITER = """
import sys
from pathlib import Path
from proxx_fabric.hashing import xxh128_file
from proxx_fabric.mhl import HashedFile, add_generation
folder, names = Path(sys.argv[1]), sys.argv[2:]
for name in names:
    path = folder / name
    path.write_bytes(name.encode() * 1000)
    add_generation(folder, [HashedFile(str(path), path.stat().st_size, xxh128_file(path))], name)
"""


def test_concurrent_jobs_finishing_into_one_folder_keep_the_history_intact(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(folder), *(f"P{p}_{n}.mov" for n in range(3))])
        for p in range(4)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0, 0]
    generations = sorted(p.name for p in (folder / "ascmhl").glob("*.mhl"))
    assert [name[:4] for name in generations] == [f"{n:04d}" for n in range(1, 13)]
    chain = (folder / "ascmhl" / "ascmhl_chain.xml").read_text()
    assert all(name in chain for name in generations)
    check = subprocess.run([ASCMHL, "create", str(folder)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_generations_interleave_with_the_reference_tools_own(tmp_path):
    first, second = tmp_path / "Proxy" / "A001.mov", tmp_path / "Proxy" / "A002.mov"
    first.parent.mkdir()
    first.write_bytes(b"first" * 100)
    add_generation(tmp_path, [_hashed(first)], "job 1")
    assert subprocess.run([ASCMHL, "create", str(tmp_path)], capture_output=True).returncode == 0
    second.write_bytes(b"second" * 100)
    add_generation(tmp_path, [_hashed(second)], "job 2")
    assert subprocess.run([ASCMHL, "create", str(tmp_path)], capture_output=True).returncode == 0
    assert len(list((tmp_path / "ascmhl").glob("*.mhl"))) == 4
    second.unlink()
    assert subprocess.run([ASCMHL, "create", str(tmp_path)], capture_output=True).returncode == 10


def test_generations_are_read_back_by_the_reference_tools_create_and_diff(tmp_path):
    proxies = [tmp_path / "Proxy" / f"A00{n}.mov" for n in range(3)]
    proxies[0].parent.mkdir()
    for n, proxy in enumerate(proxies):
        proxy.write_bytes(b"proxy" * (100 + n))
        add_generation(tmp_path, [_hashed(proxy)], f"job {n}")
    assert [p.name[:4] for p in sorted((tmp_path / "ascmhl").glob("*.mhl"))] == ["0001", "0002", "0003"]
    assert subprocess.run([ASCMHL, "diff", str(tmp_path)], capture_output=True).returncode == 0
    assert subprocess.run([ASCMHL, "create", str(tmp_path)], capture_output=True).returncode == 0
    proxies[1].write_bytes(b"changed" * 100)
    assert subprocess.run([ASCMHL, "create", str(tmp_path)], capture_output=True).returncode != 0


def test_a_folder_with_a_nested_history_goes_through_the_reference_library(tmp_path):
    nested = tmp_path / "Proxy"
    nested.mkdir()
    (nested / "old.mov").write_bytes(b"old" * 100)
    assert subprocess.run([ASCMHL, "create", str(nested)], capture_output=True).returncode == 0
    proxy = nested / "A001.mov"
    proxy.write_bytes(b"new" * 100)
    add_generation(tmp_path, [_hashed(proxy)], "job 1")
    # The library records the file in the history that owns it: the nested one.
    assert len(list((nested / "ascmhl").glob("*.mhl"))) == 2
    assert subprocess.run([ASCMHL, "create", str(tmp_path)], capture_output=True).returncode == 0


def test_a_nested_history_someone_else_could_write_is_never_written_through(tmp_path):
    # Planted before the job: the card's sub-folder and a history in it whose chain file is a link.
    victim = tmp_path / "victim.xml"
    victim.write_text("<settings><keep>victim data</keep></settings>")
    out = tmp_path / "out"
    (out / "A001" / "ascmhl").mkdir(parents=True)
    (out / "A001" / "ascmhl" / "ascmhl_chain.xml").symlink_to(victim)
    os.chmod(out / "A001" / "ascmhl", 0o777)  # another user's, or one anyone may write: the same
    proxy = out / "A001" / "C0001.mov"
    proxy.write_bytes(b"new" * 100)
    with pytest.raises(FolderRefused, match="was not made by proxx"):
        add_generation(out, [_hashed(proxy)], "job 1")
    assert victim.read_text() == "<settings><keep>victim data</keep></settings>"


@pytest.mark.parametrize("planted", ["a link at the output folder's own history", "an output folder others write"])
def test_a_nested_history_is_written_only_where_no_one_else_can_swap_the_way(tmp_path, planted):
    out, other = tmp_path / "out", tmp_path / "other"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "a.mov").write_bytes(b"old" * 100)
    assert subprocess.run([ASCMHL, "create", str(out / "sub")], capture_output=True).returncode == 0
    if planted.startswith("a link"):
        (other / "ascmhl").mkdir(parents=True)
        (out / "ascmhl").symlink_to(other / "ascmhl")
    else:
        os.chmod(out, 0o777)  # anyone may rename `sub` and put their own in its place
    proxy = out / "sub" / "b.mov"
    proxy.write_bytes(b"new" * 100)
    with pytest.raises(FolderRefused):
        add_generation(out, [_hashed(proxy)], "job 2")
    assert not other.exists() or list((other / "ascmhl").iterdir()) == []


def test_a_source_is_hashed_once_while_it_stays_the_same_file(tmp_path, monkeypatch):
    from proxx_fabric import index as index_module

    source = tmp_path / "A001.mov"
    source.write_bytes(b"camera original" * 1000)
    reads = []
    monkeypatch.setattr(index_module, "xxh128_file", lambda path: reads.append(path) or xxh128_file(path))
    with Index(tmp_path / "fabric.db") as index:
        first = index.source_hash(str(source))
        assert index.source_hash(str(source)) == first == xxh128_file(source) and len(reads) == 1
        source.write_bytes(b"another take!!" * 1000 + b"x")  # changed: hashed again
        assert index.source_hash(str(source)) == xxh128_file(source) and len(reads) == 2


def test_the_result_copy_is_written_a_piece_at_a_time_with_its_hash(tmp_path):
    import json

    from proxx.plugin import Check, ClipResult, EngineRun, JobResult, Origin
    from proxx_fabric.folder import opened, replace
    from proxx_fabric.record import WRITTEN_AT_ONCE, _HashedJSON

    checks = (Check("video_codec", "prores", "prores", True), Check("duration", "3", "2", False))
    clips = tuple(
        ClipResult(n, f"/card/Ä{n:04d}.mov", f"/out/{n:04d}.mov", "completed", None, checks) for n in range(5000)
    )
    result = JobResult(
        "1.0", "j1", "d" * 64, "prores_lt", Origin("HD Editorial LT", "1.1"), "t0", "COMPLETED", "t0", "t1", "t2",
        {"render": 1.0}, EngineRun("ffmpeg"), clips, "/log",
    )  # fmt: skip
    pieces = _HashedJSON(result)
    with opened(tmp_path) as folder:
        replace(folder, "result.json", pieces)
    written = (tmp_path / "result.json").read_bytes()
    assert written == (json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    assert (pieces.size, pieces.hash.hexdigest()) == (len(written), xxhash.xxh3_128(written).hexdigest())
    # Written a size at a time, not a count of pieces (256 clips were 256 pieces, of any size).
    chunks = [len(chunk) for chunk in _HashedJSON(result)]
    assert sum(chunks) == len(written) and max(chunks) < WRITTEN_AT_ONCE + 4096


def test_what_an_mhl_file_can_hold_is_xml_1_0_less_tab_line_feed_and_carriage_return():
    # every code point at a boundary of XML 1.0's characters, checked one at a time and in a name
    held = [" ", "~", "\x7f", "\ud7ff", "\ue000", "\ufffd", "\U00010000", "\U0010ffff", "é", "ж"]
    refused = ["\x00", "\t", "\n", "\r", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff"]
    assert all(xml_safe(c) for c in held) and not any(xml_safe(c) for c in refused)
    assert xml_safe("A001/clip é.mov") and xml_safe("")
    assert not xml_safe("A001/clip\rname.mov") and not xml_safe("A001/\udcffname.mov")
    assert _xml_text("host\tname\udcff\U0001f600") == "host?name?\U0001f600"
    assert _xml_text("a\nb", "_") == "a_b"
