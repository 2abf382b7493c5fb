"""Schema-first validation: the JSON Schema files under `schemas/` are the rules, this module only
applies them and turns their verdicts into sentences.

A studio's CI may run any JSON Schema 2020-12 validator on the same files and gets the same verdict.

Speed: a document is first checked against the same schema by `jsonschema-rs`, a validator written
in Rust (over a hundred times faster than `jsonschema` on a profile: `proxx validate` of a 10,000-profile
repository spends most of its time here otherwise); only a document it refuses is walked by
`jsonschema`, which finds every violation and words it, and decides: a document the fast check
refuses but `jsonschema` finds nothing wrong with conforms. Tests check both verdicts agree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from proxx import vocabulary
from proxx.resources import schemas_dir

if TYPE_CHECKING:  # imported when a document is refused: jsonschema costs a command ~0.15 s of CPU to import
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

CANONICAL_PROFILE = "canonical-profile-1.0.schema.json"
USER_PROFILE = "user-profile.schema.json"
JOBSPEC = "jobspec-1.0.schema.json"
JOB_RESULT = "job-result-1.0.schema.json"

# What a list item is called in messages ("invalid codec 'av1'").
_ITEM_NOUNS = {
    "preferred_codecs": "codec",
    "codecs": "codec",
    "engine_preference": "engine",
    "containers": "container",
    "audio": "audio policy",
}


@attrs.frozen
class SchemaViolation:
    """One rule a document breaks: where (a JSON path into the document) and why, in words."""

    path: tuple[str | int, ...]
    message: str


@functools.cache
def _registry() -> Registry[Any]:
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    resources = []
    for path in sorted(schemas_dir().glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        # Without its `$schema`, a schema another refers to is walked by proxx's validator (its
        # `pattern` included), not by the one `jsonschema` keeps for the dialect `$schema` names.
        del contents["$schema"]
        resources.append((contents["$id"], DRAFT202012.create_resource(contents)))
    return Registry().with_resources(resources)


@functools.cache
def validator(schema_file: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    schema = json.loads((schemas_dir() / schema_file).read_text(encoding="utf-8"))
    standard = extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]
    return standard(schema, registry=_registry())  # type: ignore[no-any-return]


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """The `pattern` keyword read as JSON Schema says, in ECMA-262 regular expressions (as
    jsonschema-rs and a studio's validator read it). `jsonschema` reads patterns with Python's `re`,
    which is looser: its `$` also matches before a final line break (a JobSpec's job id `job-...\\n`
    passed `^job-...$`), and its `\\d` and `\\w` match digits and letters of any script."""
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not _matches(pattern)(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _matches(pattern: str) -> Callable[[str], bool]:
    import jsonschema_rs

    is_valid = jsonschema_rs.validator_for({"pattern": pattern}).is_valid

    def matches(text: str) -> bool:
        try:
            return bool(is_valid(text))
        except ValueError:  # half a character (JSON's "\ud800"), which no text holds: it matches nothing
            return False

    return matches


def schema_id(schema_file: str) -> str:
    schema = validator(schema_file).schema
    return str(schema["$id"]) if isinstance(schema, dict) else ""


@functools.cache
def conforms_fast(schema_file: str) -> Callable[[Any], bool]:
    """Whether a document conforms to `schema_file`, by jsonschema-rs (a profile in about a tenth of
    the time of the schema compiled to Python by fastjsonschema: benchmarks/README.md). A document
    JSON cannot hold (a key that is not a string, bytes) does not conform here: `violations` then
    walks it with `jsonschema`, which decides."""
    import jsonschema_rs

    documents = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(schemas_dir().glob("*.schema.json"))]
    schema = json.loads((schemas_dir() / schema_file).read_text(encoding="utf-8"))
    registry = jsonschema_rs.Registry([(contents["$id"], contents) for contents in documents])
    validator = jsonschema_rs.validator_for(schema, registry=registry)

    def conforms(document: Any) -> bool:
        try:
            return bool(validator.is_valid(document))
        except ValueError:  # not a JSON value
            return False

    return conforms


def violations(document: Any, schema_file: str) -> list[SchemaViolation]:
    """Every rule `document` breaks, in document order, each as one sentence."""
    if conforms_fast(schema_file)(document):
        return []
    found = [
        SchemaViolation(_where(error), _describe(error))
        for error in _leaf_errors(validator(schema_file).iter_errors(document))
        if not _declared_name(error)
    ]
    return sorted(set(found), key=lambda v: ([str(p) for p in v.path], v.message))


def _declared_name(error: ValidationError) -> bool:
    """A name the schema's list does not have, but a plugin declared (`proxx.vocabulary`): the schema
    files list the bundled vocabulary only, which is what a validator without proxx's plugins knows."""
    if error.validator != "enum":
        return False
    field = next((p for p in reversed(error.absolute_path) if isinstance(p, str)), "")
    return vocabulary.accepts(field, error.instance)


def _leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        if error.context:
            yield from _leaf_errors(iter(error.context))
        else:
            yield error


def _where(error: ValidationError) -> tuple[str | int, ...]:
    """The path of the offending value; for unknown fields, the first unknown field itself."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(key for key in error.instance if key not in known)
        if extra:
            return (*path, extra[0])
    return path


def format_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# How much of a value from the document a message quotes: a document may be untrusted (an inbox
# JobSpec), and a field's value or an unknown field's name can be any length.
QUOTED_CHARACTERS = 60


def _quoted(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= QUOTED_CHARACTERS else text[: QUOTED_CHARACTERS - 1] + "…"


def _describe(error: ValidationError) -> str:
    where = format_path(list(error.absolute_path))
    prefix = f"{where}: " if where else ""
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    rule: Any = error.validator_value
    if kind == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(value) - set(known)) if isinstance(value, dict) else []
        scope = f" in {where}" if where else ""
        names = ", ".join(_quoted(name) for name in extra)
        plural = "s" if len(extra) > 1 else ""
        return f"unknown field{plural} {names}{scope}; valid fields: {', '.join(known)}"
    if kind == "required":
        missing = [name for name in rule if isinstance(value, dict) and name not in value]
        return f"{prefix}missing required field {', '.join(repr(n) for n in missing)}"
    if kind in ("enum", "const"):
        allowed: list[Any] = rule if kind == "enum" else [rule]
        if where == "user_profile_version" or where == "canonical_profile_version":
            return f"unsupported {where} {_quoted(value)}; supported: {', '.join(map(str, allowed))}"
        field = next((p for p in reversed(error.absolute_path) if isinstance(p, str)), "")
        noun = _ITEM_NOUNS.get(field, "value")
        return f"{prefix}invalid {noun} {_quoted(value)}; valid: {', '.join(map(str, allowed))}"
    if kind == "type":
        return f"{prefix}expected {rule}, got {type(value).__name__} {_quoted(value)}"
    if kind == "minItems":
        return f"{prefix}must list at least {rule} item(s)"
    if kind == "uniqueItems":
        return f"{prefix}lists the same item twice"
    if kind == "minLength" or (kind == "pattern" and where == "name"):
        return f"{prefix}must not be empty"
    if kind == "pattern":
        description = schema.get("description")
        hint = f" ({description})" if description else f" (expected pattern {rule})"
        return f"{prefix}{_quoted(value)} is not valid{hint}"
    if kind == "not" and where == "" and isinstance(value, dict) and "graduated_to" in value:
        return "graduated_to is only allowed with lifecycle: graduated"
    return f"{prefix}{error.message[:200]}"  # jsonschema's own words quote the whole value
