"""Verification looks at the picture, which every stated fact can leave wrong: a proxy that ignored a
phone's display matrix, read full-range levels as limited, was mirrored, a slate or another clip,
was verified; now it fails."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from proxx import Proxx
from proxx.compile.repository import load_repository
from proxx.media import decoder
from proxx.media.allowlist import demuxer_options
from proxx.media.probe import file_url, probe_afresh
from proxx.media.tools import require_tool
from proxx.resources import bundled_profiles_dir
from proxx.store import COMPLETED, FAILED
from proxx.testing import make_clip
from proxx.verify import picture
from proxx.verify.picture import picture_checks
from proxx_ffmpeg.recipes import build_args
from tests.wrapped_ffmpeg import real_ffmpeg, render_filtered, run_wrapped, wrapped_ffmpeg

INTENT = "HD Editorial LT"


def ffmpeg(*args: str) -> None:
    subprocess.run([require_tool("ffmpeg").path, "-v", "error", "-y", *args], check=True)


def profile(canonical_id: str = "proxy_prores_lt"):  # type: ignore[no-untyped-def]
    found = load_repository([bundled_profiles_dir()]).registry.get(canonical_id)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def turned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip shown upside down by its display matrix, as a phone held the wrong way writes it."""
    folder = tmp_path_factory.mktemp("turned")
    plain = make_clip(folder / "plain.mov", size="320x180", frames=3, audio=())
    ffmpeg("-display_rotation", "180", "-i", str(plain), "-c", "copy", str(folder / "IMG_0001.MOV"))
    return folder / "IMG_0001.MOV"


def render(source: Path, output: Path, *before: str) -> Path:
    """The bundled engine's render of `source`, with `before` put ahead of its arguments."""
    command = build_args(require_tool("ffmpeg").path, probe_afresh(str(source)), str(output), profile())
    subprocess.run([command[0], *before, *command[1:]], check=True, capture_output=True)
    return output


def test_a_proxy_made_as_players_show_the_source_passes(turned, tmp_path):
    right = render(turned, tmp_path / "right.mov")
    check, same, framed = picture_checks(profile(), probe_afresh(str(turned)), probe_afresh(str(right)))
    assert (check.name, check.actual, check.passed) == (
        "picture_orientation",
        "the picture as the source shows it",
        True,
    )
    assert (same.name, same.passed) == ("picture_content", True), same
    assert (framed.name, framed.passed) == ("picture_geometry", True), framed


def test_a_proxy_that_ignored_the_turn_fails_though_its_stated_facts_are_right(turned, tmp_path):
    wrong = render(turned, tmp_path / "wrong.mov", "-display_rotation", "0")  # the matrix read as none
    made = probe_afresh(str(wrong))
    assert made.video is not None and made.video.rotation == 0  # upright, the right size: as before
    (check,) = picture_checks(profile(), probe_afresh(str(turned)), made)
    assert (check.name, check.actual, check.passed) == ("picture_orientation", "turned upside down", False)


def test_a_mirrored_proxy_of_a_turned_source_fails(turned, tmp_path):
    right = render(turned, tmp_path / "right.mov")
    mirrored = tmp_path / "mirrored.mov"
    ffmpeg("-i", str(right), "-vf", "hflip", "-c:v", "prores_ks", "-profile:v", "1", str(mirrored))
    (check,) = picture_checks(profile(), probe_afresh(str(turned)), probe_afresh(str(mirrored)))
    assert (check.actual, check.passed) == ("mirrored left to right", False)


def test_levels_of_a_full_range_source_read_as_limited_fail(tmp_path):
    full = tmp_path / "MVI_0001.MOV"  # full range, as phones and DSLRs write H.264; mid tones, as footage has
    # One gradient, not a random one each run: where most of a picture lies near black or white, levels
    # read the wrong way clip rather than stretch it (1.07 times the contrast, within SAME_CONTRAST).
    # Its colours and line are given: `seed` does not fix colours left "random", and one run in fifteen
    # drew such a picture. Mid grey to light grey, corner to corner.
    gradient = "gradients=s=320x180:r=25:d=0.12:c0=0x404040:c1=0xc0c0c0:x0=0:y0=0:x1=319:y1=179:speed=0"
    ffmpeg("-f", "lavfi", "-i", gradient, "-vf", "scale=out_range=pc", "-c:v", "libx264", "-color_range", "pc",
           str(full))  # fmt: skip
    h264 = profile("proxy_h264_low")
    command = build_args(require_tool("ffmpeg").path, probe_afresh(str(full)), str(tmp_path / "right.mp4"), h264)
    subprocess.run(command, check=True, capture_output=True)
    right = picture_checks(h264, probe_afresh(str(full)), probe_afresh(str(tmp_path / "right.mp4")))
    assert [(c.name, c.passed) for c in right] == [
        ("picture_orientation", True),
        ("picture_levels", True),
        ("picture_content", True),
    ], right  # its 160x90 proxy is too small to judge its framing
    wrong = tmp_path / "wrong.mp4"  # the source's full-range pictures, said to be limited
    ffmpeg("-i", str(full), "-c", "copy", "-bsf:v", "h264_metadata=video_full_range_flag=0", str(wrong))
    checks = {c.name: c for c in picture_checks(h264, probe_afresh(str(full)), probe_afresh(str(wrong)))}
    assert not checks["picture_levels"].passed, checks


