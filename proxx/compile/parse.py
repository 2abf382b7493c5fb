"""Parse one profile file and check it against its schema, with file and line for every problem.

Imported only when a file is not in the profile cache: it brings the YAML parser and the JSON
Schema validator, the two slowest imports of a proxx start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from proxx import schemas
from proxx.compile.plainyaml import NotPlain, PlainReader
from proxx.compile.problems import Location, Problem

MAX_PROFILE_BYTES = 256 * 1024  # the largest bundled profile is under 2 KiB
MAX_DEPTH = 16  # a profile nests 3 deep
MAX_INTEGER_DIGITS = 18  # no profile number comes near; an integer of thousands of digits is refused


def _bounded_digits(node: ScalarNode) -> None:
    digits = str(node.value).replace("_", "").lstrip("+-")
    if len(digits) > MAX_INTEGER_DIGITS:
        raise ConstructorError(
            None, None, f"an integer of {len(digits)} digits is not a profile value", node.start_mark
        )


class _ProfileConstructor(SafeConstructor):
    """Scalars as the schemas' types, never more: a date-like value (`2026-02-30`) stays the text it
    is (the schema then says where a string was not expected), an integer longer than
    MAX_INTEGER_DIGITS is a problem at its line rather than a slow conversion or a crash."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        _bounded_digits(node)
        return int(super().construct_yaml_int(node))

    def construct_yaml_timestamp(self, node: ScalarNode, values: Any = None) -> str:
        return str(node.value)


class _LineConstructor(RoundTripConstructor):
    """The same scalars for the loader that finds lines."""

    def construct_yaml_int(self, node: ScalarNode) -> Any:
        _bounded_digits(node)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: ScalarNode, values: Any = None) -> Any:
        return str(node.value)


for _constructor in (_ProfileConstructor, _LineConstructor):
    _constructor.add_constructor("tag:yaml.org,2002:int", _constructor.construct_yaml_int)
    _constructor.add_constructor("tag:yaml.org,2002:timestamp", _constructor.construct_yaml_timestamp)

# libyaml through ruamel's C loader: 5x faster than the round-trip loader. The round-trip loader,
# which remembers lines, is used only to place the problems of a file that has some.
_fast_yaml = YAML(typ="safe")
_fast_yaml.Constructor = _ProfileConstructor


class _ScalarConstructor(_ProfileConstructor):
    """The profiles' constructor building one scalar at a time, outside a loader (the plain reader):
    ruamel.yaml's constructors ask their loader's resolver which YAML version they read, and its C
    loader always reads 1.2 (it reports no `%YAML` directive), a resolver's default."""

    @property
    def resolver(self) -> VersionedResolver:
        return _DEFAULT_VERSION


_DEFAULT_VERSION = VersionedResolver(version=None)
_plain_reader = PlainReader(_ScalarConstructor())


def load_yaml(data: bytes) -> Any:
    """One YAML document as ruamel.yaml's safe loading (`_fast_yaml.load`) reads it: a profile in
    plain YAML line by line (`proxx.compile.plainyaml`: the same values), anything else by ruamel.yaml."""
    try:
        return _plain_reader.read(data)
    except NotPlain:
        return _fast_yaml.load(data)


KINDS = {"canonical_profile_version": ("canonical", schemas.CANONICAL_PROFILE, "id"),
         "user_profile_version": ("user", schemas.USER_PROFILE, "name")}  # fmt: skip


def read_document(file: Path) -> tuple[str | None, dict[str, Any] | None, Location, list[Problem]]:
    """(kind "canonical" or "user", the document, its location, problems); a document only when
    there is no problem."""
    location = Location(str(file))
    try:
        data = _read_bounded(file)
        bounds = _out_of_bounds(data)
        if bounds is not None:
            return None, None, location, [Problem(location, "profile_out_of_bounds", bounds)]
        document = load_yaml(data)
    except (ReaderError, UnicodeDecodeError):  # binary, text in another encoding, a control character
        line, words = _not_text(data)
        place = Location(str(file), line)
        return None, None, place, [Problem(place, "not_text", words)]
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = Location(str(file), mark.line + 1 if mark is not None else None)
        reason = error.problem or error.context or "invalid YAML"
        return None, None, at, [Problem(at, "yaml_syntax", f"invalid YAML: {reason}")]
    except (OSError, YAMLError) as error:
        return None, None, location, [Problem(location, "unreadable", f"cannot read profile file: {error}")]
    except (ValueError, TypeError, RecursionError, MemoryError) as error:  # a value the loader cannot build
        return None, None, location, [Problem(location, "unreadable", f"cannot read profile file: {error}")]

    version_field = next((f for f in KINDS if isinstance(document, dict) and f in document), None)
    if version_field is None:
        message = "not a profile: expected a mapping with a 'user_profile_version' or 'canonical_profile_version' field"
        return None, None, location, [Problem(location, "not_a_profile", message)]
    assert isinstance(document, dict)
    kind, schema, label_field = KINDS[version_field]
    label = document.get(label_field)
    found = schemas.violations(document, schema)
    if found:
        lines = _line_finder(file)
        problems = [
            Problem(
                Location(str(file), lines(v.path)),
                "malformed_profile",
                v.message,
                label if isinstance(label, str) else None,
                kind,
            )
            for v in found
        ]
        return kind, None, location, problems
    return kind, document, location, []


