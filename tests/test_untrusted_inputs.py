"""Untrusted inputs, second review (issue 24): each class of attack, written as the attacker would
(a crafted file, a planted link, a forged Redis entry, a hostile file name), asserting the refusal
and that nothing outside the allowed area was written or read."""

from __future__ import annotations

import json
import time

import pytest

from proxx.cli import main
from proxx.errors import JobValidationError
from proxx.jobspec.untrusted import MAX_JOBSPEC_BYTES, nesting_exceeds, parse_bounded

# --- parsers are linear, digests before parsing ---------------------------------------------------


def _seconds(text: str) -> float:
    """The best of three (the machine is shared)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with pytest.raises(JobValidationError):
            parse_bounded(text, "test")
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize(
    "unit",
    ['\\"', '"a', "\\\\\\", '"\\', "[", '"[{'],
    ids=["escaped quotes", "many strings", "backslashes", "quote backslash", "brackets", "quoted brackets"],
)
def test_the_bounded_json_scan_is_linear_in_its_input(unit):
    """A 1 MiB file costs about eight times a 128 KiB one, whatever it repeats (quadratic: 64 times,
    and minutes for the whole file)."""
    small = _seconds('["' + unit * (MAX_JOBSPEC_BYTES // 8 // len(unit)))
    large = _seconds('["' + unit * (MAX_JOBSPEC_BYTES // len(unit) - 4))
    assert large < max(0.2, small * 30), (small, large)


def test_the_depth_scan_counts_brackets_outside_strings_only():
    assert not nesting_exceeds(json.dumps({"a": "[" * 100, "b": [[1]], "c": 'x\\"[[['}), 3)
    assert nesting_exceeds(json.dumps({"a": [[[1]]]}), 3)
    assert nesting_exceeds('{"a": "\\\\", "b": [[[[1]]]]}', 4)  # an escaped backslash ends no string early


def test_run_spec_checks_the_digest_before_parsing(proxx_home, tmp_path, capsys):
    """A file that is not the JobSpec its digest names is refused for that, whatever it holds: even
    a file the JSON parser would choke on never reaches it."""
    hostile = tmp_path / "spec.json"
    hostile.write_text("[" * 10_000)
    assert main(["run-spec", str(hostile), "--digest", "sha256:" + "0" * 64]) == 4
    err = capsys.readouterr().err
    assert "does not match its digest" in err and "nests" not in err
