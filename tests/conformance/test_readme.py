"""The statement table of tests/conformance/README.md: every statement has a test that exists, no
test stands for two statements, and the statements are numbered 1, 2, 3, ... without a gap. A test
named from the repository's root (`plugins/farm/tests/...`) lives with its plugin; every test of
the contract's modules kept with a plugin (`PLUGIN_MODULES`) is in the table too."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
# The contract's tests that need a plugin's services (the render farm: Redis and its workers).
PLUGIN_MODULES = frozenset({"plugins/farm/tests/test_farm_conformance.py"})
ROW = re.compile(r"^\| (?P<number>\d+) \| (?P<section>[^|]+) \| (?P<statement>[^|]+) \| (?P<tests>[^|]*) \|$")


def _table() -> list[tuple[int, str, list[str]]]:
    rows = []
    for line in (HERE / "README.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            tests = re.findall(r"`([^`]+)`", match["tests"])
            rows.append((int(match["number"]), match["statement"].strip(), tests))
    return rows


def _collected(session: pytest.Session) -> set[str]:
    """The conformance suite's test ids, as pytest collects them (relative to this folder): this
    session's when it collected every module of the suite, else a collection of its own."""
    prefix = f"{HERE.relative_to(HERE.parents[1]).as_posix()}/"
    ours = {item.nodeid.removeprefix(prefix) for item in session.items if item.nodeid.startswith(prefix)}
    if {nodeid.split("::")[0] for nodeid in ours} >= {path.name for path in HERE.glob("test_*.py")}:
        return ours
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(HERE)],
        capture_output=True, text=True, check=True, cwd=HERE.parents[1],
    )  # fmt: skip
    return {line.removeprefix(prefix) for line in done.stdout.splitlines() if "::" in line}


def _collected_with_plugins(session: pytest.Session, files: set[str]) -> set[str]:
    """The test ids of `files` (paths from the repository's root, under plugins/): this session's
    when it collected them all, else a collection of their own."""
    ours = {item.nodeid for item in session.items if item.nodeid.split("::")[0] in files}
    if {nodeid.split("::")[0] for nodeid in ours} >= files:
        return ours
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *sorted(files)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    return {line for line in done.stdout.splitlines() if "::" in line}


def test_every_statement_of_the_table_has_a_test_that_exists_and_only_its_own(request: pytest.FixtureRequest):
    rows = _table()
    assert [number for number, _, _ in rows] == list(range(1, len(rows) + 1))
    assert len(rows) >= 100
    collected = _collected(request.session)
    named = {test.split("::")[0] for _, _, tests in rows for test in tests if test.startswith("plugins/")}
    collected |= _collected_with_plugins(request.session, named | PLUGIN_MODULES)
    seen: dict[str, int] = {}
    for number, statement, tests in rows:
        assert tests, f"statement {number} ({statement}) has no test"
        for test in tests:
            matching = {c for c in collected if c == test or c.startswith(f"{test}[")}
            assert matching, f"statement {number}: no test {test}"
            for case in matching:
                assert case not in seen, f"{case} is listed for statements {seen[case]} and {number}"
                seen[case] = number
    # and every test of the suite stands for a statement (helpers aside)
    unlisted = sorted(
        c for c in collected if c not in seen and not c.startswith("test_readme.py::")
        and (not c.startswith("plugins/") or c.split("::")[0] in PLUGIN_MODULES)
    )  # fmt: skip
    assert unlisted == []
