"""The compiler: every filter, every message, every reference case of docs/compatibility.md, section 2."""

from __future__ import annotations

import pytest

from proxx import Registry, compile_profile
from proxx.compile.profiles import Lifecycle
from proxx.converter import converter
from proxx.errors import FailureClass, PreJobError
from tests.conftest import intent


def compiled_id(profile, registry, engines=None) -> str:
    return compile_profile(profile, registry, engines).canonical.id


# --- the reference suite's own cases, on the reference registry and on ours (additions must not
# --- change any outcome) -------------------------------------------------------------------------


@pytest.fixture(params=["reference", "bundled"])
def registry(request, reference_registry, bundled_registry) -> Registry:
    return reference_registry if request.param == "reference" else bundled_registry


def test_reference_registry_has_the_ten_ids(reference_registry):
    assert [p.id for p in reference_registry] == sorted(
        [
            "proxy_h264_low",
            "proxy_h264_quarter",
            "proxy_prores_proxy",
            "proxy_prores_lt",
            "proxy_dnxhr_lb",
            "proxy_prores_proxy_resolve",
            "proxy_prores_lt_resolve",
            "proxy_prores_hq_resolve",
            "proxy_dnxhr_lb_resolve",
            "proxy_dnxhr_sq_resolve",
        ]
    )


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_dnxhr_with_ffmpeg_preference_is_proxy_dnxhr_lb(registry, version):
    profile = intent(version, preferred_codecs=["dnxhr"], engine_preference=["ffmpeg"])
    assert compiled_id(profile, registry) == "proxy_dnxhr_lb"


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_prores_alone_is_ambiguous(registry, version):
    with pytest.raises(PreJobError) as caught:
        compile_profile(intent(version, name="P", preferred_codecs=["prores"]), registry)
    assert caught.value.reason == "ambiguous"
    ids = caught.value.context["candidates"]
    assert ids == sorted(ids) and "proxy_prores_lt" in ids and "proxy_prores_lt_resolve" in ids
    assert caught.value.message == (
        "Ambiguous match for user profile 'P'. Multiple canonical profiles satisfy constraints: "
        f"[{', '.join(ids)}]. Add more constraints to resolve to exactly one profile."
    )
    assert caught.value.failure_class is FailureClass.PRE_JOB


def test_empty_constraints_are_ambiguous(registry):
    with pytest.raises(PreJobError) as caught:
        compile_profile(intent(), registry)
    assert caught.value.reason == "ambiguous"
    assert caught.value.context["candidates"] == [p.id for p in registry]


def test_intra_frame_only_with_h264_has_no_match(registry):
    with pytest.raises(PreJobError) as caught:
        compile_profile(intent(name="X", intra_frame_only=True, preferred_codecs=["h264"]), registry)
    assert caught.value.reason == "unsatisfiable"
    assert caught.value.message == (
        "No matching canonical profile for user profile 'X'. Constraints are unsatisfiable: preferred_codecs "
        "constraint ([h264]) incompatible with canonical registry given intra_frame_only (true)."
    )
    assert caught.value.context["constraint"] == "preferred_codecs"


# --- each filter -----------------------------------------------------------------------------------


def ids(profile, registry):
    from proxx.compile.compiler import candidates

    return [p.id for p in candidates(profile, registry)]


def test_intra_frame_only_keeps_prores_and_dnx(reference_registry):
    kept = ids(intent(intra_frame_only=True), reference_registry)
    assert kept and not any("h264" in i for i in kept)
    assert len(kept) == 8


def test_intra_frame_only_false_filters_nothing(reference_registry):
    assert len(ids(intent(intra_frame_only=False), reference_registry)) == 10


def test_allow_long_gop_false_drops_h264(reference_registry):
    assert ids(intent(allow_long_gop=False), reference_registry) == ids(
        intent(intra_frame_only=True), reference_registry
    )
    assert len(ids(intent(allow_long_gop=True), reference_registry)) == 10


def test_max_resolution_same_keeps_source_only(bundled_registry):
    kept = ids(intent(max_resolution="same"), bundled_registry)
    assert "proxy_h264_low" not in kept and "proxy_prores_lt_hd" not in kept
    assert all(bundled_registry.get(i).resolution == "source" for i in kept)


@pytest.mark.parametrize("cap", ["1080p", "2k"])
def test_max_resolution_1080p_and_2k_keep_everything_in_schema_1_0(bundled_registry, cap):
    # The reference's code, not its prose: the source size is unknown at compile time.
    assert len(ids(intent(max_resolution=cap), bundled_registry)) == len(bundled_registry)
    assert len(ids(intent("1.1", max_resolution=cap), bundled_registry)) == len(bundled_registry)


def test_preferred_codecs_keep_any_listed_family(reference_registry):
    kept = ids(intent(preferred_codecs=["dnxhr", "h264"]), reference_registry)
    assert kept == sorted(
        [
            "proxy_dnxhr_lb",
            "proxy_dnxhr_lb_resolve",
            "proxy_dnxhr_sq_resolve",
            "proxy_h264_low",
            "proxy_h264_quarter",
        ]
    )


