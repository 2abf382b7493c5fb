"""The exporter is registered per test (`proxx_register`), not installed: installed, it would export
every job of proxx's own test suite. Its package is importable from here instead."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
