"""`proxx validate` as a CI job runs it: the verdict the running system reaches, one machine-readable
document whatever went wrong, and nothing needed of PROXX_HOME but to read it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.resources import bundled_profiles_dir

ELSEWHERE = """canonical_profile_version: "1.0"
id: studio_prores_lt_quarter
engine: studio_farm_engine
codec: prores_lt
container: mov
resolution: scale_25
audio: copy
"""
GRADUATED = """user_profile_version: "1.2"
name: Studio Quarter
lifecycle: graduated
graduated_to: studio_prores_lt_quarter
constraints: {}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_intent_whose_engine_is_not_installed_fails_validate_as_it_is_invalid_when_loaded(
    tmp_path: Path, proxx_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "canonical").mkdir()
    (tmp_path / "canonical" / "quarter.yaml").write_text(ELSEWHERE, encoding="utf-8")
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "quarter.yaml").write_text(GRADUATED, encoding="utf-8")
    statuses = {s.name: s for s in Proxx.open(profiles=[tmp_path]).intents()}
    assert not statuses["Studio Quarter"].selectable  # what `proxx serve` would offer: nothing

    code, out, _ = run(capsys, "validate", str(tmp_path), "--format", "json")
    report = json.loads(out)
    assert code == 3 and report["ok"] is False
    (problem,) = report["problems"]
    assert (problem["profile"], problem["reason"]) == ("Studio Quarter", "engine_not_installed")
    assert problem["file"] == str(tmp_path / "user" / "quarter.yaml") and problem["line"] == 4
    assert "studio_farm_engine" in problem["message"]


def test_validate_needs_no_writable_proxx_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")
    monkeypatch.setenv("PROXX_HOME", str(not_a_folder / "home"))  # cannot be created, nor written
    for arguments in ([str(bundled_profiles_dir())], []):
        code, out, err = run(capsys, "validate", *arguments)
        assert (code, err) == (0, "") and out.strip().endswith("ok"), out


