"""Layered repositories, selection, lifecycle as operators see it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from proxx import Lifecycle, Proxx
from proxx.compile.repository import load_repository
from proxx.compile.select import intent_statuses, select
from proxx.errors import PreJobError
from proxx.pluginmanager import build_plugin_manager
from proxx.resources import bundled_profiles_dir
from proxx.visibility import OperatorWords

ALL_ENGINES = {"ffmpeg", "resolve"}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def bundled():
    return load_repository([bundled_profiles_dir()])


def test_bundled_intents_compile_to_what_they_promise(bundled):
    assert bundled.problems == ()
    expected = {
        "HD Editorial LT": "proxy_prores_lt_hd",
        "Archive ProRes": "proxy_prores_hq",
        "Review H.264": "proxy_h264_low",
    }
    for name, canonical_id in expected.items():
        compiled = select(bundled, name, ALL_ENGINES)
        assert compiled.canonical.id == canonical_id
        assert compiled.canonical.engine == "ffmpeg"


def test_unknown_profile_does_not_exist(bundled):
    with pytest.raises(PreJobError) as caught:
        select(bundled, "CustomProfile_XYZ", ALL_ENGINES)
    assert caught.value.message == "Intent 'CustomProfile_XYZ' does not exist."


def test_deprecated_profile_cannot_be_chosen_but_still_compiles(bundled):
    with pytest.raises(PreJobError) as caught:
        select(bundled, "Legacy_ProRes_422", ALL_ENGINES)
    assert caught.value.message == "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs."
    statuses = {s.name: s for s in intent_statuses(bundled, ALL_ENGINES)}
    assert statuses["Legacy_ProRes_422"].lifecycle is Lifecycle.DEPRECATED
    assert not statuses["Legacy_ProRes_422"].selectable


def test_an_intent_that_no_longer_compiles_is_invalid_and_says_why_without_canonical_ids(tmp_path):
    write(
        tmp_path / "user/a.yaml",
        'user_profile_version: "1.0"\nname: HD_Editorial_LT\nconstraints:\n  preferred_codecs: [prores]\n',
    )
    repository = load_repository([bundled_profiles_dir(), tmp_path])
    with pytest.raises(PreJobError) as caught:
        select(repository, "HD_Editorial_LT", ALL_ENGINES)
    message = caught.value.message
    assert message.startswith("Intent 'HD_Editorial_LT' no longer compiles: ")
    assert "proxy_" not in message and "prores" not in message.lower()
    assert "proxy_prores_lt" in caught.value.context["admin_message"]
    status = {s.name: s for s in intent_statuses(repository, ALL_ENGINES)}["HD_Editorial_LT"]
    assert status.lifecycle is Lifecycle.INVALID and status.problem == message


def test_a_malformed_intent_is_listed_invalid_not_silently_dropped(tmp_path):
    write(
        tmp_path / "user/bad.yaml",
        'user_profile_version: "1.0"\nname: Broken\nconstraints:\n  max_bitrate: 5\n',
    )
    repository = load_repository([tmp_path])
    status = {s.name: s for s in intent_statuses(repository, ALL_ENGINES)}["Broken"]
    assert status.lifecycle is Lifecycle.INVALID
    with pytest.raises(PreJobError, match="no longer compiles: its definition is malformed"):
        select(repository, "Broken", ALL_ENGINES)


def test_a_malformed_intent_tells_operators_no_field_or_codec_and_administrators_what_is_wrong(tmp_path):
    """The schema's words ("invalid codec 'prores'; valid: dnxhr_lb, ...") reached operators, whose
    words then made them "invalid codec 'this format'; valid: this format, this format, ...": no
    help to an operator, and codec names an operator never reads."""
    write(
        tmp_path / "user/bad.yaml",
        'user_profile_version: "1.0"\nname: Broken\nconstraints:\n  preferred_codecs: [prores_lt]\n',
    )
    repository = load_repository([bundled_profiles_dir(), tmp_path])
    with pytest.raises(PreJobError) as refused:
        select(repository, "Broken", ALL_ENGINES)
    message = refused.value.message
    words = OperatorWords.of(repository.registry, ["Broken"]).text(message)
    assert message == words, "nothing in it is reworded"
    assert "codec" not in message and "prores" not in message and "preferred_codecs" not in message
    assert "proxx validate" in message
    assert "preferred_codecs" in str(refused.value.context["admin_message"])
    status = {s.name: s for s in intent_statuses(repository, ALL_ENGINES)}["Broken"]
    assert status.lifecycle is Lifecycle.INVALID and status.problem == message


def test_missing_engine_makes_the_intent_invalid_here_naming_the_engine_to_the_administrator(tmp_path):
    write(tmp_path / "u.yaml", 'user_profile_version: "1.1"\nname: SQ\nconstraints:\n  codecs: [dnxhr_sq]\n')
    repository = load_repository([bundled_profiles_dir(), tmp_path])
    with pytest.raises(PreJobError, match="needs a renderer that is not installed here") as refused:
        select(repository, "SQ", {"ffmpeg"})
    assert "resolve" not in refused.value.message  # the operator's words name no engine
    assert refused.value.context["engine"] == "resolve"  # the administrator's context does
    assert "resolve" in str(refused.value.context["admin_message"])


def test_a_studio_layer_replaces_an_intent_only_when_it_declares_it(tmp_path):
    studio = 'user_profile_version: "1.1"\nname: HD Editorial LT\ndescription: studio\nconstraints:\n'
    studio += "  codecs: [prores_proxy]\n  engine_preference: [ffmpeg]\n"
    write(tmp_path / "user/hd.yaml", studio)
    repository = load_repository([bundled_profiles_dir(), tmp_path])
    (problem,) = repository.problems  # defined twice: never a silent winner
    bundled = bundled_profiles_dir() / "user" / "hd_editorial_lt.yaml"
    assert problem.reason == "duplicate_profile_name"
    assert str(bundled) in problem.message and str(tmp_path / "user/hd.yaml") in problem.message
    with pytest.raises(PreJobError, match="is defined in both"):
        select(repository, "HD Editorial LT", ALL_ENGINES)
    write(tmp_path / "user/hd.yaml", studio + "overrides: true\n")  # a deliberate override, recorded
    repository = load_repository([bundled_profiles_dir(), tmp_path])
    compiled = select(repository, "HD Editorial LT", ALL_ENGINES)
    assert compiled.canonical.id == "proxy_prores_proxy" and repository.problems == ()
    assert compiled.definition is not None and compiled.definition.overrides == str(bundled)
    assert compiled.definition.file == str(tmp_path / "user/hd.yaml")


def test_a_canonical_id_redefined_differently_is_a_problem_and_neither_wins(tmp_path):
    write(
        tmp_path / "canonical/lt.yaml",
        'canonical_profile_version: "1.0"\nid: proxy_prores_lt\nengine: ffmpeg\ncodec: prores_hq\n'
        "container: mov\nresolution: source\naudio: copy\n",
    )
    repository = load_repository([bundled_profiles_dir(), tmp_path])
    (problem,) = repository.problems
    assert problem.reason == "canonical_id_conflict" and "proxy_prores_lt" in problem.message
    assert "proxy_prores_lt" not in repository.registry


def test_identical_canonical_copies_are_fine(tmp_path):
    source = bundled_profiles_dir() / "canonical/proxy_prores_lt.yaml"
    write(tmp_path / "lt.yaml", source.read_text())
    assert load_repository([bundled_profiles_dir(), tmp_path]).problems == ()


def test_duplicate_names_within_one_layer_are_a_problem(tmp_path):
    text = 'user_profile_version: "1.0"\nname: Twin\nconstraints: {}\n'
    write(tmp_path / "a.yaml", text)
    write(tmp_path / "b.yaml", text)
    (problem,) = load_repository([tmp_path]).problems
    assert problem.reason == "duplicate_profile_name"


def test_env_var_and_flag_layers_and_replacing_the_bundled_repository(tmp_path, monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg")  # no installed plugin ships canonical profiles here
    write(
        tmp_path / "env/u.yaml",
        'user_profile_version: "1.1"\nname: Env\nconstraints:\n  codecs: [prores_hq]\n  engine_preference: [ffmpeg]\n',
    )
    write(
        tmp_path / "flag/u.yaml",
        'user_profile_version: "1.1"\nname: Env\ndescription: flag wins\noverrides: true\nconstraints:\n  codecs: [prores_proxy]\n  engine_preference: [ffmpeg]\n',
    )
    monkeypatch.setenv("PROXX_PROFILES", str(tmp_path / "env"))
    # Each open builds its own plugin manager: the process-wide one must not be first built (and
    # cached for every later test) under this test's PROXX_LOAD_PLUGINS.
    proxx = Proxx.open(profiles=[tmp_path / "flag"], pm=build_plugin_manager())
    assert proxx.select("Env").canonical.id == "proxy_prores_proxy"
    assert proxx.repository.user_profile("HD Editorial LT") is not None
    replaced = Proxx.open(bundled=False, pm=build_plugin_manager())  # honours PROXX_LOAD_PLUGINS above
    assert [p.name for p in replaced.repository.user_profiles] == ["Env"]
    assert len(replaced.repository.registry) == 0
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    assert Proxx.open(pm=build_plugin_manager()).repository.user_profile("HD Editorial LT") is None


def test_the_profile_cache_rereads_changed_files_and_never_caches_broken_ones(tmp_path):

    from proxx.compile.cache import ProfileCache

    cache_path = tmp_path / "cache.json"
    intent = write(
        tmp_path / "repo/u.yaml", 'user_profile_version: "1.1"\nname: Cached\nconstraints:\n  codecs: [prores_hq]\n'
    )
    broken = write(tmp_path / "repo/b.yaml", 'user_profile_version: "1.1"\nname: Broken\nconstraints:\n  bitrate: 1\n')
    first = load_repository([tmp_path / "repo"], ProfileCache(cache_path))
    assert first.user_profile("Cached").constraints.codecs == ("prores_hq",)
    assert [p.reason for p in first.problems] == ["malformed_profile"]
    stored = cache_path.read_text()
    assert str(intent) in stored and str(broken) not in stored

    again = load_repository([tmp_path / "repo"], ProfileCache(cache_path))
    assert again.user_profile("Cached") == first.user_profile("Cached")
    assert [p.reason for p in again.problems] == ["malformed_profile"]  # still reported

    intent.write_text('user_profile_version: "1.1"\nname: Cached\nconstraints:\n  codecs: [prores_lt]\n')
    os.utime(intent, ns=(intent.stat().st_mtime_ns + 10**9,) * 2)
    changed = load_repository([tmp_path / "repo"], ProfileCache(cache_path))
    assert changed.user_profile("Cached").constraints.codecs == ("prores_lt",)


def test_a_repository_is_listed_in_path_order_without_hidden_files_or_linked_folders(tmp_path):
    from proxx.compile.repository import path_order, yaml_files

    for name in ("b.yaml", "b/x.yaml", "a-b/y.yml", "a/z.yaml", "a/.hidden.yaml", ".git/c.yaml", "a/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("name: x\n")
    (tmp_path / "linked").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "link.yaml").symlink_to(tmp_path / "b.yaml")
    listed = yaml_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in listed] == [
        "a/z.yaml", "a-b/y.yml", "b/x.yaml", "b.yaml", "link.yaml"
    ]  # fmt: skip
    assert listed == sorted(listed) == sorted(listed, key=path_order)  # the order paths compare in
    assert yaml_files(tmp_path / "b.yaml") == [tmp_path / "b.yaml"]


NESTED = st.recursive(
    st.one_of(st.integers(0, 9), st.text("ab", max_size=3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text("abc", min_size=1, max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    document=NESTED,
    flow=st.sampled_from([False, True, None]),
    indent=st.sampled_from([(2, 2, 0), (4, 4, 2), (2, 4, 2)]),
)
def test_the_cheap_depth_bound_is_never_below_the_real_depth(document, flow, indent):
    # The loader skips its event scan when this bound says a file cannot nest too deep: it must
    # never under-count, whatever style (block, flow, compact sequences, indentation) wrote the file.
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent

    from proxx.compile.parse import _most_depth

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    buffer = io.BytesIO()
    yaml.dump({"root": document}, buffer)
    data = buffer.getvalue()
    depth = deepest = 0
    try:
        events = list(YAML(typ="safe").parse(data))
    except YAMLError:
        assume(False)  # a text the dumper writes but no parser reads is no profile file
    for event in events:
        if isinstance(event, MappingStartEvent | SequenceStartEvent):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            depth -= 1
    assert _most_depth(data) >= deepest, data.decode()


PLAIN_SCALARS = [
    "yes", "no", "on", "off", "y", "true", "True", "FALSE", "null", "Null", "~", "", "0", "-0", "+1", "0o17",
    "017", "0x1F", "0b101", "1_000", "1.5", "1e3", "1.0e+3", ".5", "-.inf", ".Inf", ".NAN", ".nan", "-.nan",
    "2026-02-30", "2001-12-14t21:59:43.10-05:00", "12:30:45", "1:20", "a", "-", "=", "'q'", '"d"', "0.", "é",
]  # fmt: skip


@pytest.mark.parametrize("text", PLAIN_SCALARS)
def test_a_profile_value_reads_as_ruamel_yamls_own_loader_reads_it(text):
    """Profiles load through a loader class made once, with YAML 1.2's table of implicit tags made
    once: every plain scalar, in a mapping, a sequence or alone, must read as ruamel.yaml's own
    safe loading (with proxx's constructor) reads it, including a `%YAML 1.1` directive (ignored)."""
    from proxx.compile.parse import _fast_yaml, load_yaml

    def read(load, data):
        try:
            return "ok", repr(load(data))  # repr: nan == nan
        except Exception as error:
            return "error", type(error).__name__

    for document in (f"k: {text}\n", f"- {text}\n- {text}\n", f"{text}\n", f"%YAML 1.1\n---\nk: {text}\n"):
        data = document.encode()
        assert read(load_yaml, data) == read(_fast_yaml.load, data), document


YAML_DOCUMENTS = [
    "a: 1\nb: [1, 2, {c: d}]\nc: {x: y}\n", "a: 1\na: 2\n", "<<: {a: 1}\nb: 2\n", "a: !!str 1\n", "a: !!binary aGk=\n",
    "!!set {a, b}\n", "!!omap [a: 1]\n", "? [a, b]\n: 1\n", "=: 1\n", "a: !custom x\n", "[1, [2, [3]]]\n", "{}\n",
    "a:\n  - b: 1\n    c: [x]\n", "1: one\ntrue: t\n", "1: one\n1.0: x\n", "a: 1234567890123456789012\n",
    "a: {b: 1234567890123456789012}\nc: 12345678901234567890123\n", "a: 2026-02-30\n", "'': e\n", "x: [a: 1]\n",
]  # fmt: skip


@pytest.mark.parametrize("text", YAML_DOCUMENTS)
def test_a_profile_document_reads_as_ruamel_yamls_own_constructor_builds_it(text):
    """Plain profiles are built straight from their nodes; every other document (tags, merge keys,
    complex or duplicate keys, refused values) must read, or fail with the same error, as ruamel.yaml's
    own safe loading (with proxx's constructor) makes it."""
    from proxx.compile.parse import _fast_yaml, load_yaml

    def read(load, data):
        try:
            return "ok", repr(load(data))
        except Exception as error:
            return "error", type(error).__name__, str(error)

    assert read(load_yaml, text.encode()) == read(_fast_yaml.load, text.encode())
