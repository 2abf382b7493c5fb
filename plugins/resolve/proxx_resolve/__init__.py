"""The DaVinci Resolve Studio engine plugin for proxx.

Kept import-free: `python -m proxx_resolve.bridge` runs in a child process and must start fast
without loading proxx."""
