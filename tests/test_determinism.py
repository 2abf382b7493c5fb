"""Compile is a pure function of (intent, registry): listing order never matters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proxx import Registry, compile_profile
from proxx.errors import PreJobError
from tests.conftest import intent

constraints = st.fixed_dictionaries(
    {},
    optional={
        "intra_frame_only": st.booleans(),
        "allow_long_gop": st.booleans(),
        "max_resolution": st.sampled_from(["same", "1080p", "2k"]),
        "preferred_codecs": st.lists(st.sampled_from(["prores", "dnxhr", "h264", "hevc"]), min_size=1, max_size=3),
        "codecs": st.lists(
            st.sampled_from(["prores_lt", "prores_hq", "dnxhr_lb", "dnxhr_sq", "h264"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        "resolution": st.lists(
            st.sampled_from(["source", "scale_50", "scale_25", "fit_1920x1080"]),
            min_size=1,
            max_size=2,
            unique=True,
        ),
        "max_frame_size": st.sampled_from(["1280x720", "1920x1080", "4096x2160"]),
        "engine_preference": st.lists(st.sampled_from(["ffmpeg", "resolve"]), min_size=1, max_size=2),
    },
)


def outcome(profile, registry):
    try:
        return compile_profile(profile, registry, {"ffmpeg"}).canonical.id
    except PreJobError as error:
        return error.message


@settings(max_examples=300, deadline=None)
@given(constraints=constraints, data=st.data())
def test_compile_is_deterministic_and_independent_of_listing_order(bundled_registry, constraints, data):
    profile = intent("1.1", **constraints)
    shuffled = Registry.of(data.draw(st.permutations(list(bundled_registry))))
    first = outcome(profile, bundled_registry)
    assert outcome(profile, shuffled) == first
    assert outcome(profile, bundled_registry) == first