# Characters outside YAML's printable set (c-printable, YAML 1.2 section 5.1).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _not_text(data: bytes) -> tuple[int, str]:
    """The line of the first byte of `data` that is not UTF-8, or of the first character YAML does
    not allow (a control character), and what it is: a file's problem in one line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return line, f"not text: byte 0x{data[error.start]:02x} is not UTF-8 (line {line}); profile files are UTF-8"
    found = _NOT_PRINTABLE.search(text)
    at = found.start() if found is not None else 0
    line = text.count("\n", 0, at) + 1
    what = f"character U+{ord(text[at]):04X} is not allowed in YAML" if found is not None else "not YAML text"
    return line, f"not text: {what} (line {line})"


def read_raw(file: Path) -> dict[str, Any] | None:
    """The mapping in `file` as YAML reads it, before any schema (to say what a refused profile
    names); None when the file cannot be read or holds no mapping."""
    try:
        data = file.read_bytes()
        if _out_of_bounds(data) is not None:
            return None
        document = load_yaml(data)
    except (OSError, UnicodeDecodeError, YAMLError):
        return None
    return document if isinstance(document, dict) else None


_FIRST_READ = 64 * 1024  # more than any profile holds, below the size malloc maps a fresh area for


def _read_bounded(file: Path) -> bytes:
    """The first MAX_PROFILE_BYTES + 1 bytes of `file` (all of a profile's, and enough to refuse a
    larger file). A first read of 64 KiB: one read of the whole bound allocated 256 KiB for every file,
    however small, which cost more than reading and parsing a profile (benchmarks/README.md)."""
    with file.open("rb") as handle:
        data = handle.read(_FIRST_READ)
        if len(data) == _FIRST_READ:  # read up to the bound only for a large file
            data += handle.read(MAX_PROFILE_BYTES + 1 - _FIRST_READ)
    return data


def _out_of_bounds(data: bytes) -> str | None:
    """Why `data` is refused before it is loaded (a profile has no use for any of these), or None:
    too large, anchors or aliases (a few hundred bytes of aliases expand into gigabytes), too deep."""
    if len(data) > MAX_PROFILE_BYTES:
        return f"profile file is larger than {MAX_PROFILE_BYTES // 1024} KiB"
    if b"&" not in data and b"*" not in data and _most_depth(data) <= MAX_DEPTH:
        return None  # no anchor, no alias, and too few nesting marks to nest too deep: no need to parse
    depth = 0
    for event in _fast_yaml.parse(data):
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            return "YAML anchors and aliases are not allowed in profile files"
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return f"profile file nests more than {MAX_DEPTH} levels deep"
        elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            depth -= 1
    return None


def _most_depth(data: bytes) -> int:
    """An upper bound of how deep `data` can nest: every level of a YAML document opens with a flow
    bracket, a block sequence dash, or a deeper indentation (plus the top level itself)."""
    indents = {len(line) - len(line.lstrip(b" ")) for line in data.splitlines() if line.strip()}
    dashes = data.count(b"- ") + data.count(b"-\n")
    return data.count(b"[") + data.count(b"{") + dashes + len(indents) + 1


def _line_finder(file: Path) -> Callable[[tuple[str | int, ...]], int | None]:
    """A function from a JSON path in `file` to its 1-based line, or None when it cannot tell."""
    loader = YAML(typ="rt")
    loader.Constructor = _LineConstructor
    try:
        document = loader.load(file.read_bytes())
    except Exception:  # the problems are reported without a line rather than not at all
        document = None

    def line(path: tuple[str | int, ...]) -> int | None:
        node, found = document, None
        for part in path:
            lc = getattr(node, "lc", None)
            try:
                if lc is not None:
                    found = lc.key(part)[0] + 1 if isinstance(part, str) else lc.item(part)[0] + 1
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        if found is None and getattr(document, "lc", None) is not None:
            found = document.lc.line + 1
        return found

    return line