@pytest.mark.parametrize(
    "change",
    [
        "drawbox=c=gray:t=fill",  # a renderer's "media offline" slate
        "shuffleplanes=0:2:1",  # the colour planes swapped
        "colormatrix=bt709:bt601",  # its matrix misread: BT.709 pictures converted as BT.601
    ],
)
def test_a_proxy_unlike_its_source_fails_where_its_first_picture_is_read(turned, tmp_path, change):
    """A turned source's proxy that is a slate or the source with its colour planes swapped was upright,
    not mirrored, of the right size and colour description: it passed the orientation check ("unlike
    the source, but not turned") and verified. Where the first pictures are read anyway and no colour
    is converted, they must be alike."""
    command = build_args(require_tool("ffmpeg").path, probe_afresh(str(turned)), str(tmp_path / "w.mov"), profile())
    command[command.index("-vf") + 1] += "," + change
    subprocess.run(command, check=True, capture_output=True)
    check, same, *_ = picture_checks(profile(), probe_afresh(str(turned)), probe_afresh(str(tmp_path / "w.mov")))
    assert check.passed and (same.name, same.passed) == ("picture_content", False), same


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("", None),  # the right proxy
        ("hflip", "mirrored left to right"),
        ("vflip", "mirrored top to bottom"),
        ("drawbox=c=gray:t=fill", None),  # a renderer's "media offline" slate
        ("negate", None),
        ("shuffleplanes=0:2:1", None),  # the colour planes swapped
    ],
)
def test_an_upright_limited_source_s_proxy_must_show_its_picture(tmp_path, change, said):
    """Only turned and full-range sources had their pictures read: a plain camera clip's proxy that was
    mirrored, a slate, its colours negated or its planes swapped kept every stated fact right and was
    verified. Every clip with pictures now has its first picture compared with its source's."""
    plain = make_clip(tmp_path / "A001_C001.mov", size="320x180", frames=3, audio=())
    command = build_args(require_tool("ffmpeg").path, probe_afresh(str(plain)), str(tmp_path / "p.mov"), profile())
    if change:
        command[command.index("-vf") + 1] += "," + change
    subprocess.run(command, check=True, capture_output=True)
    checks = picture_checks(profile(), probe_afresh(str(plain)), probe_afresh(str(tmp_path / "p.mov")))
    if not change:
        assert [(c.name, c.passed) for c in checks] == [
            ("picture_orientation", True),
            ("picture_content", True),
            ("picture_geometry", True),
        ]
    elif said:
        assert [(c.name, c.actual, c.passed) for c in checks] == [("picture_orientation", said, False)]
    else:  # said as it is turned, or as unlike the source
        assert not all(c.passed for c in checks), checks


def test_another_clip_s_pictures_in_a_proxy_fail(tmp_path):
    """Two clips of a card, same format and length: a renderer that wrote one's pictures under the
    other's name made a proxy whose every stated fact is right."""
    first = make_clip(tmp_path / "A001_C001.mov", size="320x180", frames=3, audio=())
    other = tmp_path / "A001_C002.mov"
    ffmpeg("-f", "lavfi", "-i", "smptebars=s=320x180:r=24000/1001:d=0.125", "-c:v", "libx264", str(other))
    proxy = render(other, tmp_path / "p.mov")
    checks = picture_checks(profile(), probe_afresh(str(first)), probe_afresh(str(proxy)))
    assert not all(c.passed for c in checks), checks


