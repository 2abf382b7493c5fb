"""`python -m proxx` is the `proxx` command."""

from proxx.cli import run

run()
