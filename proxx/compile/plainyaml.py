"""The plain YAML profile files are written in, read line by line without a YAML parser.

Accepted: block mappings of identifier keys (`name:`), each value on its key's line (a plain,
single- or double-quoted scalar on one line, a flow sequence of such scalars, `{}`) or a nested
block mapping or a block sequence of scalars below it; full-line and trailing comments, blank
lines, a `---` first line. Anything else (tabs, carriage returns, control characters, escapes,
multi-line scalars, tags, anchors, flow mappings, document markers, duplicate keys, a value the
constructor refuses...) raises `NotPlain`, and the caller loads the file with ruamel.yaml, which then
reads or refuses it as it always did. On what it accepts, the result is the one ruamel.yaml's safe
loading with `proxx.compile.parse`'s constructor gives, value for value and type for type: each
plain scalar's tag is found by ruamel.yaml's own table of YAML 1.2 implicit tags and its value built
by the constructor ruamel.yaml would call (tests/test_plain_yaml.py compares the two on every
profile file of the repository and on generated documents, accepted or not).

Why: libyaml's parse and ruamel.yaml's node and constructor objects took 60-70 µs a profile, most of
`proxx validate` of 10,000 profiles; this reading takes about a seventh of that
(benchmarks/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver


class NotPlain(Exception):
    """The text is outside the plain subset: load it with ruamel.yaml."""


_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +|$)")
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"(?: +#.*)? *')
_SINGLE_QUOTED = re.compile(r"'([^']*)'(?: +#.*)? *")
_FLOW_SEQUENCE = re.compile(r"\[(.*?)\](?: +#.*)? *")
# One item of a flow sequence and the comma after it: quoted as above, or plain without quotes,
# colons, question marks, brackets, braces or comments (inside brackets YAML ends a plain scalar
# at any of `,:?[]{}`: `[a?]` is a key indicator after `a`, which ruamel.yaml refuses).
_FLOW_ITEM = re.compile(r""" *(?:"([^"\\]*)"|'([^']*)'|([^,\[\]{}#:?"']*?)) *(,|$)""")
_EMPTY_FLOW_MAPPING = re.compile(r"\{ *\}(?: +#.*)? *")
_ASCII_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
# Characters that make a plain scalar start as something else (an indicator) in YAML.
_NOT_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")

_STR = "tag:yaml.org,2002:str"