def test_hevc_family_matches_nothing_in_the_registry(reference_registry):
    assert ids(intent(preferred_codecs=["hevc"]), reference_registry) == []


def test_engine_preference_is_only_a_tie_breaker(reference_registry):
    # One candidate left: the preference does not remove it even though it names another engine.
    profile = intent(preferred_codecs=["h264"], max_resolution="same", engine_preference=["resolve"])
    assert ids(profile, reference_registry) == []
    profile = intent(preferred_codecs=["dnxhr"], engine_preference=["nuke", "resolve"])
    assert ids(profile, reference_registry) == ["proxy_dnxhr_lb_resolve", "proxy_dnxhr_sq_resolve"]
    # No listed engine has a candidate: the tie stays (and compile reports it as ambiguous).
    profile = intent("1.1", preferred_codecs=["dnxhr"], engine_preference=["inhouse"])
    assert len(ids(profile, reference_registry)) == 3


def test_engine_preference_keeps_every_candidate_of_the_first_engine(reference_registry):
    # The reference's code keeps all of them, so two ffmpeg ProRes profiles stay ambiguous.
    profile = intent(preferred_codecs=["prores"], engine_preference=["ffmpeg"])
    assert ids(profile, reference_registry) == ["proxy_prores_lt", "proxy_prores_proxy"]
    with pytest.raises(PreJobError, match="Ambiguous"):
        compile_profile(profile, reference_registry)


def test_codecs_flavour_filter_1_1(bundled_registry):
    assert ids(intent("1.1", codecs=["dnxhr_sq"]), bundled_registry) == ["proxy_dnxhr_sq_resolve"]


def test_resolution_filter_1_1(bundled_registry):
    assert ids(intent("1.1", codecs=["h264"], resolution=["scale_25"]), bundled_registry) == ["proxy_h264_quarter"]


def test_max_frame_size_means_what_it_says_1_1(bundled_registry):
    assert ids(intent("1.1", max_frame_size="1920x1080"), bundled_registry) == ["proxy_prores_lt_hd"]
    assert ids(intent("1.1", max_frame_size="3840x2160"), bundled_registry) == ["proxy_prores_lt_hd"]
    assert ids(intent("1.1", max_frame_size="1280x720"), bundled_registry) == []


# --- schema 1.1 ------------------------------------------------------------------------------------

REACH = {
    "proxy_h264_low": dict(codecs=["h264"], resolution=["scale_50"]),
    "proxy_h264_quarter": dict(codecs=["h264"], resolution=["scale_25"]),
    "proxy_prores_proxy": dict(codecs=["prores_proxy"], engine_preference=["ffmpeg"]),
    "proxy_prores_lt": dict(codecs=["prores_lt"], resolution=["source"], engine_preference=["ffmpeg"]),
    "proxy_prores_lt_hd": dict(codecs=["prores_lt"], max_frame_size="1920x1080"),
    "proxy_prores_standard": dict(codecs=["prores_standard"]),
    "proxy_prores_hq": dict(codecs=["prores_hq"], engine_preference=["ffmpeg"]),
    "proxy_dnxhr_lb": dict(codecs=["dnxhr_lb"], engine_preference=["ffmpeg"]),
    "proxy_prores_proxy_resolve": dict(codecs=["prores_proxy"], engine_preference=["resolve"]),
    "proxy_prores_lt_resolve": dict(codecs=["prores_lt"], resolution=["source"], engine_preference=["resolve"]),
    "proxy_prores_hq_resolve": dict(codecs=["prores_hq"], engine_preference=["resolve"]),
    "proxy_dnxhr_lb_resolve": dict(codecs=["dnxhr_lb"], engine_preference=["resolve"]),
    "proxy_dnxhr_sq_resolve": dict(codecs=["dnxhr_sq"]),
}


def test_every_canonical_profile_is_reachable_by_1_1_constraints(bundled_registry):
    assert set(REACH) == {p.id for p in bundled_registry}
    for canonical_id, constraints in REACH.items():
        assert compiled_id(intent("1.1", **constraints), bundled_registry) == canonical_id


ONE_ZERO_CASES = [
    {},
    {"preferred_codecs": ["prores"]},
    {"preferred_codecs": ["dnxhr"], "engine_preference": ["ffmpeg"]},
    {"preferred_codecs": ["h264"], "intra_frame_only": True},
    {"max_resolution": "same", "preferred_codecs": ["h264"]},
    {"allow_long_gop": False, "preferred_codecs": ["dnxhr"], "engine_preference": ["resolve"]},
    {"preferred_codecs": ["h264"], "max_resolution": "1080p", "engine_preference": ["resolve", "ffmpeg"]},
]


def outcome(profile, registry):
    try:
        return compiled_id(profile, registry)
    except PreJobError as error:
        return (error.reason, error.context.get("candidates"))


@pytest.mark.parametrize("constraints", ONE_ZERO_CASES)
def test_a_1_1_profile_with_only_1_0_fields_compiles_like_its_1_0_twin(bundled_registry, constraints):
    assert outcome(intent("1.0", **constraints), bundled_registry) == outcome(
        intent("1.1", **constraints), bundled_registry
    )


