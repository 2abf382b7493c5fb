"""Fabric on real jobs (FFmpeg, tiny clips): export, ASC MHL, failure isolation, ingest, reuse, CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import opentimelineio as otio
import pytest

from proxx import Proxx
from proxx.plugin import JobResult, JobState, hookimpl, load_result, require_tool
from proxx.testing import build_plugin_manager, main, make_clip, violations
from proxx_fabric.hashing import xxh128_file
from proxx_fabric.index import Index

ASCMHL = str(Path(sys.executable).with_name("ascmhl"))
INTENT = "HD Editorial LT"


def ascmhl_check(folder: Path) -> int:
    return subprocess.run([ASCMHL, "create", str(folder)], capture_output=True).returncode


def run(proxx: Proxx, sources: list[Path], output: Path, intent: str = INTENT, reuse: bool = False) -> JobResult:
    output.mkdir(parents=True, exist_ok=True)
    spec = proxx.create_job(intent, sources, output, reuse=reuse)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == JobState.COMPLETED, result
    return result


def fabric_export(result: JobResult):
    (outcome,) = [e for e in result.exports if e.exporter == "fabric"]
    return outcome


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """One source proxied once, in a PROXX_HOME of its own, shared by the tests that only read."""
    root = tmp_path_factory.mktemp("fabric")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PROXX_HOME", str(root / "home"))
        source = make_clip(root / "card" / "A001_C001.mov", frames=12)
        proxx = Proxx.open()
        result = run(proxx, [source], root / "out")
        yield SimpleNamespace(root=root, source=source, result=result, proxx=proxx, env=env)


def test_a_completed_job_is_indexed_and_sealed_so_the_reference_check_passes(done):
    outcome = fabric_export(done.result)
    assert outcome.ok, outcome.error
    clip = done.result.clips[0]
    (detail,) = outcome.details["clips"]
    assert detail["output_xxh128"] == xxh128_file(clip.output)
    assert detail["source_xxh128"] == xxh128_file(done.source)
    with Index() as index:
        (record,) = index.by_job(done.result.job_id)
    assert record.fingerprint == detail["fingerprint"]
    assert (record.canonical_profile, record.intent) == (done.result.proxy_profile, INTENT)
    assert record.verification and all(check["passed"] for check in record.verification)
    copy = done.root / "out" / ".proxx" / f"{done.result.job_id}.result.json"
    assert json.loads(copy.read_text())["job_id"] == done.result.job_id
    assert outcome.details["result_copy"] == str(copy)
    assert ascmhl_check(done.root / "out") == 0


def test_the_readme_names_every_member_of_fabrics_details_that_a_later_exporter_reads(done):
    """A studio's exporter named to sort after `fabric` reads its hashes from `exports[].details`: the
    README names each member a completed job's details hold, and each of a clip's."""
    import re

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    said = " ".join(readme[readme.index("Fabric's details: ") :].split(";", 1)[0].split())
    clip_part = said[said.index("`clips` (") : said.index(")", said.index("`output_bytes`"))]
    named = set(re.findall(r"`(\w+)`", said))
    details = fabric_export(done.result).details
    assert set(details) <= named and "not_sealed" in named
    (clip,) = details["clips"]
    assert set(clip) == set(re.findall(r"`(\w+)`", clip_part)) - {"clips"}


def test_the_reference_check_fails_after_one_byte_of_the_proxy_changes(done, tmp_path):
    folder = tmp_path / "out"
    shutil.copytree(done.root / "out", folder)
    proxy = folder / Path(done.result.clips[0].output).relative_to(done.root / "out")
    data = bytearray(proxy.read_bytes())
    data[len(data) // 2] ^= 0x01
    proxy.write_bytes(bytes(data))
    assert ascmhl_check(folder) == 11


def test_lookup_names_intents_and_outputs_and_shows_canonical_ids_only_in_json(done, capsys):
    assert main(["fabric", "lookup", str(done.source)]) == 0
    text = capsys.readouterr().out
    assert f"'{INTENT}' -> {done.result.clips[0].output}" in text
    assert done.result.proxy_profile not in text
    assert main(["fabric", "lookup", str(done.source), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {p["canonical_profile"] for p in document["proxies"]} == {done.result.proxy_profile}


def test_a_source_copied_and_renamed_elsewhere_is_found_with_the_same_fingerprint(done, tmp_path, capsys):
    copy = tmp_path / "other card" / "renamed.mov"
    copy.parent.mkdir()
    shutil.copyfile(done.source, copy)
    assert main(["fabric", "lookup", str(copy), "--json"]) == 0
    (found,) = [p for p in json.loads(capsys.readouterr().out)["proxies"] if p["job_id"] == done.result.job_id]
    assert found["fingerprint"] == fabric_export(done.result).details["clips"][0]["fingerprint"]
    assert found["match"] == "same bytes"
    remuxed = tmp_path / "remuxed.mov"  # other bytes, same intrinsics: found by fingerprint alone
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-i", str(done.source), "-map", "0",
         "-c", "copy", "-metadata", "title=other bytes", str(remuxed)],
        check=True,
    )  # fmt: skip
    assert main(["fabric", "lookup", str(remuxed), "--json"]) == 0
    (found,) = [p for p in json.loads(capsys.readouterr().out)["proxies"] if p["job_id"] == done.result.job_id]
    assert found["match"] == "same fingerprint"


def test_show_finds_a_job_and_a_fingerprint(done, capsys):
    assert main(["fabric", "show", done.result.job_id, "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert main(["fabric", "show", record["fingerprint"]]) == 0
    text = capsys.readouterr().out
    assert done.result.clips[0].output in text and record["fingerprint"] in text
    assert main(["fabric", "show", "fp1:" + "0" * 64]) == 2
    capsys.readouterr()
    # The short id `proxx jobs` shows (the last 8 characters) is accepted here too.
    assert main(["fabric", "show", done.result.job_id[-8:], "--json"]) == 0
    assert [r["fingerprint"] for r in json.loads(capsys.readouterr().out)] == [record["fingerprint"]]
    assert main(["fabric", "verify", done.result.job_id[-8:]]) == 0
    assert "1 proxy(ies) checked: 1 intact" in capsys.readouterr().out


def test_the_export_never_overwrites_a_file_or_writes_through_a_link(done, tmp_path, capsys):
    precious = tmp_path / "notes.txt"
    precious.write_text("someone's notes")
    (tmp_path / "index.jsonl").symlink_to(precious)
    for target in (tmp_path / "index.jsonl", precious):
        assert main(["fabric", "export", "--output", str(target)]) == 2
        assert "cannot be created" in capsys.readouterr().err
    assert precious.read_text() == "someone's notes"


def test_the_otio_export_opens_with_opentimelineio(done, tmp_path):
    target = tmp_path / "proxies.otio"
    assert main(["fabric", "export", "--format", "otio", "--output", str(target)]) == 0
    collection = otio.adapters.read_from_file(str(target))
    assert isinstance(collection, otio.schema.SerializableCollection)
    (clip,) = [c for c in collection if c.metadata["proxx"]["job_id"] == done.result.job_id]
    references = clip.media_references()
    assert set(references) == {otio.schema.Clip.DEFAULT_MEDIA_KEY, "proxy"}
    assert references[otio.schema.Clip.DEFAULT_MEDIA_KEY].target_url == done.source.as_uri()
    assert references["proxy"].target_url == Path(done.result.clips[0].output).as_uri()
    span = references["proxy"].available_range
    assert span.start_time.rate == pytest.approx(24000 / 1001)
    assert otio.opentime.to_timecode(span.start_time, 24000 / 1001) == "01:00:00:00"
    assert span.duration.value == 12


def test_the_jsonl_export_has_one_record_per_proxy(done, capsys):
    assert main(["fabric", "export", "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert done.result.job_id in {line["job_id"] for line in lines}


def test_ingest_on_another_machine_rebuilds_the_record_from_the_result_alone(done, tmp_path, monkeypatch, capsys):
    with Index() as index:
        (original,) = index.by_job(done.result.job_id)
    monkeypatch.setenv("PROXX_HOME", str(tmp_path / "other-machine"))
    result_json = tmp_path / "result.json"
    shutil.copyfile(Path(done.result.log_path).with_name("result.json"), result_json)
    assert main(["fabric", "ingest", str(result_json)]) == 0
    assert "from its export details" in capsys.readouterr().out
    with Index() as index:
        assert index.by_job(done.result.job_id) == [original]


def test_run_reuse_copies_a_verified_output_of_the_same_source_content(done, capsys):
    out = done.root / "reused"
    out.mkdir()
    assert main(["run", "--reuse", "--profile", INTENT, "--output", str(out), str(done.source)]) == 0
    # Always a copy, never a hard link (the two proxies stay two files), and the operator is told so.
    assert f"(copied from job {done.result.job_id})" in capsys.readouterr().out
    with Index() as index:
        (record,) = [r for r in index.by_source_hash(xxh128_file(done.source)) if r.output_path.startswith(str(out))]
    assert record.reused_from == done.result.job_id
    assert record.output_xxh128 == xxh128_file(done.result.clips[0].output)
    result_path = Path(done.proxx.store.job(record.job_id).result_path)
    result = load_result(result_path)
    assert result.clips[0].reused_from.job_id == done.result.job_id
    assert result.clips[0].reused_from.how == "copied"
    assert Path(result.clips[0].output).stat().st_ino != Path(done.result.clips[0].output).stat().st_ino
    assert violations(json.loads(result_path.read_text()), "job-result-1.0.schema.json") == []
    spec_json = json.loads(done.proxx.store.spec(record.job_id).to_json())
    assert spec_json["reuse"] is True and violations(spec_json, "jobspec-1.0.schema.json") == []
    assert result.engine.version == ""  # the engine never ran
    assert all(check.passed for check in result.clips[0].checks)  # verified as usual
    assert ascmhl_check(out) == 0


def test_an_intent_compiling_to_the_same_canonical_id_reuses_across_intents(done, tmp_path):
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "cutting.yaml").write_text(
        'user_profile_version: "1.1"\nname: Cutting Room\nconstraints:\n  codecs: [prores_lt]\n'
        "  max_frame_size: 1920x1080\n  engine_preference: [ffmpeg]\n"
    )
    proxx = Proxx.open(profiles=[tmp_path])
    result = run(proxx, [done.source], tmp_path / "out", intent="Cutting Room", reuse=True)
    assert result.proxy_profile == done.result.proxy_profile
    assert result.clips[0].reused_from is not None
    assert (
        fabric_export(result).details["clips"][0]["fingerprint"]
        == (fabric_export(done.result).details["clips"][0]["fingerprint"])
    )


def test_reuse_never_crosses_canonical_ids(done, tmp_path):
    result = run(done.proxx, [done.source], tmp_path / "out", intent="Review H.264", reuse=True)
    assert result.proxy_profile != done.result.proxy_profile
    assert result.clips[0].reused_from is None
    assert result.engine.version  # rendered


def test_reuse_renders_when_the_recorded_output_no_longer_verifies(proxx_home, tmp_path):
    source = make_clip(tmp_path / "A001.mov", frames=6)
    proxx = Proxx.open()
    first = run(proxx, [source], tmp_path / "first")
    with open(first.clips[0].output, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    second = run(proxx, [source], tmp_path / "second", reuse=True)
    assert second.clips[0].reused_from is None and second.engine.version


def test_verify_reports_missing_and_modified_proxies_with_a_non_zero_exit(proxx_home, tmp_path, capsys):
    sources = [make_clip(tmp_path / f"A00{n}.mov", frames=6) for n in (1, 2)]
    result = run(Proxx.open(), sources, tmp_path / "out")
    assert main(["fabric", "verify", str(tmp_path / "out")]) == 0
    Path(result.clips[0].output).unlink()
    with open(result.clips[1].output, "ab") as handle:
        handle.write(b"!")
    assert main(["fabric", "verify", result.job_id]) == 5
    assert main(["fabric", "show", result.job_id, "--json"]) == 0
    text = capsys.readouterr().out
    assert [r["last_check"]["outcome"] for r in json.loads(text[text.index("[\n") :])] == ["missing", "modified"]
    assert f"MISSING   {result.clips[0].output}" in text
    assert f"MODIFIED  {result.clips[1].output}" in text
    assert "2 proxy(ies) checked: 0 intact, 1 missing, 1 modified." in text


def test_an_exporter_failure_never_changes_the_job_and_ingest_fills_the_gap(proxx_home, tmp_path, monkeypatch, capsys):
    source = make_clip(tmp_path / "A001.mov", frames=6)
    proxx = Proxx.open()
    proxx_home.mkdir(parents=True, exist_ok=True)
    Index(proxx_home / "fabric.db").close()
    holder = sqlite3.connect(proxx_home / "fabric.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the index: "database is locked"
    monkeypatch.setenv("PROXX_FABRIC_DB_TIMEOUT", "0.2")
    try:
        result = run(proxx, [source], tmp_path / "out")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    outcome = fabric_export(result)
    assert not outcome.ok and outcome.error.startswith("Fabric's index was kept busy by another proxx process")
    assert proxx.store.job(result.job_id).state == JobState.COMPLETED
    assert "exporter fabric failed" in Path(result.log_path).read_text()
    assert not (tmp_path / "out" / "ascmhl").exists()

    result_path = proxx.store.job(result.job_id).result_path
    capsys.readouterr()
    assert main(["jobs", "show", result.job_id]) == 0
    assert "Export    fabric: FAILED" in capsys.readouterr().out
    assert main(["fabric", "ingest", result_path]) == 0
    assert "re-measured from the files; sealed in" in capsys.readouterr().out
    with Index() as index:
        (record,) = index.by_job(result.job_id)
    assert record.output_xxh128 == xxh128_file(result.clips[0].output)
    assert ascmhl_check(tmp_path / "out") == 0


class CardPulled:
    """An exporter that runs before Fabric's (exporters run in name order) and takes the camera card
    away, as an operator pulling it once the proxies are verified."""

    PROXX_PLUGIN_API = "1.0"

    def __init__(self, card: Path) -> None:
        self.card = card

    @hookimpl
    def proxx_exporters(self):
        from proxx.plugin import Exporter

        yield Exporter("a-card-pulled", lambda spec, result: shutil.rmtree(self.card))


def test_a_card_removed_before_the_export_is_said_as_that_and_ingest_fills_the_gap(proxx_home, tmp_path, capsys):
    """The export read "ProbeError: No such file or directory" on `jobs show`."""
    card = tmp_path / "card"
    source = make_clip(card / "A001.mov", frames=6)
    kept = tmp_path / "A001.mov"
    shutil.copy2(source, kept)
    proxx = Proxx.open(pm=build_plugin_manager(extra={"card-pulled": CardPulled(card)}))
    result = run(proxx, [source], tmp_path / "out")
    outcome = fabric_export(result)
    assert not outcome.ok and outcome.error.startswith(f"execution failure: Source '{source}' was gone when its ")
    assert "(the camera card removed, or its share disconnected)" in outcome.error
    capsys.readouterr()
    assert main(["jobs", "show", result.job_id]) == 0
    shown = capsys.readouterr().out
    assert "Export    fabric: FAILED: execution failure: Source " in shown and "Error" not in shown
    result_path = proxx.store.job(result.job_id).result_path
    assert main(["fabric", "ingest", result_path]) == 5  # the card is still away: said the same way
    assert f"Source '{source}' was gone" in capsys.readouterr().err
    card.mkdir()
    shutil.copy2(kept, source)  # the card back
    assert main(["fabric", "ingest", result_path]) == 0
    assert "sealed in" in capsys.readouterr().out
    assert ascmhl_check(tmp_path / "out") == 0


class VolumeFilled:
    """An exporter that runs before Fabric's and fills the output volume (another job, a copy)."""

    PROXX_PLUGIN_API = "1.0"

    def __init__(self, filler: Path) -> None:
        self.filler = filler

    @hookimpl
    def proxx_exporters(self):
        from proxx.plugin import Exporter

        def fill(spec, result):
            with open(self.filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 1024 * 1024)
                        f.flush()
                except OSError:
                    pass

        yield Exporter("a-volume-filled", fill)