class PlainReader:
    """Reads the plain subset, building each non-string scalar with `constructor` (a ruamel.yaml
    SafeConstructor: the one the profiles' ruamel.yaml loading uses)."""

    def __init__(self, constructor: SafeConstructor) -> None:
        self._constructor = constructor

    def read(self, data: bytes) -> Any:
        """The document in `data` as ruamel.yaml's safe loading reads it, or NotPlain."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NotPlain from None
        if _ASCII_CONTROL.search(text) or not (text.isascii() or all(c.isprintable() or c == "\n" for c in text)):
            raise NotPlain  # tabs, carriage returns, NEL, BOM, non-breaking spaces...: ruamel.yaml decides
        lines = []
        for line in text.split("\n"):
            rest = line.lstrip(" ")
            if rest and rest[0] != "#":
                lines.append((len(line) - len(rest), rest))
        if lines and lines[0] == (0, "---"):
            del lines[0]
        if not lines or lines[0][0] != 0:
            raise NotPlain
        document, end = self._mapping(lines, 0, 0)
        if end != len(lines):
            raise NotPlain
        return document

    def _mapping(self, lines: list[tuple[int, str]], start: int, indent: int) -> tuple[dict[Any, Any], int]:
        """The block mapping whose keys are at `indent` from line `start`, and the line after it."""
        mapping: dict[Any, Any] = {}
        at = start
        while at < len(lines):
            line_indent, rest = lines[at]
            if line_indent < indent:
                break
            key_match = _KEY.match(rest)
            if line_indent > indent or key_match is None:
                raise NotPlain  # a scalar continued on the next line, an odd indentation, not a key
            key = self._plain_scalar(key_match[1])
            if key in mapping:
                raise NotPlain  # ruamel.yaml says where
            value_text = rest[key_match.end() :]
            at += 1
            if value_text and value_text[0] != "#":
                mapping[key] = self._inline_value(value_text)
                continue
            below = lines[at] if at < len(lines) else (-1, "")
            if below[1].startswith("- ") and below[0] >= indent:
                mapping[key], at = self._sequence(lines, at, below[0])
            elif below[0] > indent:
                mapping[key], at = self._mapping(lines, at, below[0])
            else:
                mapping[key] = self._plain_scalar("")  # `key:` alone: null
        return mapping, at

    def _sequence(self, lines: list[tuple[int, str]], start: int, indent: int) -> tuple[list[Any], int]:
        """The block sequence of scalars whose dashes are at `indent` from line `start`."""
        items = []
        at = start
        while at < len(lines):
            line_indent, rest = lines[at]
            if line_indent < indent or (line_indent == indent and not rest.startswith("- ")):
                break
            if line_indent > indent:
                raise NotPlain
            item = rest[2:].lstrip(" ")
            if not item or item[0] == "#":
                raise NotPlain
            items.append(self._inline_value(item))
            at += 1
        return items, at

    def _inline_value(self, text: str) -> Any:
        """A value written on its key's (or dash's) line, comment included."""
        first = text[0]
        if first == '"' or first == "'":
            quoted = (_DOUBLE_QUOTED if first == '"' else _SINGLE_QUOTED).fullmatch(text)
            if quoted is None:
                raise NotPlain
            return quoted[1]
        if first == "[":
            flow = _FLOW_SEQUENCE.fullmatch(text)
            if flow is None:
                raise NotPlain
            return self._flow_items(flow[1])
        if first == "{":
            if _EMPTY_FLOW_MAPPING.fullmatch(text) is None:
                raise NotPlain
            return {}
        if first in _NOT_PLAIN_START and not (first == "-" and text[1:2] not in ("", " ")):
            raise NotPlain
        comment = text.find(" #")
        if comment >= 0:
            text = text[:comment]
        text = text.rstrip(" ")
        if ": " in text or text.endswith(":"):
            raise NotPlain
        return self._plain_scalar(text)

    def _flow_items(self, inner: str) -> list[Any]:
        """The items of `[inner]`."""
        items: list[Any] = []
        if not inner.strip(" "):
            return items
        at = 0
        while True:
            item = _FLOW_ITEM.match(inner, at)
            if item is None:
                raise NotPlain
            double, single, plain, comma = item.groups()
            if double is not None or single is not None:
                items.append(double if double is not None else single)
            elif not plain or (plain[0] in _NOT_PLAIN_START and not (plain[0] == "-" and plain[1:2] not in ("", " "))):
                raise NotPlain  # an empty item (`[a, ]`), or one that starts as an indicator
            else:
                items.append(self._plain_scalar(plain))
            if not comma:
                return items
            at = item.end()

    def _plain_scalar(self, text: str) -> Any:
        """A plain scalar's value: its tag by YAML 1.2's implicit tags, its value by the constructor
        ruamel.yaml calls for that tag."""
        tag = implicit_tag(text)
        if tag == _STR:
            return text  # what the constructor of strings returns
        constructor = self._constructor
        try:
            return constructor.yaml_constructors[tag](constructor, ScalarNode(tag, text, None, None))
        except Exception:  # a value refused (an integer too long): ruamel.yaml says where
            raise NotPlain from None


_Matchers = list[tuple[str, Callable[[str], Any]]]


def _implicit_tag_table() -> tuple[dict[str, _Matchers], _Matchers]:
    """ruamel.yaml's table of YAML 1.2's implicit tags, for the version its C loader always reads
    (it reports no `%YAML` directive to the resolver): each first character's entries followed by
    those for any first character, in ruamel.yaml's order; and those for any first character."""
    table = VersionedResolver.versioned_resolver.fget(VersionedResolver(version=None))  # type: ignore[attr-defined]
    anywhere = table.get(None, [])
    by_first = {
        first: [(tag, pattern.match) for tag, pattern in [*entries, *anywhere]]
        for first, entries in table.items()
        if first is not None
    }
    return by_first, [(tag, pattern.match) for tag, pattern in anywhere]


# Made once, when the module is imported (ruamel.yaml made it again for every document, and extends
# its lists in place as it reads).
_IMPLICIT_TAGS, _ANY_FIRST = _implicit_tag_table()


def implicit_tag(value: str) -> str:
    """The tag ruamel.yaml resolves the plain scalar `value` to."""
    for tag, matches in _IMPLICIT_TAGS.get(value[:1], _ANY_FIRST):
        if matches(value):
            return tag
    return _STR
