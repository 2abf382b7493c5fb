"""`proxx profiles`, `proxx registry`, `proxx validate` as operators and CI run them."""

from __future__ import annotations

import json
import re

import pytest

from proxx.cli import main
from proxx.compile.profiles import CODEC_FAMILY
from proxx.resources import bundled_profiles_dir

# Anything an operator must never see: canonical ids, codecs, containers, engines, command lines.
FORBIDDEN = re.compile(
    r"proxy_|ffmpeg|resolve|(?<![.\w])(mov|mp4|mxf)\b|"  # a file's extension is fine: operators see files
    + "|".join(sorted({*CODEC_FAMILY, *CODEC_FAMILY.values()} - {"h264"}))
    + r"|\bcodec|container",
    re.IGNORECASE,
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_profiles_shows_the_bundled_intents_without_canonical_detail(capsys):
    code, out, err = run(capsys, "profiles")
    assert code == 0 and err == ""
    for name in ("HD Editorial LT", "Archive ProRes", "Review H.264"):
        assert name in out
    assert "Legacy_ProRes_422" in out.split("Not available for new jobs:")[1]
    for line in out.splitlines():
        stripped = line.replace("Archive ProRes", "").replace("Legacy_ProRes_422", "").replace("HD Editorial LT", "")
        assert not FORBIDDEN.search(stripped), line


def test_profiles_json_has_no_canonical_detail(capsys):
    _code, out, _ = run(capsys, "profiles", "--json")
    rows = json.loads(out)
    assert {r["name"] for r in rows} >= {"HD Editorial LT", "Legacy_ProRes_422"}
    assert set(rows[0]) == {"name", "description", "lifecycle", "selectable", "problem", "replaced_by"}
    assert "proxy_" not in out


def test_registry_is_the_administrators_view(capsys):
    code, out, _ = run(capsys, "registry")
    assert code == 0 and "proxy_prores_lt_hd" in out and "ffmpeg" in out


def test_validate_bundled_repository_passes(capsys):
    code, out, _ = run(capsys, "validate", str(bundled_profiles_dir()), "--show-resolved")
    assert code == 0
    assert "'HD Editorial LT' -> proxy_prores_lt_hd" in out
    assert out.strip().endswith("ok")


@pytest.fixture
def broken_repo(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "ambiguous.yaml").write_text(
        'user_profile_version: "1.0"\nname: Amb\nconstraints:\n  preferred_codecs: [prores]\n'
    )
    (user / "unknown_field.yaml").write_text('user_profile_version: "1.0"\nname: Unk\nconstraints:\n  max_bitrate: 1\n')
    (user / "graduated.yaml").write_text(
        'user_profile_version: "1.1"\nname: Grad\nlifecycle: graduated\ngraduated_to: proxy_gone\nconstraints: {}\n'
    )
    (user / "none.yaml").write_text(
        'user_profile_version: "1.0"\nname: None\nconstraints:\n  intra_frame_only: true\n  preferred_codecs: [h264]\n'
    )
    (user / "good.yaml").write_text('user_profile_version: "1.1"\nname: Good\nconstraints:\n  codecs: [dnxhr_sq]\n')
    return tmp_path


def test_validate_broken_repository_fails_with_file_specific_reasons(capsys, broken_repo):
    code, out, _ = run(capsys, "validate", str(broken_repo))
    assert code == 3
    user = broken_repo / "user"
    assert f"{user / 'ambiguous.yaml'}:3: error [Amb]: Ambiguous match" in out
    assert f"{user / 'unknown_field.yaml'}:4: error [Unk]: unknown field 'max_bitrate'" in out
    assert f"{user / 'graduated.yaml'}:4: error [Grad]:" in out and "proxy_gone" in out
    # The line of the constraint that left no canonical profile, named with its value.
    assert f"{user / 'none.yaml'}:5: error [None]: No matching canonical profile" in out
    assert "preferred_codecs constraint ([h264]) incompatible with canonical registry" in out
    assert "good.yaml" not in out
    assert "4 problem(s)" in out


def test_validate_json_and_github_formats(capsys, broken_repo):
    code, out, _ = run(capsys, "validate", str(broken_repo), "--format", "json")
    report = json.loads(out)
    assert code == 3 and report["ok"] is False and len(report["problems"]) == 4
    assert {"profile": "Good", "canonical_profile": "proxy_dnxhr_sq_resolve"}.items() <= report["resolved"][0].items()
    code, out, _ = run(capsys, "validate", str(broken_repo), "--format", "github")
    annotations = [line for line in out.splitlines() if line.startswith("::error file=")]
    assert code == 3 and len(annotations) == 4
    assert any(",line=4,title=proxx validate (malformed_profile)::" in a for a in annotations)


def test_validate_a_single_file_and_a_missing_path(capsys, broken_repo, tmp_path):
    code, out, _ = run(capsys, "validate", str(broken_repo / "user/good.yaml"))
    assert code == 0
    code, out, _ = run(capsys, "validate", str(tmp_path / "nope"))
    assert code == 3 and "no such file or folder" in out


def test_a_configuration_error_is_one_line_and_exit_6(capsys, monkeypatch):
    from proxx import pluginmanager
    from proxx.errors import ConfigurationError

    def broken():
        raise ConfigurationError("duplicate_engine", "Two plugins provide the engine 'ffmpeg': 'a' and 'b'.")

    monkeypatch.setattr(pluginmanager, "plugin_manager", broken)
    monkeypatch.setattr("proxx.app.plugin_manager", broken)
    code, _out, err = run(capsys, "profiles")
    assert code == 6 and err.count("\n") == 1 and "Traceback" not in err


def test_an_internal_error_prints_one_line_and_logs_the_traceback(capsys, monkeypatch, proxx_home):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("proxx.app.Proxx.intents", explode)
    code, _out, err = run(capsys, "profiles")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    log = next((proxx_home / "logs").glob("internal-error-*.log"))
    assert "RuntimeError: boom" in log.read_text() and str(log) in err


def test_a_deprecated_intent_shows_what_replaced_it_and_is_never_chosen(tmp_path):
    import subprocess
    import sys

    env = {**__import__("os").environ, "PROXX_HOME": str(tmp_path)}
    listed = subprocess.run([sys.executable, "-m", "proxx", "profiles"], capture_output=True, text=True, env=env)
    assert "Legacy_ProRes_422  deprecated, replaced by 'HD Editorial LT', 'Archive ProRes'" in listed.stdout
    assert "[DEPRECATED]" not in listed.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "proxx", "run", "--profile", "Legacy_ProRes_422", "--output", str(tmp_path), "x.mov"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert (refused.returncode, refused.stderr) == (
        3, "proxx: Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs.\n"
    )  # fmt: skip


def test_validate_refuses_a_replacement_that_cannot_be_chosen(tmp_path, capsys):
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "old.yaml").write_text(
        'user_profile_version: "1.1"\nname: Old\nlifecycle: deprecated\nreplaced_by: [Newer]\n'
        "constraints: {codecs: [h264], resolution: [scale_50]}\n"
    )
    code, out, _ = run(capsys, "validate", str(tmp_path))
    assert code == 3
    assert f"{tmp_path / 'user' / 'old.yaml'}:4" in out and "replaced by 'Newer', which is not an intent" in out
