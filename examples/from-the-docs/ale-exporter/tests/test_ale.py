import proxx_ale


def test_a_finished_job_gets_an_ale_from_its_clips_facts(proxx_register, proxx_open, proxx_clip, proxx_run):
    app = proxx_open()
    assert "ale" in app.exporters  # installed through its entry point
    outcome = proxx_run(app, "Review H.264", [proxx_clip(size="320x180", frames=12, timecode="02:00:00:00")])
    assert outcome.row.state == "COMPLETED", outcome.row.message
    (exported,) = [e for e in outcome.result.exports if e.exporter == "ale"]
    assert exported.ok and exported.details["clips"] == 1, exported
    with open(exported.details["ale"], encoding="utf-8") as ale:
        rows = ale.read().split("Data\n")[1].splitlines()
    assert rows[0].split("\t")[:6] == ["A001", "A001", "02:00:00:00", "12", "23.976", "160x90"]
    assert proxx_ale.FOLDER == "ALE"