@pytest.mark.parametrize("broken", ["PROXX_PROFILES", "proxx.toml"])
def test_a_repository_that_cannot_be_read_is_a_problem_in_every_format(
    broken: str, tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if broken == "PROXX_PROFILES":
        monkeypatch.setenv("PROXX_PROFILES", str(tmp_path / "missing"))
        named, reason = str(tmp_path / "missing"), "repository_missing"
    else:
        proxx_home.mkdir(exist_ok=True)
        (proxx_home / "proxx.toml").write_text("[profiles\n", encoding="utf-8")
        named, reason = str(proxx_home / "proxx.toml"), "configuration_unusable"
    code, out, _ = run(capsys, "validate", "--format", "json")
    report = json.loads(out)
    assert code == 3 and report["ok"] is False
    (problem,) = report["problems"]
    assert (problem["file"], problem["reason"]) == (named, reason)
    code, out, _ = run(capsys, "validate", "--format", "github")
    assert code == 3 and f"::error file={os.path.relpath(named)},title=proxx validate ({reason})::" in out
    code, out, _ = run(capsys, "validate")
    assert code == 3 and out.startswith(f"{named}: error: ") and "1 problem(s)" in out


def test_the_installations_layers_are_checked_as_layers_as_proxx_loads_them(
    tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without PATH, the installation's repositories are each a layer, as every command reads them: a
    later one's `overrides: true` replaces an intent of an earlier one (the bundled "HD Editorial
    LT" here), and the same name twice in one repository is still an error."""
    studio, night = tmp_path / "studio", tmp_path / "night"
    for folder, version in ((studio, "1.2"), (night, "1.2")):
        folder.mkdir()
        (folder / "hd.yaml").write_text(
            f'user_profile_version: "{version}"\nname: HD Editorial LT\noverrides: true\nlifecycle: graduated\n'
            "graduated_to: proxy_prores_proxy\nconstraints: {}\n",
            encoding="utf-8",
        )
    monkeypatch.setenv("PROXX_PROFILES", os.pathsep.join([str(studio), str(night)]))
    statuses = {s.name: s for s in Proxx.open().intents()}
    assert statuses["HD Editorial LT"].selectable and statuses["Legacy_ProRes_422"].problem is None

    code, out, _ = run(capsys, "validate")
    assert code == 0 and out.strip().endswith("ok"), out

    (night / "again.yaml").write_text((night / "hd.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert not {s.name: s for s in Proxx.open().intents()}["HD Editorial LT"].selectable
    code, out, _ = run(capsys, "validate", "--format", "json")
    problems = json.loads(out)["problems"]
    assert code == 3 and [p["reason"] for p in problems if p["profile"] == "HD Editorial LT"] == [
        "duplicate_profile_name"
    ]


def test_a_file_that_is_not_utf8_text_is_one_problem_on_one_line_naming_its_line(
    tmp_path: Path, proxx_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = b'user_profile_version: "1.1"\n'
    files = {
        "latin1.yaml": (head + b"name: Caf\xe9 Proxies\nconstraints: {}\n", 2, "byte 0xe9 is not UTF-8"),
        "binary.yaml": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "byte 0x89 is not UTF-8"),
        "control.yaml": (head + b"name: Tab\x00le\nconstraints: {}\n", 2, "character U+0000"),
    }
    for name, (data, _, _) in files.items():
        (tmp_path / name).write_bytes(data)
    code, out, _ = run(capsys, "validate", str(tmp_path))
    assert code == 3 and len(out.splitlines()) == len(files) + 1, out  # a line per problem, and the summary
    for name, (_, line, words) in files.items():
        (reported,) = [text for text in out.splitlines() if text.startswith(f"{tmp_path / name}:")]
        assert reported.startswith(f"{tmp_path / name}:{line}: error: not text: {words}")
        assert reported.endswith("(not_text)")


def test_every_reason_validate_gives_is_in_the_readme(
    tmp_path: Path, proxx_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = 'user_profile_version: "1.2"\nname: {}\n'
    files = {
        "not_text.yaml": b"name: caf\xe9\n",
        "yaml.yaml": b"name: [unclosed\n",
        "bounds.yaml": b"a: &a [1]\nb: *a\n",
        "not_profile.yaml": b"- a\n",
        "malformed.yaml": (head.format("M") + "constraints: {codecs: [nosuch]}\n").encode(),
        "ambiguous.yaml": (head.format("A") + "constraints: {}\n").encode(),
        "none.yaml": (head.format("N") + "constraints: {codecs: [h264], intra_frame_only: true}\n").encode(),
        "graduated.yaml": (head.format("G") + "lifecycle: graduated\ngraduated_to: gone\nconstraints: {}\n").encode(),
        "duplicate.yaml": (head.format("HD Editorial LT") + "constraints: {}\n").encode(),
        "confusable.yaml": (head.format("'Review H.264 '") + "constraints: {}\n").encode(),
        "replaced.yaml": (
            head.format("D") + "lifecycle: deprecated\nreplaced_by: [Nobody]\nconstraints: {}\n"
        ).encode(),
        "engine.yaml": GRADUATED.encode(),
        "canonical.yaml": ELSEWHERE.encode(),
        "conflict.yaml": ELSEWHERE.replace("studio_prores_lt_quarter", "proxy_prores_lt").encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    code, out, _ = run(capsys, "validate", str(tmp_path), str(tmp_path / "missing"), "--format", "json")
    reasons = {problem["reason"] for problem in json.loads(out)["problems"]}
    assert code == 3 and len(reasons) >= 12, reasons
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert not [reason for reason in reasons if f"`{reason}`" not in readme]


def test_a_second_definition_is_reported_at_its_name_or_id_line(
    tmp_path: Path, proxx_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hd.yaml").write_text(
        '# the studio\'s own\nuser_profile_version: "1.2"\nname: HD Editorial LT\nconstraints: {}\n', encoding="utf-8"
    )
    (tmp_path / "lt.yaml").write_text(
        "# a new look\n" + ELSEWHERE.replace("studio_prores_lt_quarter", "proxy_prores_lt"), encoding="utf-8"
    )
    code, out, _ = run(capsys, "validate", str(tmp_path), "--format", "json")
    placed = {p["reason"]: (p["file"], p["line"]) for p in json.loads(out)["problems"]}
    assert code == 3
    assert placed["duplicate_profile_name"] == (str(tmp_path / "hd.yaml"), 3)
    assert placed["canonical_id_conflict"] == (str(tmp_path / "lt.yaml"), 3)


def test_a_github_annotation_escapes_a_file_name_with_a_comma_or_colon(
    tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub reads `file=` up to a comma, and a property's colon as the message's start: a file
    named so is escaped as the Actions toolkit escapes properties."""
    (tmp_path / "HD, v2: night.yaml").write_text('user_profile_version: "1.2"\nname: [\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "validate", ".", "--format", "github")
    assert code == 3
    assert "::error file=HD%2C v2%3A night.yaml,line=3,title=proxx validate (yaml_syntax)::invalid YAML" in out


def test_validate_leaves_the_bundled_repository_out_as_proxx_bundled_profiles_0_says(
    tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lt.yaml").write_text(
        'user_profile_version: "1.2"\nname: Studio LT\nlifecycle: graduated\ngraduated_to: proxy_prores_lt\n'
        "constraints: {}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(tmp_path))
    for arguments in ([str(tmp_path)], []):
        code, out, _ = run(capsys, "validate", *arguments, "--format", "json")
        problems = json.loads(out)["problems"]
        assert code == 3 and [p["reason"] for p in problems] == ["graduated_to_unknown"], arguments
    assert not {s.name: s for s in Proxx.open().intents()}["Studio LT"].selectable  # its target is bundled
    (proxx_home / "intents-invalid.json").unlink()  # found INVALID just now: forgotten, for the checks below
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "1")
    code, out, _ = run(capsys, "validate", str(tmp_path), "--no-bundled-profiles")
    assert code == 3 and "(graduated_to_unknown)" in out
    code, out, _ = run(capsys, "validate", str(tmp_path))
    assert code == 0, out


def test_the_text_report_is_a_line_per_problem_whatever_a_name_holds(
    tmp_path: Path, proxx_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name with a line break or a terminal escape in it (in the file or the file's name) is shown
    escaped: a CI log reads one problem a line, and nothing in a profile moves its cursor."""
    twice = 'user_profile_version: "1.2"\nname: "Two\\nLines \\e[2J"\nconstraints: {}\n'
    (tmp_path / "one.yaml").write_text(twice, encoding="utf-8")
    (tmp_path / "two\x1b[31m.yaml").write_text(twice, encoding="utf-8")
    code, out, _ = run(capsys, "validate", str(tmp_path), "--show-resolved")
    assert code == 3 and "\x1b" not in out
    assert len(out.splitlines()) == 2 and "Two\\x0aLines \\x1b[2J" in out, out


def test_the_verdict_stands_when_the_reader_stops_early(tmp_path: Path, proxx_home: Path) -> None:
    """`set -o pipefail; proxx validate . | head`: the reader closing the pipe after a few problems
    must not turn a failing repository into exit 0."""
    import subprocess
    import sys

    for n in range(400):  # more problems than a pipe holds
        (tmp_path / f"a{n}.yaml").write_text(f'user_profile_version: "1.2"\nname: Any {n}\nconstraints: {{}}\n')
    env = {**os.environ, "PROXX_HOME": str(proxx_home), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "proxx", "validate", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as validate:
        assert validate.stdout is not None and validate.stdout.readline()
        validate.stdout.close()  # `head -1` had enough
        assert validate.wait(timeout=60) == 3


def test_a_github_annotation_names_its_file_from_the_repository_root_wherever_the_step_runs(
    tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub attaches an annotation to `file=` read from the checkout's root (GITHUB_WORKSPACE): a
    step run in the profiles' folder (`working-directory: profiles`) named `user/x.yaml`, a file the
    repository does not have, and the annotation was shown on no file."""
    user = tmp_path / "profiles" / "user"
    user.mkdir(parents=True)
    (user / "broken.yaml").write_text('user_profile_version: "1.2"\nname: [\n', encoding="utf-8")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    for folder, given in ((tmp_path, "profiles"), (tmp_path / "profiles", "."), (user, str(user))):
        monkeypatch.chdir(folder)
        code, out, _ = run(capsys, "validate", given, "--format", "github")
        assert code == 3
        assert out.startswith("::error file=profiles/user/broken.yaml,line=3,title=proxx validate (yaml_syntax)::"), out


def test_the_readmes_github_workflow_validates_as_this_test_runs_it() -> None:
    """The README's workflow for a profile repository: valid YAML whose last step is the command the
    tests above run (`proxx validate . --format github`), after installing proxx and its plugins."""
    from ruamel.yaml import YAML

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**In GitHub Actions**") :]
    workflow = YAML(typ="safe").load(section[section.index("```yaml\n") + 8 : section.index("```\n", 10)])
    steps = workflow["jobs"]["validate"]["steps"]
    assert steps[-1] == {"run": "proxx validate . --format github"}
    assert "proxx-media" in steps[-2]["run"].split()
