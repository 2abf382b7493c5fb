"""Fabric: what proxx knows about every finished proxy, keyed by fingerprint and content hash."""

__version__ = "0.1.0"

# What Fabric keeps in a job's output folder, beside the proxies: the ASC MHL history (the folder
# name ascmhl itself uses) and Fabric's own files (copies of result JSONs, the history's lock).
HISTORY_FOLDER = "ascmhl"
PROXX_FOLDER = ".proxx"
