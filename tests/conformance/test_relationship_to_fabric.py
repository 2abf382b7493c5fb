"""Spec section "Relationship to Fabric": Fabric consumes results, keyed off the canonical profile."""

from __future__ import annotations

import pytest

from proxx import Proxx
from proxx.store import COMPLETED


def _fingerprint(result) -> str:
    (fabric,) = [e for e in result.exports if e.exporter == "fabric"]
    assert fabric.ok, fabric.error
    (clip,) = fabric.details["clips"]
    return str(clip["fingerprint"])


def test_1_fingerprints_key_off_the_canonical_profile_never_the_intent(proxx_home, tmp_path, clip, monkeypatch):
    # A second intent of another name that compiles to the same canonical profile: same fingerprint.
    studio = tmp_path / "studio"
    (studio / "user").mkdir(parents=True)
    (studio / "user" / "dailies.yaml").write_text(
        'user_profile_version: "1.1"\nname: Dailies Review\nconstraints:\n  codecs: [h264]\n'
        "  resolution: [scale_50]\n  engine_preference: [ffmpeg]\n"
    )
    monkeypatch.setenv("PROXX_PROFILES", str(studio))
    proxx = Proxx.open()
    if "fabric" not in proxx.exporters:
        pytest.skip("the Fabric plugin is not installed")
    results = []
    for intent in ("Review H.264", "Dailies Review"):
        out = tmp_path / intent.replace(" ", "_")
        out.mkdir()
        result = proxx.run_job(proxx.create_job(intent, [clip], out).job_id)
        assert result is not None and result.state == COMPLETED
        results.append(result)
    assert results[0].proxy_profile == results[1].proxy_profile
    assert _fingerprint(results[0]) == _fingerprint(results[1])


def _run(proxx: Proxx, intent: str, clip, out):
    out.mkdir(exist_ok=True)
    result = proxx.run_job(proxx.create_job(intent, [clip], out).job_id)
    assert result is not None and result.state == COMPLETED
    return result


@pytest.fixture
def fabric(proxx_home):
    proxx = Proxx.open()
    if "fabric" not in proxx.exporters:
        pytest.skip("the Fabric plugin is not installed")
    return proxx


def test_1_another_canonical_profile_is_another_fingerprint(fabric, tmp_path, clip):
    review = _run(fabric, "Review H.264", clip, tmp_path / "a")
    editorial = _run(fabric, "HD Editorial LT", clip, tmp_path / "b")
    assert _fingerprint(review) != _fingerprint(editorial)


def test_1_the_same_canonical_profile_and_source_give_the_same_fingerprint(fabric, tmp_path, clip):
    first = _run(fabric, "Review H.264", clip, tmp_path / "a")
    again = _run(fabric, "Review H.264", clip, tmp_path / "b")  # another output, another time
    assert _fingerprint(first) == _fingerprint(again)


def test_2_fabric_never_compiles_an_intent_it_records_a_job_whose_intent_was_deprecated_since(fabric, tmp_path, clip,
                                                                                            monkeypatch):  # fmt: skip
    import shutil

    from proxx.resources import bundled_profiles_dir

    layer = tmp_path / "studio"
    shutil.copytree(bundled_profiles_dir(), layer)
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    proxx = Proxx.open()
    (tmp_path / "out").mkdir()
    spec = proxx.create_job("Review H.264", [clip], tmp_path / "out")
    intent = layer / "user" / "review_h264.yaml"
    intent.write_text(intent.read_text() + "lifecycle: deprecated\n")
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED and _fingerprint(result)


def test_2_fabric_trusts_the_jobspec_its_record_s_canonical_profile_is_the_jobspec_s(fabric, tmp_path, clip):
    from proxx_fabric.plugin import lookup

    result = _run(fabric, "Review H.264", clip, tmp_path / "a")
    record = lookup(_fingerprint(result))
    assert record is not None and record["proxy_profile"] == fabric.store.spec(result.job_id).proxy_profile


def test_3_fabric_does_not_take_part_in_job_creation(fabric, tmp_path, clip):
    fabric.create_job("Review H.264", [clip], tmp_path)
    assert not (fabric.home / "fabric.db").exists()  # nothing of Fabric's ran before the job did
    assert not (tmp_path / ".proxx").exists()


def test_4_result_consumption_is_the_same_whichever_shell_created_the_job(fabric, tmp_path, clip):
    from proxx.watch.watcher import MediaWatcher
    from proxx.worker import work

    by_api = _run(fabric, "Review H.264", clip, tmp_path / "a")
    card = tmp_path / "card"
    card.mkdir()
    (card / clip.name).write_bytes(clip.read_bytes())
    (tmp_path / "b").mkdir()
    MediaWatcher(fabric, card, "Review H.264", tmp_path / "b", settle=0.0).poll()
    assert work(fabric, once=True) == 1
    by_watch = fabric.result(next(r.job_id for r in fabric.store.jobs() if r.job_id != by_api.job_id))
    assert by_watch is not None and _fingerprint(by_watch) == _fingerprint(by_api)


def test_5_fabric_metadata_holds_jobspec_id_canonical_id_fingerprints_and_verification(fabric, tmp_path, clip):
    from proxx_fabric.plugin import lookup

    result = _run(fabric, "Review H.264", clip, tmp_path / "a")
    record = lookup(_fingerprint(result))
    assert record is not None
    (proxy,) = record["proxies"]
    assert proxy["job_id"] == result.job_id and proxy["canonical_profile"] == "proxy_h264_low"
    assert proxy["fingerprint"] == _fingerprint(result)  # the source's
    assert proxy["output_xxh128"] and proxy["verification"]


def test_6_fabric_metadata_holds_no_ui_state_nor_operator_identity(fabric, tmp_path, clip):
    import platform

    from proxx_fabric.plugin import lookup

    result = _run(fabric, "Review H.264", clip, tmp_path / "a")
    record = lookup(_fingerprint(result))
    assert record is not None
    (proxy,) = record["proxies"]
    assert proxy["intent"] == "Review H.264"  # informational only: not in the fingerprint (test_1)
    assert platform.node() not in str(record)  # nor which machine ran it
    assert not {"operator", "user", "host", "worker_id", "ui", "selection"} & set(proxy)
