"""Schema-first: the example folders drive the tests; each invalid example is named for the rule it
breaks and states the message it must produce on its first line (`# expect: ...`)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from ruamel.yaml import YAML

from proxx import schemas
from proxx.compile.repository import load_repository
from proxx.resources import bundled_profiles_dir, schemas_dir

EXAMPLES = Path(__file__).parent / "examples"
VALID = sorted(EXAMPLES.glob("*/valid/*.yaml"))
INVALID = sorted(EXAMPLES.glob("*/invalid/*.yaml"))
BUNDLED = sorted(bundled_profiles_dir().rglob("*.yaml"))


def expected_message(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must state its expected message"
    return first.removeprefix("# expect: ")


def test_every_schema_has_an_id_a_version_and_is_2020_12():
    files = sorted(schemas_dir().glob("*.schema.json"))
    assert len(files) >= 4
    for path in files:
        schema = json.loads(path.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith(path.name)
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", VALID + BUNDLED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_valid_examples_load_without_problems(path):
    repository = load_repository([path])
    assert repository.problems == ()
    assert len(repository.registry) + len(repository.user_profiles) == 1


@pytest.mark.parametrize("path", INVALID, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_invalid_examples_fail_with_their_message_and_line(path):
    repository = load_repository([path])
    assert len(repository.registry) + len(repository.user_profiles) == 0
    messages = [p.message for p in repository.problems]
    assert any(expected_message(path) in m for m in messages), messages
    assert all(p.location.path == str(path) and p.location.line for p in repository.problems)


def _plain_validator(schema_file: str) -> jsonschema.Draft202012Validator:
    """What a studio's CI does: any 2020-12 validator over the files in schemas/."""
    docs = [json.loads(p.read_text()) for p in schemas_dir().glob("*.schema.json")]
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in docs)
    return jsonschema.Draft202012Validator(json.loads((schemas_dir() / schema_file).read_text()), registry=registry)


@pytest.mark.parametrize("path", VALID + INVALID + BUNDLED, ids=lambda p: p.name)
def test_a_plain_json_schema_validator_gives_the_same_verdict(path):
    document = YAML(typ="safe").load(path.read_text())
    schema_file = schemas.CANONICAL_PROFILE if "canonical_profile_version" in document else schemas.USER_PROFILE
    plain_ok = _plain_validator(schema_file).is_valid(document)
    assert plain_ok == (load_repository([path]).problems == ())


def test_unknown_field_lists_the_valid_ones():
    found = schemas.violations(
        {"user_profile_version": "1.0", "name": "x", "constraints": {"max_bitrate": 1}}, schemas.USER_PROFILE
    )
    assert [v.message for v in found] == [
        "unknown field 'max_bitrate' in constraints; valid fields: allow_long_gop, engine_preference, "
        "intra_frame_only, max_resolution, preferred_codecs"
    ]


def test_every_problem_is_reported_not_just_the_first():
    found = schemas.violations(
        {
            "user_profile_version": "1.0",
            "name": "",
            # codecs no plugin declares (the vocabulary is the process's: a test plugin may declare vp9)
            "constraints": {"preferred_codecs": ["av1_nobody_declares", "vp9_nobody_declares"], "x": 1},
        },
        schemas.USER_PROFILE,
    )
    assert len(found) == 4


def test_yaml_syntax_errors_carry_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('user_profile_version: "1.0"\nname: x\nconstraints:\n  a: [unclosed\n')
    (problem,) = load_repository([bad]).problems
    assert problem.reason == "yaml_syntax" and problem.location.path == str(bad)
    assert problem.location.line is not None and problem.location.line >= 4


def test_a_file_that_is_no_profile_is_reported(tmp_path):
    (tmp_path / "x.yaml").write_text("just: a mapping\n")
    (tmp_path / "y.yml").write_text("- a list\n")
    reasons = sorted(p.reason for p in load_repository([tmp_path]).problems)
    assert reasons == ["not_a_profile", "not_a_profile"]


DRAFT_07_KEYWORDS = {
    "$id", "$ref", "$schema", "additionalProperties", "allOf", "anyOf", "const", "description", "else", "enum",
    "if", "items", "minItems", "minLength", "minimum", "not", "pattern", "properties", "propertyNames", "required",
    "then", "title",
    "type", "uniqueItems",
}  # fmt: skip


def _keywords(node, inside_properties=False):
    if isinstance(node, dict):
        for key, value in node.items():
            if not inside_properties:
                yield key
            yield from _keywords(value, key == "properties" and not inside_properties)
    elif isinstance(node, list):
        for value in node:
            yield from _keywords(value)


def test_the_schemas_use_only_keywords_the_compiled_fast_path_reads_alike():
    for path in schemas_dir().glob("*.schema.json"):
        assert set(_keywords(json.loads(path.read_text()))) <= DRAFT_07_KEYWORDS, path.name


def _fast_verdict(document, schema_file):
    return schemas.conforms_fast(schema_file)(document)