def test_a_job_whose_renderer_ignored_the_turn_fails_in_class_c(turned, tmp_path, proxx_home, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    broken = wrapped_ffmpeg(tmp_path, '" -progress "', f'exec "{real_ffmpeg()}" -display_rotation 0 "$@"')
    result = run_wrapped(monkeypatch, broken, INTENT, [turned], out)
    assert result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C" and "upside down" in result.failure.message
    assert not (out / "IMG_0001.mov").exists()  # nothing under a final name unless verified
    again = Proxx.open()
    spec = again.create_job(INTENT, [turned], out)
    assert again.run_job(spec.job_id).state == COMPLETED  # type: ignore[union-attr]


def test_a_job_whose_renderer_mirrored_an_upright_clip_fails_in_class_c(tmp_path, proxx_home, monkeypatch):
    out, card = tmp_path / "out", tmp_path / "CARD"
    out.mkdir()
    clip = make_clip(card / "A001_C001.mov", size="320x180", frames=3)
    broken = render_filtered(tmp_path, ",hflip")  # a mirror: every other fact of the proxy stays right
    result = run_wrapped(monkeypatch, broken, INTENT, [clip], out)
    assert result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C" and "mirrored left to right" in result.failure.message
    assert not (out / "A001_C001.mov").exists()


def test_a_mirrored_proxy_of_an_untagged_phone_clip_fails(tmp_path):
    """A phone's portrait clip states no colour: ffmpeg's scaler read it as BT.601 and its proxy as
    the BT.709 it states, 9 of 255 apart on average, which hid a proxy mirrored left to right (13 off
    the source, 9 off its mirror image). The source is read as the colour the policy takes it to be."""
    from tests.camera_media import make_phone_portrait

    phone = make_phone_portrait(tmp_path)
    h264 = profile("proxy_h264_low")
    command = build_args(require_tool("ffmpeg").path, probe_afresh(str(phone)), str(tmp_path / "right.mp4"), h264)
    subprocess.run(command, check=True, capture_output=True)
    assert all(
        c.passed for c in picture_checks(h264, probe_afresh(str(phone)), probe_afresh(str(tmp_path / "right.mp4")))
    )
    command[-1] = f"file:{tmp_path / 'mirrored.mp4'}"
    command[command.index("-vf") + 1] += ",hflip"
    subprocess.run(command, check=True, capture_output=True)
    (check,) = picture_checks(h264, probe_afresh(str(phone)), probe_afresh(str(tmp_path / "mirrored.mp4")))
    assert (check.name, check.actual, check.passed) == ("picture_orientation", "mirrored left to right", False)


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of a moving test pattern coded in half-second GOPs, as cameras write H.264."""
    made = tmp_path_factory.mktemp("moving") / "A001_C001.MOV"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-c:v", "libx264", "-g", "12", "-pix_fmt", "yuv420p",
           "-timecode", "01:00:00:00", str(made))  # fmt: skip
    return made


@pytest.fixture(scope="module")
def one_gop_ts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same in MPEG-TS, as a recorder or broadcast capture writes it: no index to seek by."""
    made = tmp_path_factory.mktemp("one_gop_ts") / "00001.MTS"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mpegts",
           str(made))  # fmt: skip
    return made


@pytest.fixture(scope="module")
def moving_ts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The moving pattern in half-second GOPs in MPEG-TS, as AVCHD and HDV cameras write it: a
    container that counts no pictures."""
    made = tmp_path_factory.mktemp("moving_ts") / "00000.MTS"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-c:v", "libx264", "-g", "12", "-pix_fmt", "yuv420p",
           "-f", "mpegts", str(made))  # fmt: skip
    return made


@pytest.fixture(scope="module")
def one_gop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of the same pattern in one GOP (x264's default is longer), as a screen recording."""
    made = tmp_path_factory.mktemp("one_gop") / "IMG_0002.MOV"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(made))
    return made


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any], decoder.Pictures | None]]:
    """Every read verification makes from here on: each ffmpeg or ffprobe run by its tool's name, each
    of the decoder's reads with its arguments and what it gave."""
    reads: list[tuple[str, dict[str, Any], decoder.Pictures | None]] = []
    run, read = subprocess.run, decoder.read

    def ran(*args: Any, **kwargs: Any) -> Any:
        reads.append((Path(args[0][0]).name.split("-")[0], {}, None))
        return run(*args, **kwargs)

    def decoded(*args: Any, **kwargs: Any) -> decoder.Pictures:
        given = read(*args, **kwargs)
        reads.append(("decoder", {"args": args, **kwargs}, given))
        return given

    monkeypatch.setattr(subprocess, "run", ran)
    monkeypatch.setattr(decoder, "read", decoded)
    return reads


