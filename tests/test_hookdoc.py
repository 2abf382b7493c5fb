"""docs/hooks.md is generated from the hook specs' docstrings and must stay in step with them."""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path

import pytest

from proxx import hookspecs
from proxx.pluginmanager import build_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # the doc generators are repository tools, not shipped
import hookdoc  # noqa: E402


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_docs_hooks_md_is_in_step_with_the_hookspecs(at_root):
    assert hookdoc.main(["--check"]) == 0, "run: .venv/bin/python scripts/hookdoc.py"


def test_every_hook_is_documented_with_its_signature_and_docstring(at_root):
    page = hookdoc.PAGE.read_text()
    names = [hook.__name__ for hook in hookdoc.hooks()]
    assert names == [n for n in vars(hookspecs) if n.startswith("proxx_")]  # the flow's order
    for hook in hookdoc.hooks():
        assert f"## {hook.__name__}\n" in page
        assert hookdoc.signature(hook) in page
        assert hook.__doc__.strip().splitlines()[0] in page
    assert "def proxx_engines() -> Iterable[Engine]" in page


def test_a_changed_docstring_puts_the_page_out_of_step(at_root, tmp_path, monkeypatch, capsys):
    changed = types.ModuleType("hookspecs", hookspecs.__doc__)
    for name, value in vars(hookspecs).items():
        if name.startswith("proxx_"):
            copy = types.FunctionType(value.__code__, value.__globals__, name)
            copy.__doc__ = value.__doc__ + ("\nA new sentence." if name == "proxx_engines" else "")
            copy.proxx_spec = value.proxx_spec
            setattr(changed, name, copy)
    page = tmp_path / "hooks.md"
    page.write_text(hookdoc.render(hookdoc.TRACE.read_text(), changed))
    monkeypatch.setattr(hookdoc, "PAGE", page)
    assert hookdoc.main(["--check"]) == 1
    assert "out of step" in capsys.readouterr().err


def test_the_trace_example_is_what_a_real_run_prints(at_root):
    captured = hookdoc.capture_trace()
    stored = hookdoc.TRACE.read_text()
    for text in (captured, stored):
        assert "proxx.plugins: call proxx_engines({}) -> [ffmpeg]" in text
        assert "FFmpegEngine object at" in text  # the records, not a generator
        assert "Engines:\n  ffmpeg" in text


def test_tracing_shows_records_and_leaves_them_usable(monkeypatch, caplog):
    monkeypatch.setenv("PROXX_TRACE_PLUGINS", "1")
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg")
    with caplog.at_level(logging.DEBUG, logger="proxx.plugins"):
        found = build_plugin_manager().engines()
    assert list(found) == ["ffmpeg"]
    assert "proxx_engines returned [[<proxx_ffmpeg.engine.FFmpegEngine object" in caplog.text
