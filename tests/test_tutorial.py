"""The tutorial (docs/writing-an-engine-plugin.md) quotes the example plugin; every quoted block must
still be in the file it names, so the two never drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "writing-an-engine-plugin.md"
EXPORTER_TUTORIAL = ROOT / "docs" / "writing-an-exporter-plugin.md"
EXCERPT = re.compile(r"<!-- excerpt: (?P<path>\S+) -->\n```\w*\n(?P<code>.*?)\n```", re.DOTALL)


@pytest.mark.parametrize(("tutorial", "blocks"), [(TUTORIAL, 9), (EXPORTER_TUTORIAL, 5)])
def test_every_quoted_block_is_in_its_file(tutorial, blocks):
    excerpts = list(EXCERPT.finditer(tutorial.read_text(encoding="utf-8")))
    assert len(excerpts) >= blocks
    for excerpt in excerpts:
        source = (ROOT / excerpt["path"]).read_text(encoding="utf-8")
        assert excerpt["code"] in source, (
            f"the tutorial's excerpt of {excerpt['path']} is out of date:\n{excerpt['code']}"
        )


def test_the_example_stays_under_150_lines_of_code():
    example = ROOT / "examples" / "inhouse-engine"
    files = [p for p in example.rglob("*") if p.is_file() and p.suffix in {".py", ".toml", ".yaml"}]
    code = [
        line for f in files for line in f.read_text().splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    assert len(code) < 150


def test_the_readme_links_the_tutorial_and_the_hook_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/writing-an-engine-plugin.md" in readme and "docs/hooks.md" in readme
    assert "docs/writing-an-exporter-plugin.md" in readme and "docs/reference.md" in readme


def test_the_examples_tests_pass_mypy_strict_as_their_authors_check_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plugin authors copy the examples' tests, fixtures annotated as the engine tutorial's table says:
    `mypy --strict` accepts them (an unannotated fixture argument is an error under it)."""
    import os

    from mypy import api

    tests = [ROOT / "examples" / name / "tests" for name in ("inhouse-engine", "manifest-exporter")]
    monkeypatch.setenv("MYPYPATH", str(ROOT / "examples" / "manifest-exporter"))  # as if installed
    out, err, code = api.run(["--strict", "--no-incremental", "--config-file", os.devnull, *map(str, tests)])
    assert code == 0, out + err
