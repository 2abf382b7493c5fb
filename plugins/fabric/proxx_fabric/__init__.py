"""Fabric: what proxx knows about every finished proxy, keyed by fingerprint and content hash."""