def test_a_right_proxy_s_later_pictures_pass_and_a_short_clip_is_not_read_again(moving, tmp_path, monkeypatch):
    right = render(moving, tmp_path / "right.mov")
    checks = picture_checks(profile(), probe_afresh(str(moving)), probe_afresh(str(right)))
    assert [(c.name, c.actual, c.passed) for c in checks][-1] == ("picture_later", "the source's at 1.92 s", True)
    short = make_clip(tmp_path / "A001_C002.mov", size="320x180", frames=3, audio=())
    source, proxy = probe_afresh(str(short)), probe_afresh(str(render(short, tmp_path / "short.mov")))
    reads = _reads(monkeypatch)
    assert [c.name for c in picture_checks(profile(), source, proxy)] == [
        "picture_orientation",
        "picture_content",
        "picture_geometry",
    ]
    assert [name for name, _, _ in reads] == ["decoder", "decoder"]  # each first picture, nothing more


def test_a_one_gop_source_is_decoded_from_its_keyframe_to_its_pictures_at_one_second(one_gop, tmp_path, monkeypatch):
    source, proxy = probe_afresh(str(one_gop)), probe_afresh(str(render(one_gop, tmp_path / "one_gop.mov")))
    reads = _reads(monkeypatch)
    checks = picture_checks(profile(), source, proxy)
    # Its pictures at one second (sooner than two thirds of 3 s), decoded from its first, in one read
    # that opens it at its last keyframe before two thirds (its first picture): no other read asks.
    assert (checks[-1].name, checks[-1].actual, checks[-1].passed) == ("picture_later", "the source's at 1.00 s", True)
    assert [name for name, _, _ in reads] == ["decoder", "decoder", "decoder", "decoder"]
    assert (reads[2][1]["seek"], reads[2][1]["start"]) == (pytest.approx(2.0), pytest.approx(1.0))


def test_a_source_keyed_often_is_read_at_its_last_keyframe_before_two_thirds(moving, tmp_path, monkeypatch):
    # Half-second GOPs at 25 fps: keyframes every 12 pictures, 0.48 s; its last before 2 s at 1.92 s.
    source, proxy = probe_afresh(str(moving)), probe_afresh(str(render(moving, tmp_path / "moving.mov")))
    reads = _reads(monkeypatch)
    checks = picture_checks(profile(), source, proxy)
    assert (checks[-1].name, checks[-1].actual, checks[-1].passed) == ("picture_later", "the source's at 1.92 s", True)
    assert len(reads) == 4


def _as_ffmpeg_shows(clip: Path, before: str = "", *seek: str, count: int = 1) -> list[picture.Picture]:
    """The pictures ffmpeg's command line shows of `clip` (its display matrix applied), shrunk as the
    decoder shrinks them."""
    shrink = f"scale={picture.SIDE}:{picture.SIDE}:flags=area+accurate_rnd+full_chroma_int,format=rgb24"
    command = [require_tool("ffmpeg").path, "-v", "error", "-threads", "1", *seek, "-i", str(clip),
               "-vf", f"{before}{shrink}", "-frames:v", str(count), "-f", "rawvideo", "pipe:1"]  # fmt: skip
    made = subprocess.run(command, capture_output=True, check=True).stdout
    size = picture.SIDE * picture.SIDE * 3
    return [made[at : at + size] for at in range(0, len(made), size)]


@pytest.mark.parametrize("rotation", ["0", "90", "180", "270"])
@pytest.mark.parametrize("flip", [(), ("-display_hflip",)])
def test_the_decoder_shows_each_picture_as_ffmpeg_does(tmp_path, rotation, flip):
    """Each of the eight ways a display matrix turns or mirrors a picture, a colour matrix and range
    given, and a read from a time: the decoder's pictures are ffmpeg's."""
    plain = make_clip(tmp_path / "plain.mov", size="320x180", frames=50, audio=())
    clip = tmp_path / "IMG_0001.MOV"
    ffmpeg("-display_rotation", rotation, *flip, "-i", str(plain), "-c", "copy", str(clip))
    ours = picture._read(str(clip), {}, 1, 60)[1]
    assert len(ours) == 1 and picture._distance(ours[0], _as_ffmpeg_shows(clip)[0]) < 0.1
    if rotation == "90" and not flip:
        as_read = {"colorspace": "bt709", "range": "pc"}
        times, ours = picture._read(str(clip), as_read, 3, 60, seek=1.0, accurate=True)
        theirs = _as_ffmpeg_shows(clip, "setparams=colorspace=bt709:range=pc,", "-ss", "1.0", count=3)
        assert (
            1.0 <= times[0] < 1.0 + 1.001 / 24 and times[2] - times[0] == pytest.approx(2.002 / 24) and len(theirs) == 3
        )
        assert all(picture._distance(a, b) < 0.1 for a, b in zip(ours, theirs, strict=True))
        assert picture._distance(ours[0], _as_ffmpeg_shows(clip, "", "-ss", "1.0")[0]) > 1  # the colour was taken