@pytest.mark.parametrize("path", VALID + INVALID + BUNDLED, ids=lambda p: p.name)
def test_the_compiled_fast_path_gives_the_plain_validators_verdict(path):
    document = YAML(typ="safe").load(path.read_text())
    schema_file = schemas.CANONICAL_PROFILE if "canonical_profile_version" in document else schemas.USER_PROFILE
    assert _fast_verdict(document, schema_file) == _plain_validator(schema_file).is_valid(document)


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=False, width=16), st.sampled_from(
        ["", "1.0", "1.1", "h264", "prores_lt", "ffmpeg", "resolve", "source", "scale_50", "fit_1920x1080",
         "1920x1080", "HD", "graduated", "deprecated", "active", "mov", "aac", "copy", "proxy_h264_low"]
    ),
)  # fmt: skip
FIELDS = st.sampled_from(
    ["user_profile_version", "canonical_profile_version", "name", "id", "engine", "codec", "container", "resolution",
     "audio", "description", "lifecycle", "graduated_to", "notes", "naming", "constraints", "codecs",
     "max_frame_size", "engine_preference", "preferred_codecs", "max_resolution", "intra_frame_only", "unknown"]
)  # fmt: skip
DOCUMENTS = st.recursive(
    st.dictionaries(FIELDS, VALUES, max_size=8),
    lambda inner: st.dictionaries(FIELDS, st.one_of(VALUES, inner, st.lists(VALUES, max_size=3)), max_size=8),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(document=DOCUMENTS, schema_file=st.sampled_from([schemas.USER_PROFILE, schemas.CANONICAL_PROFILE]))
def test_the_fast_path_agrees_with_the_plain_validator_on_any_document(document, schema_file):
    assert _fast_verdict(document, schema_file) == _plain_validator(schema_file).is_valid(document)


@settings(max_examples=300, deadline=None)
@given(
    document=st.fixed_dictionaries({"user_profile_version": st.sampled_from(["1.0", "1.1", "1.2", "2.0", 1.1])}, optional={
        "name": st.one_of(st.just("HD"), VALUES), "description": st.one_of(st.just("d"), VALUES), "lifecycle": VALUES,
        "graduated_to": VALUES, "replaced_by": st.lists(VALUES, max_size=2), "constraints": st.one_of(
            st.just({}), st.dictionaries(FIELDS, st.one_of(VALUES, st.lists(VALUES, max_size=3)), max_size=4)
        ),
    })
)  # fmt: skip
def test_the_fast_path_agrees_with_the_plain_validator_on_any_profile_of_a_version(document):
    assert _fast_verdict(document, schemas.USER_PROFILE) == _plain_validator(schemas.USER_PROFILE).is_valid(document)


def _string_leaves(node, path=()):
    if isinstance(node, str):
        yield path
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _string_leaves(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _string_leaves(value, (*path, n))


def _with(document, path, value):
    changed = json.loads(json.dumps(document))
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


# What Python's `re` matches and a JSON Schema pattern (ECMA-262) does not: a `$` before a final
# line break, a `\d` of another script's digits (Arabic-Indic, full-width), a `\w` of a letter.
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "".join(chr(0x0660 + n) for n in range(10)))
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))
LOOSER_IN_PYTHON = [
    lambda text: text + "\n",
    lambda text: text.translate(ARABIC_INDIC_DIGITS),
    lambda text: text.translate(FULL_WIDTH_DIGITS),
    lambda text: text.replace("_", "é"),
]


def test_a_value_only_pythons_regular_expressions_match_is_refused_as_json_schema_reads_its_pattern(proxx_home):
    """Every string of a JobSpec, a user profile and a canonical profile, changed as above: proxx's
    verdict is jsonschema-rs's, including where `jsonschema`'s own reading (Python's `re`) accepts
    the document. A job id `job-...\\n` had passed an inbox that way."""
    from proxx import Proxx
    from proxx.jobspec.model import create_jobspec, utc_now

    proxx = Proxx.open()
    spec = create_jobspec(proxx.select("HD Editorial LT"), [Path("/media/A001_C001.mov")], Path("/out"), utc_now(), {})
    documents = [(json.loads(spec.to_json()), schemas.JOBSPEC)]
    for path in BUNDLED:
        document = YAML(typ="safe").load(path.read_text())
        canonical = "canonical_profile_version" in document
        documents.append((document, schemas.CANONICAL_PROFILE if canonical else schemas.USER_PROFILE))
    looser = set()
    for document, schema_file in documents:
        for path in _string_leaves(document):
            for change in LOOSER_IN_PYTHON:
                changed = _with(document, path, change(_value_at(document, path)))
                standard = _fast_verdict(changed, schema_file)  # jsonschema-rs: ECMA-262 patterns
                assert (schemas.violations(changed, schema_file) == []) == standard, (schema_file, path)
                if not standard and _plain_validator(schema_file).is_valid(changed):
                    looser.add(str(path[-1]))
    # The job id, its times, the canonical id, the engine, the naming rule and the profile file's
    # digest were each let through that way before.
    assert {"job_id", "created_at", "selected_at", "id", "engine", "suffix", "folder", "digest"} <= looser, looser


def _value_at(document, path):
    for key in path:
        document = document[key]
    return document
