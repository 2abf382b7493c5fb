"""Profiles in plain YAML are read line by line (`proxx.compile.plainyaml`): on every document that
reading accepts, the result must be ruamel.yaml's own (safe loading with the profiles' constructor),
value for value and type for type; every other document must be left to ruamel.yaml."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxx.compile.parse import _fast_yaml, _plain_reader, load_yaml
from proxx.compile.plainyaml import NotPlain
from proxx.resources import bundled_profiles_dir

ROOT = Path(__file__).resolve().parent.parent


def reads(load, data: bytes) -> tuple[str, str] | None:
    try:
        return "ok", repr(load(data))  # repr: True is not 1, 1.0 is not 1, nan is nan, key order
    except NotPlain:
        return None
    except Exception as error:
        return "error", type(error).__name__


def plain_reads(data: bytes) -> tuple[str, str] | None:
    return reads(_plain_reader.read, data)


def assert_read_alike(data: bytes) -> bool:
    """True when the plain reading accepted `data` (and read it as ruamel.yaml does)."""
    ruamel = reads(_fast_yaml.load, data)
    plain = plain_reads(data)
    assert plain is None or plain == ruamel, data.decode("utf-8", "replace")
    assert reads(load_yaml, data) == ruamel
    return plain is not None


def repository_yaml_files() -> list[Path]:
    found = []
    for folder in ("profiles", "tests", "examples", "plugins", "docs"):
        found.extend(p for p in (ROOT / folder).rglob("*.y*ml") if ".venv" not in p.parts)
    return sorted(found)


def test_every_yaml_file_of_the_repository_reads_as_ruamel_yaml_reads_it():
    files = repository_yaml_files()
    assert len(files) > 40
    accepted = [f for f in files if assert_read_alike(f.read_bytes())]
    # Every bundled profile is plain: the fast reading is the one profiles take.
    assert set(bundled_profiles_dir().rglob("*.yaml")) <= set(accepted)


def test_the_benchmark_repositorys_profiles_are_read_plainly(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from validate_1000 import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    generate(tmp_path, 40)
    for file in sorted(tmp_path.rglob("*.yaml")):
        assert assert_read_alike(file.read_bytes()), file


SCALARS = [
    "yes", "no", "on", "off", "y", "n", "true", "True", "TRUE", "tRue", "FALSE", "null", "Null", "NULL", "nUll",
    "~", "", "0", "-0", "+0", "+1", "-1", "0o17", "0O17", "017", "09", "0x1F", "0X1F", "0b101", "1_000", "1__0",
    "_1", "1.5", "1e3", "1E3", "1.0e+3", "1.0e-3", "+1.5", ".5", "5.", "0.", "-.inf", ".Inf", ".INF", ".inf.",
    ".NAN", ".nan", "-.nan", ".NaN", "2026-02-30", "2026-1-1", "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5", "12:30:45", "1:20", "190:20:30", "a", "-", "--", "---", "...", "-a", "-1a",
    "=", "<<", "<", "'q'", '"d"', "é", "Ω", "日本", "a b", "a  b", "a #b", "a#b", "a: b", "a:b", "a:", "http://x",
    "a,b", "a[b]", "a{b}", "(a)", "a'b", 'a"b', "a\\b", "%a", "@a", "`a", "!a", "&a", "*a", "|", ">", "?a",
    "? a", ":a", ",a", "[a", "]a", "{a", "}a", "#a", "a\tb", "a\rb", "a\x85b", "a\u2028b", "a\u00a0b", "\ufeffa",
    "1234567890123456789", "12345678901234567890123", "-12345678901234567890123", "0x" + "f" * 30,
    "1" * 17 + ".5", "Intent 0001", "1920x1080", "scale_50", "prores_lt", "h264", "H.264",
]  # fmt: skip

PLACEMENTS = [
    "k: {s}\n", "k: {s} # c\n", "k: {s}   \n", "k:   {s}\n", "k: [{s}]\n", "k: [a, {s}]\n", "k: [ {s} ,b ]\n",
    "k:\n- {s}\n", "k:\n  - {s}\n  - x\nj: 1\n", "{s}: v\n", "{s}:\n  a: 1\n", "k: \"{s}\"\n", "k: '{s}'\n",
    "k: [\"{s}\"]\n", "a:\n  b: {s}\n  c: [{s}]\nd: {s}\n", "---\nk: {s}\n", "k: {s}\n  more\n",
    "k: {s}\n# c\n", "# {s}\nk: 1\n",
]  # fmt: skip


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_a_scalar_reads_as_ruamel_yaml_reads_it_wherever_it_is_placed(placement):
    accepted = 0
    for scalar in SCALARS:
        accepted += assert_read_alike(placement.replace("{s}", scalar).encode())
    assert accepted > 0 or placement.endswith("more\n")


DOCUMENTS = [
    "a: 1\nb: [1, 2]\nc: {}\n", "a: 1\na: 2\n", "a: 1\nA: 2\ntrue: 3\nTrue: 4\n", "a:\nb:\n", "a:\n", "a: [ ]\n",
    "a: [a, ]\n", "a: [a,,b]\n", "a: [a, [b]]\n", "a: {b: 1}\n", "a: { }\n", "a: {} # c\n", "a: []# c\n",
    "a: 'x'y\n", "a: \"x\" y\n", "a: 'it''s'\n", "a: \"q\\\"\"\n", "a: \"é # not a comment\"\n",
    "a:\n  b: 1\n c: 2\n", "a:\n  b: 1\n   c: 2\n", "a:\n    b: 1\n  c: 2\n", "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
    "a:\n- 1\n- 2\nb: 3\n", "a:\n  - 1\n  -2\n", "a:\n - 1\n - - 2\n", "a:\n- b: 1\n", "a:\n-\n", "a:\n- # c\n",
    "a:\n  # comment\n  b: 1\n", "a: 1\n  # indented comment\nb: 2\n", "a: 1\n\n\nb: 2", "a: 1\r\nb: 2\r\n",
    "a:\tb\n", "\ta: 1\n", " a: 1\n b: 2\n", "--- a: 1\n", "a: 1\n---\nb: 2\n", "a: 1\n...\n", "%YAML 1.2\n---\na: 1\n",
    "\ufeffa: 1\n", "a: |\n  x\n", "a: >\n  x\n", "a: !!str 1\n", "a: &x 1\nb: *x\n", "? a\n: 1\n", "a : 1\n",
    "a:1\n", "- a\n- b\n", "a\n", "", "# only a comment\n", "[a]\n", "{a: 1}\n", "a: b\n  c\n", "a:\n  b\n",
    "a: b\n- c\n", "a:\n  - b\n  c: d\n", "a:\n  b: 1\n  b: 2\n", "null: 1\n~: 2\n", "a: - b\n", "a: ? b\n",
    "a: :b\n", "a: b:\n", "a: b: c\n", "a: x # c: d\n", "k1_: v\n_k: v\n", "a: [b:c]\n", "a: [b #c]\n",
    "a: [b?]\n", "a: [b ? c, d]\n",
]  # fmt: skip


@pytest.mark.parametrize("text", DOCUMENTS)
def test_a_document_reads_as_ruamel_yaml_reads_it_or_is_left_to_it(text):
    assert_read_alike(text.encode())


def test_text_that_is_not_utf8_is_left_to_ruamel_yaml():
    for data in ("a: é\n".encode("utf-16"), "a: é\n".encode("latin-1"), b"a: \xff\n"):
        assert plain_reads(data) is None
        assert_read_alike(data)


# Generated documents: lines of keys, scalars, flow sequences, comments and indentation close to
# what profiles hold, with characters that change how YAML reads a line mixed in.
TRICKY = st.sampled_from([
    " ", "  ", ":", ": ", "#", " #", ",", "[", "]", "{", "}", "'", '"', "\\", "?", "!", "&", "*", "|", ">", "%",
    "@", "`", "é", "\t", "\r", "\x85", "\u00a0", "\ufeff", "-", "- ", "=", "<<", "~", ".", "---", "...",
])  # fmt: skip
PLAIN = st.sampled_from([
    "a", "b c", "name", "x1", "y", "no", "on", "Null", "true", "0", "07", "1_0", "1.5e3", ".inf", "-1", "0x1f",
    "2026-01-01", "12:30", "1920x1080", "Intent 7", "é", "",
])  # fmt: skip
WORDS = st.lists(st.one_of(PLAIN, PLAIN, PLAIN, TRICKY), min_size=1, max_size=4).map("".join)
INDENT = st.sampled_from([0, 0, 0, 0, 2, 2, 4, 1, 3]).map(" ".__mul__)
KEY = st.one_of(st.sampled_from(["k", "name", "null", "True", "y", "_a1"]), WORDS)
LINE = st.one_of(
    st.builds("{}{}: {}".format, INDENT, KEY, WORDS),
    st.builds("{}{}:".format, INDENT, KEY),
    st.builds("{}{}: [{}]".format, INDENT, KEY, st.lists(WORDS, max_size=3).map(", ".join)),
    st.builds("{}- {}".format, INDENT, WORDS),
    st.builds("{}q: {}{}{}".format, INDENT, st.sampled_from("'\""), WORDS, st.sampled_from(["'", '"', "' # c", '"x'])),
    st.builds("{}{}".format, INDENT, WORDS),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=6))
def test_generated_documents_read_as_ruamel_yaml_reads_them_or_are_left_to_it(lines):
    assert_read_alike("\n".join(lines).encode())


KEYS = st.sampled_from(["name", "codecs", "a", "b", "null", "true", "y", "on", "x_1", "_k"])
SCALAR = st.one_of(st.sampled_from(SCALARS[:60]), st.text(st.sampled_from("ab 1.:#-_'\"[é"), max_size=6))
VALUE = st.recursive(
    SCALAR.map(lambda s: ("scalar", s)),
    lambda inner: st.one_of(
        st.lists(SCALAR, max_size=3).map(lambda items: ("flow", items)),
        st.lists(SCALAR, min_size=1, max_size=3).map(lambda items: ("block", items)),
        st.dictionaries(KEYS, inner, min_size=1, max_size=3).map(lambda mapping: ("map", mapping)),
    ),
    max_leaves=8,
)


def write_block(mapping: dict[str, tuple[str, object]], indent: int, step: int, compact: bool, comments: bool) -> str:
    text = ""
    pad = " " * indent
    for key, (kind, value) in mapping.items():
        if comments:
            text += f"{pad}# about {key}\n"
        if kind == "scalar":
            text += f"{pad}{key}: {value}{' # note' if comments else ''}\n"
        elif kind == "flow":
            text += f"{pad}{key}: [{', '.join(value)}]\n"  # type: ignore[arg-type]
        elif kind == "block":
            dash = pad if compact else " " * (indent + step)
            text += f"{pad}{key}:\n" + "".join(f"{dash}- {item}\n" for item in value)  # type: ignore[attr-defined]
        else:
            text += f"{pad}{key}:\n" + write_block(value, indent + step, step, compact, comments)  # type: ignore[arg-type]
    return text


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(KEYS, VALUE, min_size=1, max_size=4),
    st.sampled_from([1, 2, 4]),
    st.booleans(),
    st.booleans(),
)
def test_generated_profiles_read_as_ruamel_yaml_reads_them_or_are_left_to_it(mapping, step, compact, comments):
    assert_read_alike(write_block(mapping, 0, step, compact, comments).encode())