@pytest.mark.parametrize(
    ("program", "said"),
    [
        ("sys.exit(3)", "the decoder stopped (exit code 3)"),
        ("os.kill(os.getpid(), signal.SIGSEGV)", "the decoder stopped (signal 11)"),  # a decoder crashed
        ("time.sleep(30)", "the decoder took too long and was stopped"),
        ("print('not an answer', flush=True); time.sleep(30)", "the decoder's answer could not be read"),
        # Less than a picture's bytes (16 x 16 x 3): a decoder a crafted file took over answers anything.
        (
            "sys.stdout.write(json.dumps({'times': [0], 'turn': [1, 0, 0, 1], 'size': 700}) + '\\n' + 'x' * 700);"
            " sys.stdout.flush(); time.sleep(30)",
            "the decoder's answer could not be read",
        ),
    ],
)
def test_a_decoder_that_crashes_or_hangs_fails_its_read_in_words_and_the_next_read_works(
    moving, monkeypatch, program, said
):
    """A file crafted to crash or hang FFmpeg's decoder stops the decoder's process, not the job's:
    its read fails in words (verification then fails in class C), and the next read starts another."""
    ended = subprocess.Popen(
        [sys.executable, "-c", f"import json, os, signal, sys, time; sys.stdin.readline(); {program}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    pool = decoder._Pool(most=1)
    pool._idle, pool._started = [(ended, time.monotonic())], 1
    monkeypatch.setattr(decoder, "_POOL", pool)
    with pytest.raises(decoder.DecoderError, match=re.escape(said)):
        decoder.read(str(moving), demuxer_options(), 1, 16, timeout=2)
    assert ended.poll() is not None and (pool._idle, pool._started) == ([], 0)
    assert len(decoder.read(str(moving), demuxer_options(), 1, 16).frames) == 1
    assert len(pool._idle) == pool._started == 1
    pool.close()


def test_what_a_library_prints_in_the_decoder_does_not_fall_into_its_answers(moving, monkeypatch):
    """FFmpeg's libraries and PyAV run in the decoder process: a line one of them printed on its
    output would have fallen between an answer and its pictures."""
    program = Path(decoder.__file__).with_name("decoder_process.py")
    printing = subprocess.Popen(
        [sys.executable, "-I", "-c", "import os, runpy, av; real = av.open; "
         "av.open = lambda *a, **k: (os.write(1, b'stray words\\n'), real(*a, **k))[1]; "
         f"runpy.run_path({str(program)!r}, run_name='__main__')"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    pool = decoder._Pool(most=1)
    pool._idle, pool._started = [(printing, time.monotonic())], 1
    monkeypatch.setattr(decoder, "_POOL", pool)
    given = decoder.read(str(moving), demuxer_options(), 2, 16)
    monkeypatch.undo()
    assert given == decoder.read(str(moving), demuxer_options(), 2, 16)
    pool.close()


def test_threads_that_read_at_once_share_as_many_decoders_as_there_are_cores(moving, monkeypatch):
    """Two clips are verified at once on two cores, and a third thread (the next clip's, once a
    render ends) started a third decoder, about 80 ms of CPU, to wait for a core."""
    from concurrent.futures import ThreadPoolExecutor

    pool = decoder._Pool(most=2)
    monkeypatch.setattr(decoder, "_POOL", pool)
    with ThreadPoolExecutor(6) as threads:
        given = list(threads.map(lambda _: decoder.read(str(moving), demuxer_options(), 2, 16), range(24)))
    assert all(len(read.frames) == 2 for read in given) and given[0] == given[-1]
    assert len(pool._idle) == pool._started <= 2
    pool.close()


def test_a_decoder_left_idle_ends_and_one_in_use_is_kept(moving, monkeypatch):
    """A watch folder, a web server or a farm worker that verified a clip and waits for its next held
    each of its decoders (50-60 MB after 1080p reads) until it ended, which a service never does."""
    pool = decoder._Pool(most=2)
    monkeypatch.setattr(decoder, "_POOL", pool)
    monkeypatch.setattr(decoder, "IDLE_SECONDS", 0.6)
    used = set()
    for _ in range(5):  # reads closer together than that: one decoder serves them all
        decoder.read(str(moving), demuxer_options(), 1, 16)
        used.update(process.pid for process, _ in pool._idle)
        time.sleep(0.2)
    assert len(used) == 1
    ((process, _),) = pool._idle
    deadline = time.monotonic() + 10
    while (pool._idle or process.poll() is None) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (pool._idle, pool._started) == ([], 0) and process.poll() is not None
    assert len(decoder.read(str(moving), demuxer_options(), 1, 16).frames) == 1  # the next read starts another
    assert pool._started == 1
    pool.close()


def test_a_warmed_decoder_answers_the_next_read_and_one_idle_is_enough(moving, monkeypatch):
    pool = decoder._Pool(most=2)
    monkeypatch.setattr(decoder, "_POOL", pool)
    decoder.warm()
    decoder.warm()  # one is idle (still starting): no other
    ((process, _),) = pool._idle
    assert pool._started == 1
    assert len(decoder.read(str(moving), demuxer_options(), 1, 16).frames) == 1
    assert [idle for idle, _ in pool._idle] == [process]
    pool.close()


def test_a_job_s_decoder_starts_while_its_first_clip_renders(tmp_path, proxx_home, monkeypatch):
    """A job's decoder started when verification asked for its first picture, after the render:
    0.1 s of a `proxx run` of a one-second clip that takes a second."""
    from proxx_ffmpeg.engine import FFmpegEngine

    pool = decoder._Pool(most=2)
    monkeypatch.setattr(decoder, "_POOL", pool)
    render, started = FFmpegEngine.render, []

    def watched(self, task):  # type: ignore[no-untyped-def]
        started.append([process.pid for process, _ in pool._idle])
        return render(self, task)

    monkeypatch.setattr(FFmpegEngine, "render", watched)
    out = tmp_path / "out"
    out.mkdir()
    clip = make_clip(tmp_path / "CARD" / "A001_C001.mov", size="320x180", frames=3)
    proxx = Proxx.open()
    assert proxx.run_job(proxx.create_job(INTENT, [clip], out).job_id).state == COMPLETED  # type: ignore[union-attr]
    (before,) = started
    assert len(before) == 1 and [process.pid for process, _ in pool._idle] == before  # it read the pictures
    pool.close()


def test_a_decoder_kept_between_reads_keeps_no_memory_of_them(tmp_path):
    """A decoder process serves every read of a job, or of a watch folder's day: a 1080p clip's reads
    left 33 MB in it each, up to 345 MB."""
    clip = make_clip(tmp_path / "A001_C001.mov", size="1280x720", frames=2, video_codec="prores", audio=())

    def resident() -> int:
        ((process, _),) = decoder._POOL._idle
        status = Path(f"/proc/{process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))  # KiB

    decoder._POOL.close()
    for _ in range(3):
        decoder.read(file_url(str(clip)), demuxer_options(), 1, 64)
    before = resident()
    for _ in range(12):
        decoder.read(file_url(str(clip)), demuxer_options(), 1, 64)
    assert resident() - before < 8 * 1024, (before, resident())


def test_a_damaged_picture_is_left_out_as_ffmpeg_leaves_it_out(tmp_path):
    """A camera file with a damaged picture is rendered by the engine, which leaves the picture out
    and goes on; the decoder reads the source's pictures around it as ffmpeg's command line does,
    where it had failed the read, and with it the clip's verification. A proxy's must decode whole."""
    clip = tmp_path / "A001_C001.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25:d=0.2", "-c:v", "dnxhd", "-b:v", "36M", "-pix_fmt",
           "yuv422p", str(clip))  # fmt: skip
    command = [require_tool("ffprobe").path, "-v", "error", "-select_streams", "v:0", "-show_entries",
               "packet=pos,size", "-of", "csv=p=0", str(clip)]  # fmt: skip
    position, size = (
        int(value) for value in subprocess.run(command, capture_output=True, text=True).stdout.split()[1].split(",")
    )
    damaged = bytearray(clip.read_bytes())
    damaged[position + 8 : position + size] = bytes(n * 37 % 256 for n in range(size - 8))  # its header kept
    clip.write_bytes(bytes(damaged))
    shown = subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-i", str(clip), "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
    )
    times = [int(line.split(",")[2]) for line in shown.stdout.splitlines() if not line.startswith("#")]  # in 1/25 s
    read = decoder.read(file_url(str(clip)), demuxer_options(), 5, 16, leave_out_damaged=True)
    assert "Invalid data" in shown.stderr and times == [0, 2, 3, 4]  # ffmpeg left it out and went on
    assert [round(time * 25) for time in read.times] == times
    with pytest.raises(decoder.DecoderError, match="Invalid data"):  # a proxy, which proxx made, must decode whole
        decoder.read(file_url(str(clip)), demuxer_options(), 5, 16)


def test_the_decoder_opens_media_files_only(moving, tmp_path):
    """A playlist or concat script named like a clip never opens the files it names."""
    (tmp_path / "named.mov").write_bytes(moving.read_bytes())
    script = tmp_path / "A001_C001.mov"
    script.write_text("ffconcat version 1.0\nfile 'named.mov'\n")
    with pytest.raises(decoder.DecoderError):
        decoder.read(file_url(str(script)), demuxer_options(), 1, 16)
    # The test's own check: without the list of media demuxers, the script opens the file it names.
    assert len(decoder.read(file_url(str(script)), {"protocol_whitelist": "file"}, 1, 16).frames) == 1


@pytest.mark.parametrize(
    ("source", "change", "said"),
    [
        ("moving", "trim=end_frame=1,loop=loop=74:size=1", "of 255 from the source's at 1.92 s"),  # frozen after its first
        ("moving", "drawbox=c=black:t=fill:enable=gte(t\\,1)", "of 255 from the source's at 1.92 s"),  # black after a second
        ("moving", "[a];movie=OTHER[o];[a][o]overlay=enable=gte(n\\,1)", "of 255 from the source's at 1.92 s"),  # another clip
        # a picture dropped at 0.8 s and one repeated at 2.4 s: as many pictures, a frame off between
        ("moving", "select=not(eq(n\\,20)),setpts=N/25/TB,loop=loop=1:size=1:start=59,setpts=N/25/TB",
         "the source's picture 1 frame later at 1.92 s"),
        # every picture a frame late: the first repeated, the last dropped
        ("moving", "tpad=start=1:start_mode=clone,trim=end_frame=75", "the source's picture 1 frame earlier at 1.96 s"),
        # a source of one GOP: read at one second, decoded from its first picture
        ("one_gop", "trim=end_frame=1,loop=loop=74:size=1", "of 255 from the source's at 1.00 s"),
        ("one_gop", "[a];movie=OTHER[o];[a][o]overlay=enable=gte(n\\,1)", "of 255 from the source's at 1.00 s"),
        ("one_gop", "tpad=start=1:start_mode=clone,trim=end_frame=75", "the source's picture 1 frame earlier at 1.04 s"),
        # an MPEG-TS file of one GOP, which ffmpeg opens past its only keyframe: read from its start
        ("one_gop_ts", "trim=end_frame=1,loop=loop=74:size=1", "of 255 from the source's at 1.0"),
        ("one_gop_ts", "[a];movie=OTHER[o];[a][o]overlay=enable=gte(n\\,1)", "of 255 from the source's at 1.0"),
        # MPEG-TS counts no pictures: a frame off was taken for a neighbour's picture, and verified
        # (a seek in a file without an index lands at a keyframe near the time, not always before it)
        ("one_gop_ts", "tpad=start=1:start_mode=clone,trim=end_frame=75", "the source's picture 1 frame earlier at 1.0"),
        ("moving_ts", "tpad=start=1:start_mode=clone,trim=end_frame=75", "the source's picture 1 frame earlier at "),
        ("moving_ts", "select=not(eq(n\\,20)),setpts=N/25/TB,loop=loop=1:size=1:start=70,setpts=N/25/TB",
         "the source's picture 1 frame later at "),
    ],
)  # fmt: skip
def test_a_job_whose_proxy_is_wrong_after_its_first_picture_fails_in_class_c(
    request, tmp_path, proxx_home, monkeypatch, source, change, said
):
    """Only the first picture was compared: a proxy frozen after it, black after a second, carrying
    another clip's pictures after a right first one, or with its pictures a frame off its source's
    (one dropped, another repeated, the count kept) had every stated fact right and was verified;
    then, of a source of one GOP (x264's default, a screen recording), still."""
    clip = request.getfixturevalue(source)
    out, other = tmp_path / "out", tmp_path / "other.mov"
    out.mkdir()
    ffmpeg("-f", "lavfi", "-i", "smptebars=s=320x180:r=25:d=3", "-c:v", "libx264", str(other))
    glue = "" if change.startswith("[") else ","
    extra = change.replace("OTHER", str(other))
    broken = render_filtered(tmp_path, glue + extra)
    result = run_wrapped(monkeypatch, broken, INTENT, [clip], out)
    assert result.state == FAILED and result.failure is not None, result
    assert result.failure.failure_class == "C" and "later picture" in result.failure.message
    assert said in result.failure.message, result.failure.message
    assert not (out / f"{clip.stem}.mov").exists()


@pytest.mark.parametrize(
    ("container", "gap"),
    [
        ("mpegts", ""),  # counts no pictures
        ("mpegts", "select=not(eq(n\\,57))"),  # a capture that lost a picture where the later ones are read
        ("mpegts", "select=not(eq(n\\,60))"),
        ("mov", "select=not(eq(n\\,47))"),
    ],
)
def test_a_right_proxy_of_a_source_that_counts_no_pictures_or_lost_one_verifies(tmp_path, proxx_home, container, gap):
    """Each later proxy picture is compared with the source's one for one wherever the source's
    pictures there are a frame apart; where the source lost one, the proxy repeats a neighbour to keep
    its rate (either one) and is compared with the pictures around it."""
    source = tmp_path / "CARD" / f"00000.{'MTS' if container == 'mpegts' else 'MOV'}"
    source.parent.mkdir()
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", *(["-vf", gap] if gap else []), "-fps_mode", "passthrough",
           "-c:v", "libx264", "-g", "12", "-pix_fmt", "yuv420p", "-f", container, str(source))  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [source], out).job_id)
    assert result is not None and result.state == COMPLETED, result
    (later,) = [c for c in result.clips[0].checks if c.name == "picture_later"]
    assert later.passed, later


