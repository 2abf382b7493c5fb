"""xxh128 (XXH3, 128 bits) content hashes, written as ASC MHL writes them: 32 lowercase hex digits.

A file is read in blocks of up to 8 MiB into one reused buffer, unbuffered: XXH3 hashes far faster
than any disk or page cache delivers, so with no per-block allocation or copy the hash costs little
beyond the read itself (benchmarks/fabric_hashing.py measures it). The buffer is no larger than the
file: zeroing 8 MiB for a 1 MB proxy cost more than hashing it.
"""

from __future__ import annotations

import os

import xxhash

BLOCK = 8 * 1024 * 1024
HASH_FORMAT = "xxh128"


def xxh128_file(path: str | os.PathLike[str], block: int = BLOCK) -> str:
    """The xxh128 of the file at `path`."""
    hasher = xxhash.xxh3_128()
    with open(path, "rb", buffering=0) as handle:
        buffer = _buffer_for(handle.fileno(), block)
        view = memoryview(buffer)
        while count := handle.readinto(buffer):
            hasher.update(view[:count])
    return hasher.hexdigest()


def read_file(path: str | os.PathLike[str], block: int = BLOCK) -> int:
    """Read the file at `path` exactly as `xxh128_file` does, without hashing (the benchmark's
    baseline); returns its size."""
    total = 0
    with open(path, "rb", buffering=0) as handle:
        buffer = _buffer_for(handle.fileno(), block)
        while count := handle.readinto(buffer):
            total += count
    return total


def _buffer_for(fd: int, block: int) -> bytearray:
    """A read buffer for the open file `fd` (one block, or the file's size and a byte more), having
    told the kernel the file is read from start to end."""
    if hasattr(os, "posix_fadvise"):  # not on macOS or Windows
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    return bytearray(max(1, min(block, os.fstat(fd).st_size + 1)))
