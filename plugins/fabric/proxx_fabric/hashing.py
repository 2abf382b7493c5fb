"""xxh128 (XXH3, 128 bits) content hashes, written as ASC MHL writes them: 32 lowercase hex digits.

A file is read in 8 MiB blocks into one reused buffer, unbuffered: XXH3 hashes far faster than any
disk or page cache delivers, so with no per-block allocation or copy the hash costs little beyond the
read itself (benchmarks/fabric_hashing.py measures it).
"""

from __future__ import annotations

import os

import xxhash

BLOCK = 8 * 1024 * 1024
HASH_FORMAT = "xxh128"


def xxh128_file(path: str | os.PathLike[str], block: int = BLOCK) -> str:
    """The xxh128 of the file at `path`."""
    hasher = xxhash.xxh3_128()
    buffer = bytearray(block)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        _advise_sequential(handle.fileno())
        while count := handle.readinto(buffer):
            hasher.update(view[:count])
    return hasher.hexdigest()


def read_file(path: str | os.PathLike[str], block: int = BLOCK) -> int:
    """Read the file at `path` exactly as `xxh128_file` does, without hashing (the benchmark's
    baseline); returns its size."""
    buffer = bytearray(block)
    total = 0
    with open(path, "rb", buffering=0) as handle:
        _advise_sequential(handle.fileno())
        while count := handle.readinto(buffer):
            total += count
    return total


def _advise_sequential(fd: int) -> None:
    if hasattr(os, "posix_fadvise"):  # not on macOS or Windows
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
