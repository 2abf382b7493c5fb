"""Verification listens to a source's tracks: a proxy whose tracks come in another order (the boom
where a lavalier should be), with one left silent (its only one too), a stereo track's sides
swapped, another clip's sound, its sound delayed against its pictures, cut short or played at
another speed had every stated fact right and was verified; now it fails, and a right proxy (copied
or coded to AAC) passes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.media import decoder
from proxx.media.allowlist import demuxer_options
from proxx.media.probe import file_url, probe_afresh
from proxx.media.tools import require_tool
from proxx.store import COMPLETED, FAILED
from proxx.testing import make_clip
from proxx.verify import sound
from proxx.verify.sound import sound_checks
from tests.wrapped_ffmpeg import real_ffmpeg, render_rewritten, run_wrapped

INTENT = "HD Editorial LT"
# Four mono tracks a camera might record: two voices that come and go at their own pace, a room's
# noise, and a silent spare track.
TRACKS = (
    "sine=f=200:d=2,volume='if(lt(mod(t,0.4),0.2),1,0.1)':eval=frame",
    "sine=f=400:d=2,volume='if(lt(mod(t,0.3),0.15),1,0.1)':eval=frame",
    "anoisesrc=d=2:a=0.3:r=48000",
    "anullsrc=d=2:r=48000:cl=mono",
)


def ffmpeg(*args: str) -> None:
    subprocess.run([real_ffmpeg(), "-v", "error", "-y", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sound")
    made = folder / "C0001.MOV"
    inputs = [arg for track in TRACKS for arg in ("-f", "lavfi", "-i", track)]
    maps = [arg for n in range(len(TRACKS) + 1) for arg in ("-map", str(n))]
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2", *inputs, *maps, "-c:v", "libx264", "-c:a", "pcm_s24le",
           "-shortest", str(made))  # fmt: skip
    return made


def checks(source: Path, output: Path, kind: str = ".sound") -> list[tuple[str, str, bool]]:
    """The `kind` checks ("audio[N].sound" or ".sync") of `output` against `source`."""
    made = sound_checks(probe_afresh(str(source)), probe_afresh(str(output)))
    return [(c.name, c.actual, c.passed) for c in made if c.name.endswith(kind)]


def test_the_tracks_in_their_order_pass_copied_or_coded_to_aac(source, tmp_path):
    copied, coded = tmp_path / "copied.mov", tmp_path / "coded.mp4"
    ffmpeg("-i", str(source), "-map", "0", "-c", "copy", str(copied))
    ffmpeg("-i", str(source), "-map", "0", "-c:v", "copy", "-c:a", "aac", str(coded))
    for output in (copied, coded):
        assert all(passed for *_, passed in checks(source, output, "")), checks(source, output, "")
        assert len(checks(source, output)) == len(checks(source, output, ".sync")) == len(TRACKS)


def test_tracks_in_another_order_fail_naming_the_track_each_sounds_like(source, tmp_path):
    swapped = tmp_path / "swapped.mov"
    ffmpeg("-i", str(source), "-map", "0:v", "-map", "0:a:1", "-map", "0:a:0", "-map", "0:a:2", "-map", "0:a:3",
           "-c", "copy", str(swapped))  # fmt: skip
    assert checks(source, swapped) == [
        ("audio[0].sound", "source track 2's", False),
        ("audio[1].sound", "source track 1's", False),
        ("audio[2].sound", "source track 3's", True),
        ("audio[3].sound", "source track 4's", True),  # silent in the source too: nothing to tell it by
    ]


def test_a_track_left_silent_fails(source, tmp_path):
    silent = tmp_path / "silent.mov"
    ffmpeg("-i", str(source), "-map", "0", "-c", "copy", "-c:a:0", "pcm_s24le", "-filter:a:0", "volume=0", str(silent))
    assert checks(source, silent)[0] == ("audio[0].sound", "silent", False)


@pytest.mark.parametrize("codec", ["pcm_s24le", "aac", "mp2"])
@pytest.mark.parametrize("seek", [0.0, 0.7371])
def test_the_decoder_hears_each_track_as_ffmpeg_does(source, tmp_path, codec, seek):
    """What verification compares is what ffmpeg hears: each track from a time, to the sample (as
    decoding from the file's start and leaving out the samples before it hears it), made 8 kHz, its
    loudness in 10 ms windows; in a container whose stream states another sample format than its
    decoder gives (MPEG-1 Layer II in MPEG-TS, as HDV cameras write) too."""
    clip = tmp_path / ("C0001.MTS" if codec == "mp2" else "C0001.MOV")
    ffmpeg("-i", str(source), "-map", "0", "-c:v", "copy", "-c:a", codec, str(clip))
    tracks = [(n, 1) for n in range(len(TRACKS))]
    ours = decoder.sound(file_url(str(clip)), demuxer_options(), tracks, sound.RATE, 1.0, seek=seek)
    for n, heard in enumerate(ours):
        # ffmpeg's command line counts from the file's start: its first timestamp is 0.
        made = f"atrim=start={seek},aformat=sample_fmts=s16:sample_rates={sound.RATE}:channel_layouts=mono,atrim=duration=1"
        command = [require_tool("ffmpeg").path, "-v", "error", "-i", str(clip), "-filter_complex",
                   f"[0:a:{n}]{made}", "-f", "s16le", "pipe:1"]  # fmt: skip
        theirs = subprocess.run(command, capture_output=True, check=True).stdout
        assert len(heard) == len(theirs) == 2 * sound.RATE, n
        (envelope,), (expected,) = (sound._channel_envelopes(samples, 1, sound.RATE) for samples in (heard, theirs))
        # Within 0.015 of full scale a window, where a channel is silent under 3 % of its source's level
        # and a delay is told in whole windows: MPEG-TS counts time in 90 kHz ticks, 1.875 to a sample,
        # and a cut a sample apart moves a noise window's loudness by 0.005-0.009 (15 runs). The voices
        # follow ffmpeg's closely (noise, nearly steady, moves by as little, which its correlation
        # magnifies).
        assert max(abs(a - b) for a, b in zip(envelope, expected, strict=True)) < 0.015, n
        assert sound._correlation(envelope, expected) > 0.99 or sound._spread(expected) < 5 * sound.STEADY, n


@pytest.mark.parametrize(
    ("name", "made"),
    [
        ("MOV001.MOD", ["-c:v", "mpeg2video", "-b:v", "4M", "-c:a", "mp2", "-f", "vob"]),  # an SD camcorder's MPEG-PS
        ("TAPE01.dv", ["-c:v", "dvvideo", "-pix_fmt", "yuv411p", "-c:a", "pcm_s16le", "-f", "dv"]),
        ("MVI_0001.AVI", ["-c:v", "mjpeg", "-c:a", "pcm_s16le"]),
    ],
)
def test_the_sound_before_a_long_clip_s_end_is_heard_from_its_time_to_the_sample(tmp_path, name, made):
    """Opened at a time, these files give sound from before or after it (MPEG-PS: 130 ms after, where
    its pictures are reordered; DV and AVI: up to a frame either way, where ffmpeg's `-ss` takes it as
    it comes): what the decoder hears from there is what decoding from the file's start hears."""
    clip = tmp_path / name
    voices = "aevalsrc='sin(2*PI*440*t)*(0.5+0.5*sin(2*PI*1.3*t))|sin(2*PI*660*t)*gt(mod(t,0.5),0.25)':s=48000:d=6"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=720x480:r=30000/1001:d=6", "-f", "lavfi", "-i", voices, *made, str(clip))
    for seek in (0.01, 3.73, 3.76):
        (heard,) = decoder.sound(
            file_url(str(clip)), demuxer_options(), [(0, 2)], sound.RATE, 2.0, seek=seek, leave_out_damaged=True
        )
        # ffmpeg's command line counts from the file's start: its first timestamp is 0.
        made_from_start = f"atrim=start={seek},aformat=sample_fmts=s16:sample_rates={sound.RATE}:channel_layouts=stereo"
        command = [require_tool("ffmpeg").path, "-v", "error", "-i", str(clip), "-filter_complex",
                   f"[0:a:0]{made_from_start},atrim=duration=2", "-f", "s16le", "pipe:1"]  # fmt: skip
        expected = subprocess.run(command, capture_output=True, check=True).stdout
        frames = min(len(heard), len(expected)) // 4
        assert frames >= 2 * sound.RATE - 8, (seek, len(heard), len(expected))
        ours, theirs = (sound._channel_envelopes(samples, 2, frames) for samples in (heard, expected))
        assert max(abs(a - b) for x, y in zip(ours, theirs, strict=True) for a, b in zip(x, y, strict=True)) < 0.02, (
            seek
        )


def test_a_damaged_packet_is_left_out_of_the_sound_heard_as_ffmpeg_leaves_it_out(source, tmp_path):
    """A camera file with a damaged sound packet is rendered by the engine, which leaves the packet
    out and goes on; verification hears the rest of the source as ffmpeg does, and does not fail the
    clip for it. A proxy with a damaged packet is not heard past it."""
    clip = tmp_path / "C0002.MOV"
    ffmpeg("-i", str(source), "-map", "0:v", "-map", "0:a:0", "-c:v", "copy", "-c:a", "aac", str(clip))
    command = [require_tool("ffprobe").path, "-v", "error", "-select_streams", "a:0", "-show_entries",
               "packet=pos,size", "-of", "csv=p=0", str(clip)]  # fmt: skip
    packets = [line.split(",") for line in subprocess.run(command, capture_output=True, text=True).stdout.split()]
    size, position = (int(value) for value in packets[len(packets) // 3])
    damaged = bytearray(clip.read_bytes())
    damaged[position : position + size] = b"\xff" * size
    clip.write_bytes(bytes(damaged))
    (heard,) = decoder.sound(file_url(str(clip)), demuxer_options(), [(0, 1)], sound.RATE, 1.5, leave_out_damaged=True)
    assert len(heard) == 2 * round(1.5 * sound.RATE)
    with pytest.raises(decoder.DecoderError):  # a proxy, which proxx made, must decode whole
        decoder.sound(file_url(str(clip)), demuxer_options(), [(0, 1)], sound.RATE, 1.5)
    made = tmp_path / "made.mov"
    ffmpeg("-i", str(clip), "-map", "0", "-c:v", "copy", "-c:a", "pcm_s24le", str(made))  # the engine goes on too
    assert [(c.name, c.passed) for c in sound_checks(probe_afresh(str(clip)), probe_afresh(str(made)))] == [
        ("audio[0].sound", True),
        ("audio[0].sync", True),
    ]


def test_a_clip_whose_metadata_is_not_utf_8_is_read(tmp_path, proxx_home):
    """A title or comment a tool wrote in Latin-1: ffmpeg passes it on as it finds it; the decoder
    reads the pictures and the sound whatever the metadata's encoding."""
    clip = make_clip(tmp_path / "card" / "A001_C001.mov", size="160x90", frames=48)
    tagged = tmp_path / "card" / "A001_C002.mov"
    subprocess.run([real_ffmpeg(), "-v", "error", "-i", str(clip), "-map", "0", "-c", "copy",
                    "-metadata", b"title=Caf\xe9 \xe0 la plage", str(tagged)], check=True)  # fmt: skip
    clip.unlink()
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [tagged], out).job_id)
    assert result is not None and result.state == COMPLETED, result and result.failure


def test_a_source_without_sound_costs_no_read(tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "A001_C001.mov", size="160x90", frames=3, audio=())
    source, output = probe_afresh(str(clip)), probe_afresh(str(clip))
    monkeypatch.setattr(decoder, "sound", lambda *a, **k: pytest.fail("the sound was read"))
    assert sound_checks(source, output) == []


def test_a_job_whose_renderer_silenced_a_track_fails_in_class_c(source, tmp_path, proxx_home, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    silenced = render_rewritten(tmp_path, "-c:a:0 pcm_s24le -filter:a:0 volume=0")  # its first track silent
    result = run_wrapped(monkeypatch, silenced, INTENT, [source], out)
    assert result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C" and "silent" in result.failure.message
    again = Proxx.open()
    assert again.run_job(again.create_job(INTENT, [source], out).job_id).state == COMPLETED  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two stereo tracks: two voices, one a side; a room and a silent side."""
    made = tmp_path_factory.mktemp("pairs") / "C0002.MOV"
    inputs = [arg for track in TRACKS for arg in ("-f", "lavfi", "-i", track)]
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2", *inputs, "-filter_complex",
           "[1:a][2:a]join=inputs=2:channel_layout=stereo[a];[3:a][4:a]join=inputs=2:channel_layout=stereo[b]",
           "-map", "0", "-map", "[a]", "-map", "[b]", "-c:v", "libx264", "-c:a", "pcm_s24le", "-shortest",
           str(made))  # fmt: skip
    return made


@pytest.mark.parametrize(
    ("change", "heard"),
    [
        ("pan=stereo|c0=c1|c1=c0", "channel 1: source track 1's channel 2"),  # the sides swapped
        ("pan=stereo|c0=c0|c1=0*c1", "channel 2: silent"),  # one side left silent
    ],
)
def test_a_stereo_track_with_its_sides_swapped_or_one_silent_fails(pairs, tmp_path, change, heard):
    """Each track was heard as one mono mix: its two sides swapped, or one of them silent, sounded the
    same (or only quieter), and the proxy was verified. Each channel must sound like its own."""
    right, wrong = tmp_path / "right.mp4", tmp_path / "wrong.mov"
    ffmpeg("-i", str(pairs), "-map", "0", "-c:v", "copy", "-c:a", "aac", str(right))
    assert [passed for *_, passed in checks(pairs, right)] == [True, True], checks(pairs, right)
    ffmpeg("-i", str(pairs), "-map", "0", "-c", "copy", "-c:a:0", "pcm_s24le", "-filter:a:0", change, str(wrong))
    assert checks(pairs, wrong) == [("audio[0].sound", heard, False), ("audio[1].sound", "source track 2's", True)]


@pytest.mark.parametrize(
    ("source_codec", "bits"), [("pcm_s16le", 16), ("pcm_s24le", 24), ("pcm_s32le", 24), ("aac", 16)]
)
def test_pcm_is_written_at_the_depth_the_target_states_and_verification_checks(
    tmp_path: Path, source_codec: str, bits: int
) -> None:
    """An engine writing PCM reads its depth from `proxy_target` (`AudioTarget.bits`), the very depth
    verification asks: one PCM stream that deep passes, one shallower fails. Before, the target gave
    no depth and the docs none either: a studio engine writing 16-bit PCM of a 24-bit source failed
    verification with "PCM of at least 24 bits"."""
    from proxx.plugin import CanonicalProfile, probe, proxy_target
    from proxx.verify.checks import verify_output

    profile = CanonicalProfile(
        id="studio_pcm", engine="studio", codec="prores_proxy", container="mov", resolution="source", audio="pcm"
    )
    source = probe(str(make_clip(tmp_path / "A001.mov", frames=6, audio_codec=source_codec)))
    (audio,) = proxy_target(profile, source).audio
    assert audio.bits == bits
    for written, passes in ((f"pcm_s{bits}le", True), ("pcm_u8" if bits == 16 else "pcm_s16le", False)):
        output = probe(str(make_clip(tmp_path / f"{written}.mov", frames=6, audio_codec=written)))
        (check,) = [c for c in verify_output(profile, source, output) if c.name == "audio[0].codec"]
        assert check.passed is passes, check


# Two voices that come and go at their own uneven pace, one a side of a single stereo track: what an
# interview's camera records with a lavalier on each input.
VOICES = (
    "sine=f=200:d=4,volume='if(lt(mod(t*t,0.7),0.3),1,0.1)':eval=frame",
    "sine=f=400:d=4,volume='if(lt(mod(t*t*1.3+t,0.5),0.2),1,0.1)':eval=frame",
)


@pytest.fixture(scope="module")
def voiced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four seconds of pictures with one stereo track, a voice a side."""
    made = tmp_path_factory.mktemp("voiced") / "C0003.MOV"
    inputs = [arg for voice in VOICES for arg in ("-f", "lavfi", "-i", voice)]
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=4", *inputs, "-filter_complex",
           "[1:a][2:a]join=inputs=2:channel_layout=stereo[a]", "-map", "0", "-map", "[a]", "-c:v", "libx264",
           "-c:a", "pcm_s24le", "-ar", "48000", "-timecode", "01:00:00:00", str(made))  # fmt: skip
    return made


@pytest.mark.parametrize(
    ("change", "heard"),
    [
        ("volume=0", "channel 1: silent"),  # the only track silent
        ("pan=stereo|c0=c1|c1=c0", "channel 1: source track 1's channel 2"),  # its sides swapped
    ],
)
def test_the_only_track_left_silent_or_with_its_sides_swapped_fails(voiced, tmp_path, change, heard):
    """A source of one track was not listened to: its proxy with that track silent, or with its two
    sides swapped, was verified."""
    right, wrong = tmp_path / "right.mp4", tmp_path / "wrong.mov"
    ffmpeg("-i", str(voiced), "-map", "0:v", "-map", "0:a", "-c:v", "copy", "-c:a", "aac", str(right))
    assert all(passed for *_, passed in checks(voiced, right, "")), checks(voiced, right, "")
    ffmpeg("-i", str(voiced), "-map", "0", "-c:v", "copy", "-c:a", "pcm_s24le", "-af", change, str(wrong))
    assert checks(voiced, wrong)[0] == ("audio[0].sound", heard, False)


def test_a_job_whose_renderer_silenced_the_only_track_fails_in_class_c(voiced, tmp_path, proxx_home, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    silenced = render_rewritten(tmp_path, "-c:a pcm_s24le -af volume=0")  # its track silent
    result = run_wrapped(monkeypatch, silenced, INTENT, [voiced], out)
    assert result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C" and "silent" in result.failure.message
    assert not (out / "C0003.mov").exists()
    again = Proxx.open()
    assert again.run_job(again.create_job(INTENT, [voiced], out).job_id).state == COMPLETED  # type: ignore[union-attr]


def test_another_clip_s_sound_fails(voiced, tmp_path):
    """Two clips of an interview, same format and length: a renderer that wrote one's sound under the
    other's pictures made a proxy whose every stated fact is right."""
    other, wrong = tmp_path / "C0004.MOV", tmp_path / "wrong.mov"
    inputs = [arg for voice in VOICES for arg in ("-f", "lavfi", "-i", voice.replace("t*t", "(4-t)*(4-t)"))]
    ffmpeg(*inputs, "-filter_complex", "[0:a][1:a]join=inputs=2:channel_layout=stereo[a]", "-map", "[a]",
           "-c:a", "pcm_s24le", "-ar", "48000", str(other))  # fmt: skip
    ffmpeg("-i", str(voiced), "-i", str(other), "-map", "0:v", "-map", "1:a", "-c", "copy", str(wrong))
    (name, heard, passed), *_ = checks(voiced, wrong)
    assert (name, passed) == ("audio[0].sound", False) and "another sound than the source's" in heard, heard


@pytest.mark.parametrize(
    ("change", "heard"),
    [
        ("adelay=120:all=1,atrim=duration=4", "120 ms late at the start"),  # delayed inside its stream, cut to length
        ("atrim=start=0.08,asetpts=PTS-STARTPTS,apad=whole_dur=4", "80 ms early at the start"),
        ("adelay=30:all=1,atrim=duration=4", None),  # within a frame (40 ms at 25 fps)
    ],
)
def test_sound_out_of_step_with_the_pictures_fails(voiced, tmp_path, change, heard):
    """Sound delayed inside its stream, or advanced, keeps its stated start, length and every other
    fact: an editor sees lips move out of step with their words. Within a frame it passes."""
    wrong = tmp_path / "wrong.mov"
    ffmpeg("-i", str(voiced), "-map", "0", "-c:v", "copy", "-c:a", "pcm_s24le", "-af", change, str(wrong))
    expected = (
        [("audio[0].sync", heard, False)]
        if heard
        else [("audio[0].sync", "in step with the source's (within 40 ms)", True)]
    )
    assert checks(voiced, wrong, ".sync") == expected
    assert checks(voiced, wrong)[0][2], checks(voiced, wrong)  # its sound is the source's, only late


def test_a_job_whose_renderer_delayed_the_sound_fails_in_class_c(voiced, tmp_path, proxx_home, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    # its sound delayed by 0.2 s and cut to its length
    delayed = render_rewritten(tmp_path, "-c:a pcm_s24le -af adelay=200:all=1,atrim=duration=4")
    result = run_wrapped(monkeypatch, delayed, INTENT, [voiced], out)
    assert result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C" and "200 ms late" in result.failure.message, result.failure.message
    assert not (out / "C0003.mov").exists()


@pytest.mark.parametrize(
    ("change", "heard", "synced"),
    [
        # silent from 2.5 s on, its length kept
        ("volume=0:enable='gte(t,2.5)'", "channel 1: silent for", None),
        # played 2 % slower and trimmed to its length: 40 ms late by 2 s, 75 ms by 3.75 s
        ("asetrate=47040,aresample=48000,atrim=duration=4", None, "before the end"),
    ],
)
def test_sound_cut_short_or_played_at_another_speed_fails(voiced, tmp_path, change, heard, synced):
    """The first two seconds were all that was heard: sound silenced after them, or slowed and
    trimmed to length (its drift small at first), passed. A clip longer than that is also heard in
    the seconds before its end."""
    wrong = tmp_path / "wrong.mov"
    ffmpeg("-i", str(voiced), "-map", "0", "-c:v", "copy", "-c:a", "pcm_s24le", "-af", change, str(wrong))
    (_, sound, sound_passed), (_, sync, sync_passed) = checks(voiced, wrong, "")
    if heard:
        assert not sound_passed and sound.startswith(heard) and sound.endswith("s before the end"), sound
    if synced:  # late, or so far from its source's that it is not heard as it
        wrong = [actual for actual, passed in ((sound, sound_passed), (sync, sync_passed)) if not passed]
        assert wrong and synced in wrong[0], (sound, sync)
