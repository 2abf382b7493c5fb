"""The public plugin API (`proxx.plugin`) is the only part of proxx that plugins and examples import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import proxx.plugin

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"proxx", "proxx.plugin"}
# The plugin authors' test kit is public too, for tests only.
PUBLIC_IN_TESTS = PUBLIC | {"proxx.testing", "proxx.testing.conformance"}


def proxx_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a proxx module in `path`, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, m) for m in modules if m == "proxx" or m.startswith("proxx.")]
    return sorted(found)


def plugin_files() -> list[Path]:
    return sorted(p for folder in ("plugins", "examples") for p in (ROOT / folder).rglob("*.py"))


def test_plugins_and_examples_import_only_the_public_api() -> None:
    assert len(plugin_files()) > 20  # the walk sees the bundled plugins and the example
    leaks = []
    for path in plugin_files():
        relative = path.relative_to(ROOT)
        allowed = PUBLIC_IN_TESTS if "tests" in relative.parts else PUBLIC
        leaks += [f"{relative}:{line}: {module}" for line, module in proxx_imports(path) if module not in allowed]
    assert leaks == []


def test_the_walk_finds_an_internal_import(tmp_path: Path) -> None:
    module = tmp_path / "leak.py"
    module.write_text("def f():\n    from proxx.store import Store\nimport proxx.plugin\n", encoding="utf-8")
    assert proxx_imports(module) == [(2, "proxx.store"), (3, "proxx.plugin")]


@pytest.mark.parametrize("name", proxx.plugin.__all__)
def test_every_public_name_imports(name: str) -> None:
    assert getattr(proxx.plugin, name) is not None


def test_every_public_class_documents_itself() -> None:
    classes = [getattr(proxx.plugin, n) for n in proxx.plugin.__all__ if isinstance(getattr(proxx.plugin, n), type)]
    undocumented = [c.__name__ for c in classes if not (c.__doc__ or "").strip() or c.__doc__ == type.__doc__]
    assert undocumented == []
