"""What exporters receive: each completed clip's typed facts (start timecodes, frame rate, frame
count, duration, displayed size) taken from the probes, check names from the documented list, and
the exporters run one after the other in name order, each seeing the outcomes of those before it."""

from __future__ import annotations

import re

from proxx.plugin import CHECK_NAMES, Exporter, ExportOutcome, hookimpl
from proxx.testing import intent_for

INTENT = {
    "user_profile_version": "1.1",
    "name": "Half H.264",
    "constraints": {"codecs": ["h264"], "resolution": ["scale_50"]},
}


class Chain:
    """Two exporters: the second builds on what the first reported."""

    PROXX_PLUGIN_API = "1.1"

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[ExportOutcome, ...]]] = []

    @hookimpl
    def proxx_exporters(self):
        def first(spec, result):
            self.seen.append(("a-index", result.exports))
            return {"index": "proxies.idx"}

        def second(spec, result):
            self.seen.append(("b-sheet", result.exports))
            return {"from_index": result.exports[0].details["index"]}

        yield Exporter("b-sheet", second)  # yielded out of order: they run in name order
        yield Exporter("a-index", first)


def test_completed_clips_carry_typed_facts_and_exporters_see_earlier_outcomes(
    proxx_register, proxx_profiles, proxx_open, proxx_clip, proxx_run
):
    chain = proxx_register(Chain(), name="chain")
    app = proxx_open(profiles=[proxx_profiles({"user/half.yaml": INTENT})])
    source = proxx_clip(size="352x240", rate="30000/1001", frames=15, sar="10:11", timecode="10:00:00;00")
    outcome = proxx_run(app, "Half H.264", [source])
    assert outcome.row.state == "COMPLETED", outcome.row.message

    facts = outcome.result.clips[0].facts
    assert facts is not None
    assert (facts.source_timecode, facts.proxy_timecode) == ("10:00:00;00", "10:00:00;00")
    assert (facts.frame_rate, facts.frame_count) == ("30000/1001", 15)
    assert abs(facts.duration - 15 * 1001 / 30000) < 0.002
    # 176x120 coded with a 10:11 sample aspect ratio is displayed 160x120.
    assert (facts.display_width, facts.display_height) == (160, 120)
    assert outcome.document["clips"][0]["facts"]["frame_rate"] == "30000/1001"

    assert [name for name, _ in chain.seen] == ["a-index", "b-sheet"]
    assert chain.seen[0][1] == ()
    (earlier,) = chain.seen[1][1]
    assert (earlier.exporter, earlier.ok, earlier.details) == ("a-index", True, {"index": "proxies.idx"})
    assert outcome.document["exports"][1]["details"] == {"from_index": "proxies.idx"}


def test_every_check_proxx_records_has_a_documented_name(proxx_profiles, proxx_open, proxx_clip, proxx_run):
    files = {"user/x.yaml": intent_for("proxy_prores_proxy", "ProRes check")}
    app = proxx_open(profiles=[proxx_profiles(files)])
    outcome = proxx_run(app, "ProRes check", [proxx_clip(audio=(2, 1))])
    assert outcome.row.state == "COMPLETED", outcome.row.message
    names = {re.sub(r"\[\d+\]", "[N]", check.name) for check in outcome.result.clips[0].checks}
    assert names <= set(CHECK_NAMES), names - set(CHECK_NAMES)
    assert {"dimensions", "display_aspect_ratio", "timecode", "audio[N].layout"} <= names


def test_every_documented_check_name_has_words_for_operators():
    from proxx.visibility import CHECK_LABELS, check_label

    for name in CHECK_NAMES:
        if name.startswith("audio["):
            assert check_label(name.replace("[N]", "[0]")) != name.replace("[N]", "[0]"), name
        else:
            assert name in CHECK_LABELS, name