def test_an_output_volume_full_at_the_export_is_said_as_that(proxx_home, tmp_path, monkeypatch, capsys):
    """The export read "OSError: [Errno 28] No space left on device"."""
    from tests.test_full_volume import tmpfs

    source = make_clip(tmp_path / "A001.mov", frames=6)
    monkeypatch.setenv("PROXX_MIN_FREE_SPACE", "0")
    with tmpfs(tmp_path / "small", "8m") as out:
        filler = out / "filler.bin"
        proxx = Proxx.open(pm=build_plugin_manager(extra={"volume-filled": VolumeFilled(filler)}))
        result = run(proxx, [source], out)
        outcome = fabric_export(result)
        assert not outcome.ok and outcome.error.startswith(f"The output volume of '{out}' is full: the job's proxies")
        filler.unlink()
        assert main(["fabric", "ingest", proxx.store.job(result.job_id).result_path]) == 0
        assert "sealed in" in capsys.readouterr().out


def test_ingest_reports_an_unreadable_result_and_goes_on(proxx_home, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    assert main(["fabric", "ingest", str(broken)]) == 5
    assert "FAILED" in capsys.readouterr().err


def test_jobs_finishing_into_one_folder_at_once_from_several_workers_keep_one_valid_history(proxx_home, tmp_path):
    proxx = Proxx.open()
    out = tmp_path / "out"
    out.mkdir()
    sources = [make_clip(tmp_path / f"A00{n}.mov", frames=6) for n in range(3)]
    jobs = [proxx.create_job(INTENT, [source], out).job_id for source in sources]
    proxx_cli = str(Path(sys.executable).with_name("proxx"))
    workers = [subprocess.Popen([proxx_cli, "worker", "--once"], stdout=subprocess.DEVNULL) for _ in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    assert {proxx.store.job(job).state for job in jobs} == {JobState.COMPLETED}
    generations = sorted(p.name[:4] for p in (out / "ascmhl").glob("*.mhl"))
    assert generations == ["0001", "0002", "0003"]
    assert ascmhl_check(out) == 0


class BrokenReuse:
    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_reuse_output(self, spec, clip, source):
        raise OSError("index unreachable")


def test_a_failing_reuse_lookup_only_costs_the_render_it_would_have_saved(proxx_home, tmp_path):
    source = make_clip(tmp_path / "A001.mov", frames=6)
    proxx = Proxx.open(pm=build_plugin_manager(extra={"broken-reuse": BrokenReuse()}))
    result = run(proxx, [source], tmp_path / "out", reuse=True)
    assert result.clips[0].reused_from is None and result.engine.version
    assert "reuse lookup failed, rendering" in Path(result.log_path).read_text()


def test_an_output_folder_fabric_cannot_write_to_fails_the_export_not_the_job(proxx_home, tmp_path, capsys):
    source = make_clip(tmp_path / "A001.mov", frames=6)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".proxx").write_text("a file where Fabric needs a folder")  # as root, permissions would not stop it
    proxx = Proxx.open()
    result = run(proxx, [source], out)
    outcome = fabric_export(result)
    assert not outcome.ok and "Run `proxx fabric ingest` on the job's result" in outcome.error
    assert "is not a folder Fabric can use" in outcome.error
    assert proxx.store.job(result.job_id).state == JobState.COMPLETED
    (out / ".proxx").unlink()
    assert main(["fabric", "ingest", proxx.store.job(result.job_id).result_path]) == 0
    assert "sealed in" in capsys.readouterr().out
    assert ascmhl_check(out) == 0


@pytest.mark.parametrize("planted", ["links", "dangling chain", "shared folders"])
def test_links_planted_in_an_output_folder_receive_nothing(proxx_home, tmp_path, planted):
    """Someone who can write to the output folder makes it before proxx does and plants links (or
    folders anyone can write to) where Fabric writes: the export fails naming them, the job stays
    COMPLETED, and nothing is written outside the folder."""
    source = make_clip(tmp_path / "A001.mov", frames=6)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    if planted == "links":
        (out / ".proxx").symlink_to(elsewhere)
        (out / "ascmhl").symlink_to(elsewhere)
    elif planted == "dangling chain":
        (out / "ascmhl").mkdir()
        (out / "ascmhl" / "ascmhl_chain.xml").symlink_to(elsewhere / "attacker-named.xml")
    else:
        for name in (".proxx", "ascmhl"):
            (out / name).mkdir()
            (out / name).chmod(0o777)
    result = run(Proxx.open(), [source], out)
    outcome = fabric_export(result)
    assert not outcome.ok and "Run `proxx fabric ingest` on the job's result" in outcome.error, outcome.error
    assert list(elsewhere.iterdir()) == []
    assert not (out / "ascmhl").is_dir() or not any(p.suffix == ".mhl" for p in (out / "ascmhl").iterdir())


def test_a_name_xml_cannot_hold_never_makes_the_history_unreadable(proxx_home, tmp_path):
    """A control character in a clip's name (and in the output folder's): that proxy is left out
    of the ASC MHL generation, said so; the generation and the chain stay readable XML."""
    from xml.etree import ElementTree

    source = make_clip(tmp_path / "A001\x1b]52;c;aGk=\x07.mov", frames=6)
    plain = make_clip(tmp_path / "A002.mov", frames=6)
    out = tmp_path / "day\x011"
    result = run(Proxx.open(), [source, plain], out)
    outcome = fabric_export(result)
    assert outcome.ok, outcome.error
    assert outcome.details["not_sealed"]["outputs"] == [result.clips[0].output]
    for path in (out / "ascmhl").iterdir():
        ElementTree.parse(path)  # every file of the history parses
    (generation,) = (out / "ascmhl").glob("0001_day_1_*.mhl")
    paths = [p.text for p in ElementTree.parse(generation).iter("{urn:ASC:MHL:v2.0}path")]
    assert sorted(paths) == sorted([Path(result.clips[1].output).name, f".proxx/{result.job_id}.result.json"])


def test_a_jobs_export_stores_its_sources_hashes_with_its_records_in_one_commit(tmp_path, monkeypatch):
    # Each commit waits for the disk: the export of a card commits once, not once a source.
    monkeypatch.setenv("PROXX_HOME", str(tmp_path / "home"))
    sources = [make_clip(tmp_path / "card" / f"A00{n}_C001.mov", frames=3) for n in (1, 2, 3)]
    commits = []
    real = Index._transaction

    def counted(self):
        commits.append(self.path)
        return real(self)

    monkeypatch.setattr(Index, "_transaction", counted)
    result = run(Proxx.open(), sources, tmp_path / "out")
    assert fabric_export(result).ok and len(commits) == 1
    with Index() as index:  # each source's hash is remembered: not read again for reuse or a re-run
        monkeypatch.setattr("proxx_fabric.index.xxh128_file", lambda path: pytest.fail(f"{path} hashed again"))
        assert [index.source_hash(str(s)) for s in sources] == [xxh128_file(s) for s in sources]


@pytest.mark.parametrize("planted", ["symbolic link", "hard link"])
def test_an_index_planted_as_a_link_is_refused_before_sqlite_opens_it(proxx_home, tmp_path, planted):
    """`.proxx/ascmhl-index.sqlite` as a link (made while `.proxx` was still open to others, or by
    the folder's owner): SQLite would follow it; the export fails naming it, the file it names is
    never written, and the job stays COMPLETED."""
    source = make_clip(tmp_path / "A001.mov", frames=3, audio=())
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / ".proxx").mkdir(parents=True)
    elsewhere.mkdir()
    victim = elsewhere / "victim.sqlite"
    if planted == "symbolic link":
        (out / ".proxx" / "ascmhl-index.sqlite").symlink_to(victim)  # dangling: SQLite would create it
    else:
        victim.write_bytes(b"")
        (out / ".proxx" / "ascmhl-index.sqlite").hardlink_to(victim)
    proxx = Proxx.open()
    result = run(proxx, [source], out)
    outcome = fabric_export(result)
    assert not outcome.ok and "Run `proxx fabric ingest` on the job's result" in outcome.error, outcome.error
    assert "ascmhl-index.sqlite" in outcome.error
    assert proxx.store.job(result.job_id).state == JobState.COMPLETED
    assert (not victim.exists()) if planted == "symbolic link" else victim.read_bytes() == b""


