"""Fabric fingerprints: a documented function of source intrinsics and the canonical id only."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from proxx import compile_profile
from proxx.plugin import AudioStream, MediaInfo, VideoStream, probe
from proxx.testing import create_jobspec, make_clip, user_profile
from proxx_fabric.fingerprint import Intrinsics, fingerprint, intrinsics_of

canonical_ids = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
rates = st.sampled_from(["24000/1001", "24/1", "25/1", "30000/1001", "50/1", "60000/1001", "48/1"])
layouts = st.sampled_from([(1, "mono"), (2, "stereo"), (6, "5.1(side)"), (8, "7.1"), (2, ""), (4, "quad")])


@st.composite
def media(draw: st.DrawFn) -> MediaInfo:
    rate = draw(rates)
    frames = draw(st.integers(1, 500_000))
    numerator, denominator = (int(x) for x in rate.split("/"))
    duration = frames * denominator / numerator
    video = VideoStream(
        codec=draw(st.sampled_from(["prores", "h264", "hevc", "dnxhd", "mjpeg"])),
        profile=draw(st.sampled_from(["", "HQ", "Main"])),
        width=draw(st.integers(16, 8192)),
        height=draw(st.integers(16, 4320)),
        sample_aspect_ratio="1:1",
        frame_rate=rate,
        pix_fmt="yuv422p10le",
        field_order="progressive",
        duration=duration,
        nb_frames=frames,
    )
    audio = tuple(
        AudioStream("pcm_s24le", channels, layout, 48000, 24)
        for channels, layout in draw(st.lists(layouts, max_size=4))
    )
    return MediaInfo(
        path=draw(st.sampled_from(["/media/A001.mov", "/other/place/renamed copy.mov"])),
        format_name=draw(st.sampled_from(["mov,mp4,m4a,3gp,3g2,mj2", "mxf", "matroska,webm"])),
        size=draw(st.integers(1, 10**12)),
        duration=duration,
        video=video,
        audio=audio,
        timecode=draw(st.sampled_from([None, "01:00:00:00", "10:11:12:13"])),
        brand="qt  ",
    )


@given(media(), canonical_ids, st.text(min_size=1), st.integers(1, 10**12), st.sampled_from([None, "23:00:00:00"]))
def test_the_same_source_copied_or_renamed_elsewhere_gives_the_same_fingerprint(info, canonical, path, size, tc):
    elsewhere = attrs.evolve(info, path=path, size=size, timecode=tc)
    assert fingerprint(canonical, intrinsics_of(elsewhere)) == fingerprint(canonical, intrinsics_of(info))


@given(media(), canonical_ids, canonical_ids)
def test_a_different_canonical_id_gives_a_different_fingerprint(info, one, other):
    same = fingerprint(one, intrinsics_of(info)) == fingerprint(other, intrinsics_of(info))
    assert same == (one == other)


def _changes(info: MediaInfo) -> list[MediaInfo]:
    video = info.video
    assert video is not None
    channels = info.audio[0].channels + 1 if info.audio else 2
    return [
        attrs.evolve(info, format_name="mxf" if info.format_name != "mxf" else "matroska,webm"),
        attrs.evolve(info, video=attrs.evolve(video, codec=video.codec + "x")),
        attrs.evolve(info, video=attrs.evolve(video, width=video.width + 2)),
        attrs.evolve(info, video=attrs.evolve(video, height=video.height + 2)),
        attrs.evolve(info, video=attrs.evolve(video, frame_rate="25/1" if video.frame_rate != "25/1" else "24/1")),
        attrs.evolve(info, video=attrs.evolve(video, duration=(video.duration or 0) + float(1 / video.fps))),
        attrs.evolve(info, audio=(AudioStream("pcm_s24le", channels, "", 48000, 24), *info.audio[1:])),
        attrs.evolve(info, audio=(*info.audio, AudioStream("pcm_s24le", 1, "mono", 48000, 24))),
        attrs.evolve(info, audio=tuple(attrs.evolve(a, channel_layout=a.channel_layout + "x") for a in info.audio))
        if info.audio
        else attrs.evolve(info, audio=(AudioStream("aac", 2, "stereo", 48000, None),)),
    ]


@given(media(), canonical_ids)
def test_a_changed_intrinsic_property_gives_a_different_fingerprint(info, canonical):
    original = fingerprint(canonical, intrinsics_of(info))
    for changed in _changes(info):
        assert fingerprint(canonical, intrinsics_of(changed)) != original, intrinsics_of(changed)


@given(media(), canonical_ids, st.floats(-0.45, 0.45))
def test_duration_is_quantised_to_whole_frames_so_a_reprobe_jitter_changes_nothing(info, canonical, jitter):
    video = info.video
    assert video is not None and video.duration is not None
    jittered = attrs.evolve(info, video=attrs.evolve(video, duration=video.duration + jitter / float(video.fps)))
    assert intrinsics_of(jittered).frames == video.nb_frames
    assert fingerprint(canonical, intrinsics_of(jittered)) == fingerprint(canonical, intrinsics_of(info))


@given(media(), canonical_ids)
def test_the_fingerprint_format_is_versioned_and_its_inputs_round_trip(info, canonical):
    intrinsics = intrinsics_of(info)
    value = fingerprint(canonical, intrinsics)
    assert re.fullmatch(r"fp1:[0-9a-f]{64}", value)
    assert Intrinsics.from_dict(intrinsics.to_dict()) == intrinsics


def test_the_fingerprint_of_a_known_source_is_pinned():
    """The format is documented; changing it silently would orphan every index."""
    source = Intrinsics("mov", "prores", 3840, 2160, "24000/1001", 1440, ("2:stereo", "1:mono"))
    assert fingerprint("proxy_prores_lt", source) == (
        "fp1:"
        + __import__("hashlib")
        .sha256(
            b'{"canonical_profile":"proxy_prores_lt","fingerprint_version":"1","source":{"audio":["2:stereo","1:mono"],'
            b'"container":"mov","frame_rate":"24000/1001","frames":1440,"height":2160,"video_codec":"prores","width":3840}}'
        )
        .hexdigest()
    )


# Constraint sets that all compile, in the bundled registry, to one canonical profile.
SAME_CANONICAL = [
    {"codecs": ["prores_lt"], "max_frame_size": "1920x1080"},
    {"codecs": ["prores_lt"], "max_frame_size": "1920x1080", "engine_preference": ["ffmpeg"]},
    {"codecs": ["prores_lt"], "max_frame_size": "1920x1080", "engine_preference": ["ffmpeg", "resolve"]},
]
names = st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=40).filter(str.strip)


@settings(max_examples=30, deadline=None)
@given(names, names, st.sampled_from(SAME_CANONICAL), st.sampled_from(SAME_CANONICAL), media())
def test_any_two_intents_compiling_to_one_canonical_id_give_one_fingerprint(
    bundled_registry, tmp_path_factory, one, other, constraints, other_constraints, info
):
    folder = tmp_path_factory.mktemp("jobs")
    specs = [
        create_jobspec(compile_profile(user_profile(name, **c), bundled_registry), [folder / "A.mov"], folder, "t", {})
        for name, c in ((one, constraints), (other, other_constraints))
    ]
    assert specs[0].proxy_profile == specs[1].proxy_profile
    source = intrinsics_of(info)
    assert fingerprint(specs[0].proxy_profile, source) == fingerprint(specs[1].proxy_profile, source)


def test_two_intents_compiling_to_one_canonical_id_give_one_fingerprint(bundled_registry, tmp_path):
    editorial = user_profile("HD Editorial LT", codecs=["prores_lt"], max_frame_size="1920x1080")
    cutting = user_profile(
        "Cutting Room", codecs=["prores_lt"], max_frame_size="1920x1080", engine_preference=["ffmpeg"]
    )
    review = user_profile("Review", codecs=["h264"], resolution=["scale_50"])
    specs = [
        create_jobspec(compile_profile(p, bundled_registry), [tmp_path / "A001.mov"], tmp_path / out, "t", {})
        for p, out in ((editorial, "a"), (cutting, "b"), (review, "c"))
    ]
    source = Intrinsics("mov", "prores", 1920, 1080, "25/1", 250, ("2:stereo",))
    prints = [fingerprint(spec.proxy_profile, source) for spec in specs]
    assert specs[0].proxy_profile == specs[1].proxy_profile != specs[2].proxy_profile
    assert prints[0] == prints[1] != prints[2]


def test_a_real_clip_copied_and_renamed_probes_to_the_same_intrinsics(tmp_path: Path):
    source = make_clip(tmp_path / "card" / "A001_C001.mov", frames=12, audio=(2, 1))
    copy = tmp_path / "elsewhere" / "renamed.mov"
    copy.parent.mkdir()
    shutil.copyfile(source, copy)
    first, again, copied = (
        intrinsics_of(probe(str(source))),
        intrinsics_of(probe(str(source))),
        intrinsics_of(probe(str(copy))),
    )
    assert first == again == copied
    assert first == Intrinsics("mov", "h264", 320, 180, "24000/1001", 12, ("2:stereo", "1:mono"))
