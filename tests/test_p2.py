"""A P2 card's clip: its camera records the pictures in CONTENTS/VIDEO/<clip>.MXF and each sound
channel in CONTENTS/AUDIO/<clip><NN>.MXF (MXF OP-Atom, one essence a file). Editing systems join
them into one clip; its proxy holds the pictures and every channel, verified against the sound files.
Proxied from the pictures' file alone it was silent, and verified."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.media.files import pictures_of, separate_sound
from proxx.media.tools import require_tool
from proxx.store import COMPLETED, FAILED

INTENT = "HD Editorial LT"
# A channel each: a tone louder and softer in a rhythm of its own, told apart by the sound check
# (which compares loudness over time: a steady tone, or one rhythm on every channel, is not).
RHYTHMS = (0.4, 0.26, 0.62)


def make_p2_clip(card: Path, channels: int, case: str = "upper", name: str = "0001AB") -> Path:
    """A clip as a P2 camera records it, `channels` sound files of one mono channel each."""

    def named(text: str) -> str:
        return text.upper() if case == "upper" else text.lower()

    ffmpeg = [require_tool("ffmpeg").path, "-v", "error", "-nostdin"]
    video = card / named("CONTENTS") / named("VIDEO") / named(f"{name}.MXF")
    video.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [*ffmpeg, "-f", "lavfi", "-i", "testsrc=size=720x576:rate=25:duration=1", "-c:v", "dvvideo",
         "-pix_fmt", "yuv420p", "-timecode", "12:00:00:00", "-f", "mxf_opatom", str(video)],
        check=True,
    )  # fmt: skip
    for channel in range(channels):
        sound = card / named("CONTENTS") / named("AUDIO") / named(f"{name}{channel:02d}.MXF")
        sound.parent.mkdir(exist_ok=True)
        period = RHYTHMS[channel]
        tone = f"sine=frequency=440:duration=1:sample_rate=48000,volume='0.2+0.8*lt(mod(t,{period}),{period / 2})':eval=frame"
        subprocess.run(
            [*ffmpeg, "-f", "lavfi", "-i", tone, "-c:a", "pcm_s24le", "-timecode", "12:00:00:00",
             "-f", "mxf_opatom", str(sound)],
            check=True,
        )  # fmt: skip
    return video


def tracks(path: Path) -> list[int]:
    """Each audio stream's channel count, read by FFmpeg's libraries (PyAV: not the ffprobe proxx uses)."""
    with av.open(str(path)) as container:
        return [stream.codec_context.channels for stream in container.streams.audio]


@pytest.mark.parametrize("case", ["upper", "lower"])
def test_a_p2_clip_is_proxied_with_the_sound_its_camera_recorded_apart(tmp_path, proxx_home, capsys, case):
    card = tmp_path / "P2CARD"
    video = make_p2_clip(card, channels=3, case=case)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", "--profile", INTENT, "--output", str(out), str(card)]) == 0
    said = capsys.readouterr().err
    assert f"a sound channel of the P2 clip {video.name}, read with that clip" in said
    proxy = out / "P2CARD" / video.parent.parent.name / video.parent.name / f"{video.stem}.mov"
    assert tracks(proxy) == [1, 1, 1]
    row = Proxx.open().store.jobs()[0]
    assert row.state == COMPLETED
    result = json.loads(Path(row.result_path).read_text())
    checks = {c["name"]: c["passed"] for c in result["clips"][0]["checks"]}
    assert all(checks[f"audio[{n}].sound"] and checks[f"audio[{n}].sync"] for n in range(3))


def test_a_p2_proxy_whose_channels_are_out_of_order_fails_verification(tmp_path, proxx_home, monkeypatch):
    """The sound check reads the source's channels from its sound files: a renderer that mapped them
    in another order is caught."""
    import proxx_ffmpeg.recipes

    def reversed_maps(source):
        return [a for n in reversed(range(len(source.sound_files))) for a in ("-map", f"{n + 1}:a:0")]

    monkeypatch.setattr(proxx_ffmpeg.recipes, "sound_maps", reversed_maps)
    video = make_p2_clip(tmp_path / "P2CARD", channels=2)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [video], out)
    proxx.run_job(spec.job_id)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class) == (FAILED, "C")
    assert "audio track 1 sound" in row.message, row.message


def test_a_p2_clip_whose_sound_file_is_damaged_is_refused_before_anything_renders(tmp_path, proxx_home):
    video = make_p2_clip(tmp_path / "P2CARD", channels=2)
    damaged = separate_sound(video)[1]
    damaged.write_bytes(damaged.read_bytes()[:600])
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [video], out)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "source_sound_unreadable"), row.message
    assert row.message == (
        f"Source file '{video}' is a clip whose camera recorded its sound in files of their own, and one of "
        f"them, '{damaged}', is not readable as its sound: it is damaged or not a sound file. Copy the card "
        "again from the camera or its backup, then retry the job."
    )
    assert list(out.iterdir()) == []


def test_only_a_p2_card_s_clips_take_their_sound_from_other_files(tmp_path):
    clip = make_p2_clip(tmp_path / "P2CARD", channels=2)
    assert [p.name for p in separate_sound(clip)] == ["0001AB00.MXF", "0001AB01.MXF"]
    assert pictures_of(separate_sound(clip)[0]) == clip
    silent = make_p2_clip(tmp_path / "SILENT", channels=0)
    assert separate_sound(silent) == []
    elsewhere = tmp_path / "MEDIA" / "VIDEO" / "0001AB.MXF"  # a VIDEO folder, but not a card's CONTENTS
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(clip.read_bytes())
    (tmp_path / "MEDIA" / "AUDIO").mkdir()
    (tmp_path / "MEDIA" / "AUDIO" / "0001AB00.MXF").write_bytes(separate_sound(clip)[0].read_bytes())
    assert separate_sound(elsewhere) == [] and pictures_of(tmp_path / "MEDIA" / "AUDIO" / "0001AB00.MXF") is None
    other = clip.parent.parent / "AUDIO" / "0002CD00.MXF"  # another clip's channel
    other.write_bytes(b"")
    assert separate_sound(clip) == separate_sound(clip)[:2] and pictures_of(other) is None


def test_a_p2_card_run_again_is_left_alone_until_a_sound_file_changes(tmp_path, proxx_home, capsys):
    card = tmp_path / "P2CARD"
    video = make_p2_clip(card, channels=2)
    out = tmp_path / "out"
    out.mkdir()
    run = ["run", "--profile", INTENT, "--output", str(out), str(card)]
    assert main(run) == 0
    capsys.readouterr()
    assert main(run) == 0  # already proxied: nothing made again
    assert "(already proxied by job" in capsys.readouterr().out
    sound = separate_sound(video)[1]
    sound.write_bytes(separate_sound(video)[0].read_bytes())  # channel 2 copied again, from elsewhere
    assert main(run) == 4  # the proxy there is of the clip as it was: never replaced
    said = capsys.readouterr().err
    assert "this source file as it was then, and the file has changed since" in said, said


def test_a_p2_clip_whose_sound_files_lie_outside_the_media_roots_is_refused(tmp_path):
    """A web page or a farm reads sources inside its media roots only: an AUDIO folder linked to
    somewhere else is not read through."""
    from proxx.jobspec.model import ClipSpec
    from proxx.roots import Roots
    from proxx.validate.checks import check_source

    roots = tmp_path / "media"
    video = make_p2_clip(roots / "P2CARD", channels=1)
    audio = video.parent.parent / "AUDIO"
    audio.rename(tmp_path / "elsewhere")
    audio.symlink_to(tmp_path / "elsewhere")
    problems, _ = check_source(ClipSpec(0, str(video), str(tmp_path / "out.mov")), None, Roots((str(roots),)))
    assert [(p.reason, p.context["source"]) for p in problems] == [
        ("source_outside_roots", str(audio / "0001AB00.MXF"))
    ]