def test_a_file_the_volume_cannot_hold_leaves_nothing_under_its_name(tmp_path):
    """A volume filling while Fabric wrote left the part written under the file's name: an MHL
    generation cut short (the history unreadable), or a stray temporary beside the result's copy.
    The kernel's file-size limit stands in for the full volume (the same short write, EFBIG)."""
    import os
    import resource

    from proxx_fabric.folder import replace, write_new

    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
        with pytest.raises(OSError):
            write_new(folder, "0002_out_2026-12-07_034741Z.mhl", b"x" * 200_000)
        with pytest.raises(OSError):
            replace(folder, "job.result.json", [b"x" * 50_000, b"y" * 50_000])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        os.close(folder)
    assert list(tmp_path.iterdir()) == []


def test_proxx_run_says_an_export_that_failed(proxx_home, tmp_path, monkeypatch, capsys):
    """`proxx run` said "COMPLETED" and nothing else when Fabric could not write its records (a full
    volume, a locked index): the missing checksum history was found only with `jobs show`."""
    source = make_clip(tmp_path / "A001.mov", frames=6)
    proxx_home.mkdir(parents=True, exist_ok=True)
    Index(proxx_home / "fabric.db").close()
    holder = sqlite3.connect(proxx_home / "fabric.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setenv("PROXX_FABRIC_DB_TIMEOUT", "0.2")
    (tmp_path / "out").mkdir()
    try:
        assert main(["run", "--profile", INTENT, "--output", str(tmp_path / "out"), str(source)]) == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = capsys.readouterr()
    assert "COMPLETED" in out
    assert "Note:   the fabric export failed (Fabric's index was kept busy by another proxx process for" in err, err
    assert "Error" not in err


def test_fabric_commands_show_names_escaped_never_driving_the_terminal(proxx_home, tmp_path, capsys):
    """`proxx fabric lookup | show | verify` printed a card's file names as they are: an escape
    sequence recoloured the terminal, a newline in a name forged a line of the report."""
    name = "A\x1b[31mRED\x1b]0;TITLE\x07\nMISSING   forged.mp4\u202e.mov"
    source = make_clip(tmp_path / "card" / name, frames=6)
    result = run(Proxx.open(), [source], tmp_path / "out")
    Path(result.clips[0].output).unlink()  # so that verify names it as missing
    capsys.readouterr()
    assert main(["fabric", "lookup", str(source)]) == 0
    assert main(["fabric", "show", result.job_id]) == 0
    assert main(["fabric", "verify", result.job_id]) == 5
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert not [line for line in out.splitlines() if line.startswith("MISSING   forged.mp4")]
    assert "A\\x1b[31mRED\\x1b]0;TITLE\\x07\\x0aMISSING   forged.mp4\\u202e" in out