@pytest.mark.parametrize(
    ("change", "framed"),
    [
        ("scale=640:346,pad=640:360:0:7", "its height framed otherwise"),  # a 1.85 picture letterboxed in 16:9
        ("crop=iw*0.97:ih*0.97,scale=640:360", "framed otherwise"),  # cropped by 3 %: zoomed in
        ("crop=636:360:0:0,pad=640:360:4:0", "its width framed otherwise"),  # moved 4 pixels right
    ],
)
def test_a_proxy_framed_otherwise_inside_the_right_frame_fails(tmp_path, change, framed):
    """A proxy of the right size and aspect whose picture is letterboxed, cropped or moved inside its
    frame by a few pixels read within 6 of 255 of its source in the first pictures' 16 x 16
    comparison and was verified; an editor sees bars, or a picture cut at its edges."""
    plain = make_clip(tmp_path / "A001_C001.mov", size="640x360", frames=3, audio=())
    command = build_args(require_tool("ffmpeg").path, probe_afresh(str(plain)), str(tmp_path / "p.mov"), profile())
    command[command.index("-vf") + 1] += f",{change},setsar=1"
    subprocess.run(command, check=True, capture_output=True)
    checks = {
        c.name: c for c in picture_checks(profile(), probe_afresh(str(plain)), probe_afresh(str(tmp_path / "p.mov")))
    }
    assert checks["picture_content"].passed, checks  # alike at 16 x 16
    assert not checks["picture_geometry"].passed and framed in checks["picture_geometry"].actual, checks


