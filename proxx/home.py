"""PROXX_HOME: where proxx keeps its store, logs and results (default: the per-user data folder)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def proxx_home() -> Path:
    configured = os.environ.get("PROXX_HOME")
    home = Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("proxx"))
    home.mkdir(parents=True, exist_ok=True)
    return home