# --- schema 1.2: containers and audio -------------------------------------------------------------

STUDIO_TWINS = [  # two canonical profiles that differ only in container, two only in audio
    {"id": "studio_h264_half_mp4", "container": "mp4", "audio": "aac"},
    {"id": "studio_h264_half_mov", "container": "mov", "audio": "aac"},
    {"id": "studio_prores_lt_pcm", "codec": "prores_lt", "container": "mov", "audio": "pcm"},
    {"id": "studio_prores_lt_copy", "codec": "prores_lt", "container": "mov", "audio": "copy"},
]


def studio_registry() -> Registry:
    from proxx.compile.profiles import CanonicalProfile

    base = {"engine": "ffmpeg", "codec": "h264", "resolution": "scale_50"}
    return Registry([converter.structure({**base, **twin}, CanonicalProfile) for twin in STUDIO_TWINS])


def test_containers_and_audio_choose_between_twins_1_2():
    registry = studio_registry()
    with pytest.raises(PreJobError, match="Ambiguous"):  # what 1.1 can say about them
        compile_profile(intent("1.1", codecs=["h264"]), registry)
    assert compiled_id(intent("1.2", codecs=["h264"], containers=["mov"]), registry) == "studio_h264_half_mov"
    assert compiled_id(intent("1.2", codecs=["h264"], containers=["mp4"]), registry) == "studio_h264_half_mp4"
    assert compiled_id(intent("1.2", codecs=["prores_lt"], audio=["pcm"]), registry) == "studio_prores_lt_pcm"
    assert ids(intent("1.2", audio=["aac"], containers=["mov", "mxf"]), registry) == ["studio_h264_half_mov"]
    assert ids(intent("1.2", containers=["mxf"]), registry) == []


@pytest.mark.parametrize("constraints", ONE_ZERO_CASES)
def test_a_1_2_profile_with_only_1_1_fields_compiles_like_its_1_1_twin(bundled_registry, constraints):
    assert outcome(intent("1.1", **constraints), bundled_registry) == outcome(
        intent("1.2", **constraints), bundled_registry
    )


def test_containers_and_audio_are_refused_before_1_2_and_checked_in_1_2():
    from proxx.schemas import USER_PROFILE, violations

    def problems(version, **constraints):
        document = {"user_profile_version": version, "name": "X", "constraints": constraints}
        return [(v.path, v.message) for v in violations(document, USER_PROFILE)]

    assert problems("1.2", containers=["mov"], audio=["pcm", "aac"]) == []
    assert [path for path, _ in problems("1.1", containers=["mov"])] == [("constraints", "containers")]
    ((path, message),) = problems("1.2", containers=["avi"])
    assert path == ("constraints", "containers", 0) and "invalid container 'avi'" in message
    ((path, message),) = problems("1.2", audio=["mp3"])
    assert path == ("constraints", "audio", 0) and "invalid audio policy 'mp3'" in message


# --- lifecycle and engines -------------------------------------------------------------------------


def test_graduated_profile_is_an_alias_of_its_target(bundled_registry):
    profile = converter.structure(
        {
            "user_profile_version": "1.1",
            "name": "G",
            "lifecycle": "graduated",
            "graduated_to": "proxy_prores_lt_hd",
            "constraints": {},
        },
        type(intent()),
    )
    assert profile.lifecycle is Lifecycle.GRADUATED
    assert compiled_id(profile, bundled_registry) == "proxy_prores_lt_hd"
    gone = converter.structure({**converter.unstructure(profile), "graduated_to": "proxy_removed"}, type(profile))
    with pytest.raises(PreJobError) as caught:
        compile_profile(gone, bundled_registry)
    assert caught.value.reason == "graduated_to_unknown"
    assert "proxy_removed" in caught.value.message


def test_a_match_whose_engine_is_not_installed_is_unsatisfiable_naming_the_engine(bundled_registry):
    profile = intent("1.1", name="SQ", codecs=["dnxhr_sq"])
    with pytest.raises(PreJobError) as caught:
        compile_profile(profile, bundled_registry, engines={"ffmpeg"})
    assert caught.value.reason == "engine_not_installed"
    assert "'resolve' engine" in caught.value.message
    assert compiled_id(profile, bundled_registry, engines={"ffmpeg", "resolve"}) == "proxy_dnxhr_sq_resolve"


def test_installed_engines_never_change_which_id_an_intent_means(bundled_registry):
    # Ambiguous with every engine installed stays ambiguous with only ffmpeg: no silent narrowing.
    profile = intent(preferred_codecs=["dnxhr"])
    for engines in ({"ffmpeg"}, {"ffmpeg", "resolve"}, None):
        with pytest.raises(PreJobError) as caught:
            compile_profile(profile, bundled_registry, engines=engines)
        assert caught.value.reason == "ambiguous"


def test_origin_metadata(bundled_registry):
    compiled = compile_profile(
        intent("1.1", name="Arch", codecs=["prores_hq"], engine_preference=["ffmpeg"]), bundled_registry
    )
    assert compiled.origin == {"type": "user_profile", "name": "Arch", "version": "1.1"}