def test_a_right_proxy_too_small_to_tell_its_framing_is_not_judged_on_it(tmp_path):
    """A card's 160x90 clip made 80x44 by a half-size intent: its pictures enlarged to the framing
    read's side blur more than a crop moves them (1.7 off, the limit 1.0), and the right proxy
    failed verification. Framing is judged from twice the read's side up."""
    small = make_clip(tmp_path / "A001_C001.mov", size="160x90", frames=6)
    h264 = profile("proxy_h264_low")
    command = build_args(require_tool("ffmpeg").path, probe_afresh(str(small)), str(tmp_path / "p.mp4"), h264)
    subprocess.run(command, check=True, capture_output=True)
    checks = picture_checks(h264, probe_afresh(str(small)), probe_afresh(str(tmp_path / "p.mp4")))
    assert all(c.passed for c in checks) and "picture_geometry" not in {c.name for c in checks}, checks


def test_a_job_whose_renderer_letterboxed_the_picture_fails_in_class_c(tmp_path, proxx_home, monkeypatch):
    out, card = tmp_path / "out", tmp_path / "CARD"
    out.mkdir()
    clip = make_clip(card / "A001_C001.mov", size="640x360", frames=3)
    broken = render_filtered(tmp_path, ",scale=640:346,pad=640:360:0:7,setsar=1")
    result = run_wrapped(monkeypatch, broken, INTENT, [clip], out)
    assert result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C" and "picture framing" in result.failure.message, result.failure.message
    assert not (out / "A001_C001.mov").exists()


def test_a_slate_in_place_of_a_screen_recording_whose_colours_are_converted_fails(tmp_path, proxx_home, monkeypatch):
    """A screen recording's sRGB curve is converted to BT.709's for ProRes: its first picture was not
    compared at all, and a proxy that was a grey slate verified. Converted, a right proxy reads 5 of
    255 off its source; a slate, 80."""
    from tests.colour_media import COLOUR_MEDIA

    out = tmp_path / "out"
    out.mkdir()
    screen = COLOUR_MEDIA["srgb_screen"](tmp_path)
    result = run_wrapped(monkeypatch, render_filtered(tmp_path, ",drawbox=c=gray:t=fill"), INTENT, [screen], out)
    assert result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C" and "picture content" in result.failure.message, result.failure.message
    again = Proxx.open()
    assert again.run_job(again.create_job(INTENT, [screen], out).job_id).state == COMPLETED  # type: ignore[union-attr]
