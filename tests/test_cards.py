"""A day's cards, unattended: camera-card-shaped folders (DCIM/100CANON, PRIVATE/M4ROOT/CLIP,
XDROOT/Clip, sound, stills, thumbnails, sidecars, GoPro low-res files, non-ASCII names) run through
`proxx run` and watch folders. A card is never written to, whatever the output folder is; a folder
takes video only and says what it skipped; a card run again proxies only what is missing; every job
that published proxies is sealed so that the reference ASC MHL tool's checks pass."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.hookspecs import hookimpl
from proxx.media.probe import file_url
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool
from proxx.pluginmanager import plugin_manager
from proxx.store import COMPLETED, FAILED, Store
from proxx.watch.watcher import MediaWatcher, watch

PROXX = [sys.executable, "-m", "proxx"]
ASCMHL = str(Path(sys.executable).with_name("ascmhl"))
ASCMHL_DEBUG = str(Path(sys.executable).with_name("ascmhl-debug"))
INTENT = "Review H.264"
VIDEO = [  # what a run of the card proxies, as `cp -r` would lay it out
    "CARD/DCIM/100CANON/MVI_0042.mp4",
    "CARD/DCIM/100CANON/Prise_été_01.mp4",
    "CARD/DCIM/100GOPRO/GX010001.mp4",
    "CARD/PRIVATE/M4ROOT/CLIP/C0001.mp4",
    "CARD/XDROOT/Clip/C0003.mp4",
]
SKIPPED = {  # what it leaves out, and why
    "DCIM/100CANON/IMG_0043.JPG": "a still picture, not a camera clip",
    "DCIM/100CANON/MVI_0042.THM": "a thumbnail, not a camera clip",
    "DCIM/100CANON/ONEFRAME.MOV": "a video of a single frame, not a clip",
    "DCIM/100CANON/ROOMTONE.MOV": "no video stream (sound only)",
    "DCIM/100GOPRO/GL010001.LRV": "a low-resolution copy the camera made, not a camera clip",
    "PRIVATE/M4ROOT/CLIP/C0001M01.XML": "a sidecar (the camera's metadata), not a camera clip",
    "WAV/ZOOM0001.WAV": "a sound file, not a camera clip",
    "XDROOT/Clip/C0003M01.XML": "a sidecar (the camera's metadata), not a camera clip",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One of each kind of file a card holds, made once."""
    folder = tmp_path_factory.mktemp("media")
    ffmpeg = require_tool("ffmpeg").path
    quiet = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    room_tone = folder / "room_tone.mov"  # a sound recorder's take in a QuickTime file: no picture
    subprocess.run([*quiet, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "0.2", "-c:a", "pcm_s16le",
                    file_url(str(room_tone))], check=True, timeout=120)  # fmt: skip
    xdcam = folder / "xdcam.mxf"  # an XDCAM-style MPEG-2 MXF
    subprocess.run([*quiet, "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", "-frames:v", "6",
                    "-c:v", "mpeg2video", file_url(str(xdcam))], check=True, timeout=120)  # fmt: skip
    return {
        "clip": make_clip(folder / "clip.mov", size="160x90", frames=6),
        "one_frame": make_clip(folder / "one_frame.mov", size="160x90", frames=1, audio=()),
        "room_tone": room_tone,
        "xdcam": xdcam,
    }


def build_card(card: Path, media: dict[str, Path]) -> Path:
    files = {
        "DCIM/100CANON/MVI_0042.MOV": media["clip"],
        "DCIM/100CANON/MVI_0042.THM": b"\xff\xd8 thumbnail",
        "DCIM/100CANON/IMG_0043.JPG": b"\xff\xd8 still",
        "DCIM/100CANON/Prise_été_01.MOV": media["clip"],
        "DCIM/100CANON/ROOMTONE.MOV": media["room_tone"],
        "DCIM/100CANON/ONEFRAME.MOV": media["one_frame"],
        "DCIM/100GOPRO/GX010001.MP4": media["clip"],
        "DCIM/100GOPRO/GL010001.LRV": b"low-res copy",
        "PRIVATE/M4ROOT/CLIP/C0001.MP4": media["clip"],
        "PRIVATE/M4ROOT/CLIP/C0001M01.XML": b"<NonRealTimeMeta/>",
        "XDROOT/Clip/C0003.MXF": media["xdcam"],
        "XDROOT/Clip/C0003M01.XML": b"<NonRealTimeMeta/>",
        "WAV/ZOOM0001.WAV": b"RIFF....WAVE",
        ".Spotlight-V100/store.db": b"hidden",
    }
    for name, content in files.items():
        path = card / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            os.link(content, path)
        else:
            path.write_bytes(content)
    return card


@pytest.fixture
def card(tmp_path: Path, media: dict[str, Path]) -> Path:
    return build_card(tmp_path / "cards" / "CARD", media)


def snapshot(folder: Path) -> set[tuple[str, int, int]]:
    """Every entry beneath `folder` with its size and modification time."""
    return {(p.relative_to(folder).as_posix(), p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROXX_HOME": str(home)}
    return subprocess.run([*PROXX, *args], capture_output=True, text=True, env=env, timeout=300)


def proxies(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4") if ".proxx-partial-" not in p.name)


def ascmhl_checks(folder: Path) -> None:
    """The reference tool's own checks of an output folder."""
    for command in ([ASCMHL, "diff", str(folder)], [ASCMHL_DEBUG, "verify", str(folder)]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """`folder` made read-only: a read-only bind mount onto itself where this test may mount (root),
    else its folders' write permission removed. Yields which."""
    mounted = False
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
        if mounted and subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True).returncode:
            subprocess.run(["umount", str(folder)], check=True)
            mounted = False
    folders = [] if mounted else [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    for path in folders:
        path.chmod(0o555)
    try:
        yield "mount" if mounted else "chmod"
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        for path in folders:
            path.chmod(0o755)


def test_a_read_only_card_gives_video_only_and_says_what_it_skipped(tmp_path, card):
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(card)
    with read_only(card) as how:
        if how == "mount":
            with pytest.raises(OSError):
                (card / "probe").write_bytes(b"")
        done = cli(tmp_path / "home", "run", "--profile", INTENT, "--output", str(out), str(card))
    assert done.returncode == 0, done.stderr
    assert snapshot(card) == before  # nothing created, changed or removed on the card
    assert proxies(out) == VIDEO
    assert [line.removeprefix("Proxy:  ") for line in done.stdout.splitlines() if line.startswith("Proxy:")] == [
        str(out / name) for name in VIDEO
    ]
    skipped = [line for line in done.stderr.splitlines() if line.startswith("Skipped: ")]
    assert len(skipped) == len(SKIPPED), done.stderr
    for name, why in SKIPPED.items():
        assert any(line.startswith(f"Skipped: {card / name}: {why}") for line in skipped), (name, skipped)
    assert "Spotlight" not in done.stderr  # hidden files are left alone silently
    job_id = Store.at(tmp_path / "home").jobs()[0].job_id
    shown = cli(tmp_path / "home", "jobs", "show", job_id)
    assert f"Skipped   {card / 'DCIM/100CANON/ROOMTONE.MOV'}: no video stream (sound only)" in shown.stdout
    document = json.loads(cli(tmp_path / "home", "jobs", "show", job_id, "--json").stdout)
    assert len(document["left_out"]) == len(SKIPPED) and document["left_out"][0]["proxy"] is None
    ascmhl_checks(out)


def test_a_file_named_on_its_own_is_still_refused_when_it_holds_no_video(tmp_path, card):
    out = tmp_path / "out"
    out.mkdir()
    done = cli(tmp_path / "home", "run", "--profile", INTENT, "--output", str(out),
               str(card / "DCIM/100CANON/ROOMTONE.MOV"))  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "has no video stream" in done.stderr and not proxies(out)


@pytest.mark.parametrize(
    ("output", "given", "named"),
    [
        ("CARD", "CARD", "CARD"),  # the card itself
        ("CARD/PRIVATE", "CARD", "CARD"),  # a folder inside it
        ("CARD/DCIM", "CARD/DCIM/100CANON", "CARD/DCIM/100CANON"),  # above it: the mirrored folder is the card's
        ("CARD/DCIM/100CANON", "CARD/DCIM/100CANON/MVI_0042.MOV", "CARD/DCIM/100CANON"),  # beside a file given
        ("CARD/XDROOT/Clip", "CARD/XDROOT", "CARD/XDROOT/Clip"),  # inside the folder given, holding all its clips
        # A clip given as a file names its card by the structure its path goes through (DCIM, M4ROOT):
        ("CARD", "CARD/DCIM/100CANON/MVI_0042.MOV", "CARD"),  # the card's top, above a file given
        ("CARD/DCIM", "CARD/DCIM/100GOPRO/GX010001.MP4", "CARD"),
        ("CARD/PRIVATE", "CARD/PRIVATE/M4ROOT/CLIP/C0001.MP4", "CARD"),
    ],
)
def test_an_output_folder_that_would_write_on_the_card_is_refused_before_anything_runs(
    tmp_path, card, output, given, named
):
    cards = card.parent
    before = snapshot(cards)
    done = cli(tmp_path / "home", "run", "--profile", INTENT, "--output", str(cards / output), str(cards / given))
    assert done.returncode == 4, done.stderr
    assert f"would put files among the source media in '{cards / named}'" in done.stderr
    assert "class B" in done.stderr
    assert snapshot(cards) == before  # not even a write test: no .proxx/, ascmhl/, partial or proxy


def test_a_clip_given_through_a_link_names_the_card_the_link_leads_to(tmp_path, card):
    cards = card.parent
    links = tmp_path / "links"
    links.mkdir()
    (links / "GX010001.MP4").symlink_to(cards / "CARD" / "DCIM" / "100GOPRO" / "GX010001.MP4")
    before = snapshot(cards)
    output = cards / "CARD" / "DCIM" / "100GOPRO"
    done = cli(tmp_path / "home", "run", "--profile", INTENT, "--output", str(output), str(links / "GX010001.MP4"))
    assert done.returncode == 4 and "a camera card is never written to" in done.stderr, done.stderr
    assert snapshot(cards) == before


def test_camera_folders_given_as_folders_beside_their_proxies_are_no_card_of_each_other(tmp_path, media):
    # A day's RED mags copied side by side with a Proxies folder: each folder given is its own card.
    day = tmp_path / "Day01"
    mag = day / "A001_0101XY.RDM" / "A001_C001_0101AB.RDC"
    mag.mkdir(parents=True)
    os.link(media["clip"], mag / "A001_C001_0101AB_001.mov")
    (day / "Proxies").mkdir()
    done = cli(
        tmp_path / "home", "run", "--profile", INTENT, "--output", str(day / "Proxies"), str(day / "A001_0101XY.RDM")
    )
    assert done.returncode == 0, done.stderr


def test_a_card_run_again_proxies_only_what_is_missing_and_never_overwrites(tmp_path, card, media):
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    first = cli(home, "run", "--profile", INTENT, "--output", str(out), str(card))
    assert first.returncode == 0, first.stderr
    published = {entry for entry in snapshot(out / "CARD") if entry[0].endswith(".mp4")}
    os.link(media["clip"], card / "DCIM/100CANON/MVI_0050.MOV")  # the afternoon's clip

    again = cli(home, "run", "--profile", INTENT, "--output", str(out), str(card))
    assert again.returncode == 0, again.stderr
    first_job = Store.at(home).jobs()[-1].job_id
    for name in VIDEO:  # reported, left out of the job, untouched
        assert f"Proxy:  {out / name} (already proxied by job {first_job}; not run again)" in again.stdout
    assert f"Proxy:  {out / 'CARD/DCIM/100CANON/MVI_0050.mp4'}" in again.stdout
    second = Store.at(home).jobs()[0]
    assert second.state == COMPLETED and second.clip_count == 1
    assert published <= snapshot(out / "CARD")  # not re-rendered, not re-linked
    ascmhl_checks(out)

    nothing = cli(home, "run", "--profile", INTENT, "--output", str(out), str(card))
    assert nothing.returncode == 0, nothing.stderr
    assert "Every source already has its verified proxy" in nothing.stdout and "no job was created" in nothing.stdout
    as_json = cli(home, "run", "--profile", INTENT, "--output", str(out), str(card), "--json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)  # stdout stays one JSON document
    assert document["job_id"] is None and len([i for i in document["left_out"] if i["proxy"]]) == len(VIDEO) + 1
    assert len(Store.at(home).jobs()) == 2

    # Another file at a proxy's name (here differing only in letter case) is never overwritten.
    (out / "CARD/DCIM/100CANON/MVI_0050.mp4").unlink()
    (out / "CARD/DCIM/100CANON/MVI_0050.MP4").write_bytes(b"someone else's file")
    refused = cli(home, "run", "--profile", INTENT, "--output", str(out), str(card))
    assert refused.returncode == 4, refused.stderr
    wanted = out / "CARD/DCIM/100CANON/MVI_0050.mp4"
    assert f"Output path '{wanted}' already exists (as 'MVI_0050.MP4')." in refused.stderr
    assert (out / "CARD/DCIM/100CANON/MVI_0050.MP4").read_bytes() == b"someone else's file"

    # A proxy altered since it was published is no longer "already proxied": it is in the way.
    (out / "CARD/DCIM/100CANON/MVI_0050.MP4").unlink()
    os.link(media["clip"], card / "DCIM/100CANON/MVI_0051.MOV")
    damaged_proxy = out / "CARD/XDROOT/Clip/C0003.mp4"
    with open(damaged_proxy, "ab") as proxy:
        proxy.write(b"damage")
    damaged = cli(home, "run", "--profile", INTENT, "--output", str(out), str(card))
    assert damaged.returncode == 4, damaged.stderr
    assert f"Output path '{damaged_proxy}' already exists." in damaged.stderr
    assert f"Output path '{out / 'CARD/DCIM/100CANON/MVI_0042.mp4'}'" not in damaged.stderr


class FailsGoProVerification:
    """A studio rule that fails one clip's verification: a job that ends FAILED having published others."""

    @hookimpl
    def proxx_verify_output(self, spec, clip, source, output):
        from proxx.verify.checks import Check

        return [Check("studio_rule", "passes", "does not", False)] if "GOPRO" in clip.source else []


def test_a_failed_job_seals_what_it_published_and_the_reference_checks_pass(tmp_path, card, proxx_home):
    out = tmp_path / "out"
    out.mkdir()
    pm = plugin_manager()
    pm.register(FailsGoProVerification(), name="fails-gopro")
    try:
        proxx = Proxx.open(pm=pm)
        result = proxx.run_job(proxx.create_job(INTENT, [card], out).job_id)
    finally:
        pm.unregister(name="fails-gopro")
    assert result is not None and result.state == FAILED
    assert sorted(c.state for c in result.clips) == ["completed"] * 4 + ["failed"]
    (fabric,) = [e for e in result.exports if e.exporter == "fabric"]
    assert fabric.ok and fabric.details["ascmhl_generation"]
    generation = Path(fabric.details["ascmhl_generation"]).read_text()
    assert generation.count("<hash>") == 5  # the four proxies and the result's copy: exactly what it published
    assert "GX010001" not in generation
    ascmhl_checks(out)
    retried, done = proxx.retry(result.job_id)  # the retry (no failing rule now) makes what is missing
    assert done == 4 and len(retried.clips) == 1
    again = proxx.run_job(retried.job_id)
    assert again is not None and again.state == COMPLETED
    ascmhl_checks(out)


def test_watch_folders_keep_sub_folders_as_folder_sources_do(tmp_path, card, media, proxx_home):
    out = tmp_path / "out"
    out.mkdir()
    second = build_card(tmp_path / "cards2" / "CARD", media)  # a second camera: the same clip names
    proxx = Proxx.open()
    events = []
    for root in (card.parent, second.parent):
        watcher = MediaWatcher(proxx, root, INTENT, out, settle=0)
        watch(watcher, interval=0, once=True, on_event=events.append)
    queued = [e for e in events if e.outcome == "queued"]
    assert len(queued) == 2 * len(VIDEO)
    skipped = {(e.path.name, e.message) for e in events if e.outcome == "skipped"}
    assert ("ROOMTONE.MOV", "no video stream (sound only)") in skipped
    assert ("ONEFRAME.MOV", "a video of a single frame, not a clip") in skipped
    from proxx.worker import work

    work(proxx, once=True)
    assert [r.state for r in proxx.store.jobs()] == [COMPLETED] * 2 * len(VIDEO)
    assert proxies(out) == sorted([*(f"cards/{name}" for name in VIDEO), *(f"cards2/{name}" for name in VIDEO)])


def test_each_file_of_a_card_is_probed_once_per_job(tmp_path, card, proxx_home, monkeypatch):
    from collections import Counter, OrderedDict

    from proxx.media import probe as probing

    monkeypatch.setattr(probing, "_PROBED", OrderedDict())  # nothing remembered from other tests
    asked: Counter[str] = Counter()
    real = probing._ffprobe

    def counting(path: str, what: list[str], timeout: float) -> dict:
        if "-show_format" in what:
            asked[path] += 1
        return real(path, what, timeout)

    monkeypatch.setattr(probing, "_ffprobe", counting)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [card], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED
    # The card's files are links to a few media files: a probe is remembered by the file (device,
    # inode, size, time), so each distinct file is probed once, by the expansion, and validation reuses it.
    media = [*(c.source for c in spec.clips), *(str(card / n) for n in SKIPPED if n.endswith(".MOV"))]
    by_file: Counter[int] = Counter()
    for path, n in asked.items():
        if path.startswith(str(card)):
            by_file[os.stat(path).st_ino] += n
    assert by_file == Counter({ino: 1 for ino in {os.stat(path).st_ino for path in media}})


@pytest.mark.parametrize(
    ("folder", "top"),
    [
        ("/Volumes/CARD/DCIM/100CANON", "/Volumes/CARD"),
        ("/Volumes/PHONE/DCIM/Camera", "/Volumes/PHONE"),  # Android
        ("/Volumes/DJI/DCIM/DJI_001", "/Volumes/DJI"),
        ("/Volumes/A7S/PRIVATE/M4ROOT/CLIP", "/Volumes/A7S"),
        ("/Volumes/HANDYCAM/PRIVATE/AVCHD/BDMV/STREAM", "/Volumes/HANDYCAM"),
        ("/Volumes/XDCAM/XDROOT/Clip", "/Volumes/XDCAM"),
        ("/Volumes/EX1/BPAV/CLPR/000_0001", "/Volumes/EX1"),
        ("/Volumes/P2/CONTENTS/VIDEO", "/Volumes/P2"),
        ("/Volumes/C300/CONTENTS/CLIPS001/AA0001", "/Volumes/C300"),
        ("/Volumes/RED/A001_0101XY.RDM/A001_C001_0101AB.RDC", "/Volumes/RED"),
        ("/Volumes/ALEXA/A002R2EC", "/Volumes/ALEXA"),
        ("/private/var/folders/xy/T", None),  # macOS's own folders are no card
        ("/Applications/Resolve.app/Contents/MacOS", None),
        ("/home/editor/Projects/Private/Contents", None),
    ],
)
def test_the_top_of_a_card_is_found_from_the_structure_a_clip_s_path_goes_through(folder, top):
    from proxx.validate.checks import _card_top

    assert _card_top(folder) == top


def test_an_xdcam_card_holding_its_clip_folder_at_its_top_is_found(tmp_path):
    """XDCAM writes Clip/ beside MEDIAPRO.XML at the top of a card (no XDROOT): a Clip folder
    elsewhere is no card."""
    from proxx.validate.checks import _card_top

    card = tmp_path / "XDCAM"
    (card / "Clip").mkdir(parents=True)
    (card / "MEDIAPRO.XML").write_text("<MediaProfile/>")
    assert _card_top(str(card / "Clip")) == str(card)
    (tmp_path / "edit" / "Clip").mkdir(parents=True)
    assert _card_top(str(tmp_path / "edit" / "Clip")) is None


@contextlib.contextmanager
def alias_of(folder: Path, alias: Path, how: str) -> Iterator[None]:
    """`alias`, another name of `folder`: a symbolic link, or a bind mount (skipped where this test
    may not mount)."""
    if how == "link":
        alias.symlink_to(folder, target_is_directory=True)
        yield
        return
    alias.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a bind mount needs root")
    mounted = subprocess.run(["mount", "--bind", str(folder), str(alias)], capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"mount --bind is not permitted here: {mounted.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(alias)], check=True)


@pytest.mark.parametrize("how", ["bind", "link"])
@pytest.mark.parametrize(
    ("aliased", "given", "output"),
    [
        ("CARD", "CARD", "ALIAS/inner"),  # a card given as a folder, its proxies into a folder of an alias of it
        ("CARD", "CARD/A001_C001.mov", "ALIAS"),  # a clip's own folder, named through the alias
        # an alias of a card's sub-folder: the card's top (found from DCIM) is no folder above the alias
        ("CARD/DCIM", "CARD/DCIM/100CANON/MVI_0042.MOV", "ALIAS/inner"),
    ],
)
def test_an_alias_of_a_card_is_the_card(tmp_path, media, how, aliased, given, output):
    """A bind mount, a second mount or a link of a card (or of one of its folders) is the card: folders
    are told apart by device and inode, not only by their paths."""
    cards = tmp_path / "cards"
    card = cards / "CARD"
    os.makedirs(card / "inner")
    os.makedirs(card / "DCIM" / "inner")
    os.link(media["clip"], card / "A001_C001.mov")
    (card / "DCIM" / "100CANON").mkdir()
    os.link(media["clip"], card / "DCIM" / "100CANON" / "MVI_0042.MOV")
    before = snapshot(card)
    with alias_of(cards / aliased, cards / "ALIAS", how):
        done = cli(tmp_path / "home", "run", "--profile", INTENT, "--output", str(cards / output), str(cards / given))
        assert snapshot(card) == before  # nothing created on the card: no proxy, .proxx/, ascmhl/
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "a camera card is never written to" in done.stderr and "class B" in done.stderr
    assert f"among the source media in '{card}'" in done.stderr


@pytest.mark.parametrize("output", ["CARD", "CARD/DCIM", "ALIAS"])
def test_an_openjd_export_onto_a_card_writes_nothing(tmp_path, card, output):
    """An export's template, `jobspecs/` and `proxies/` are refused on a card before anything is
    written (the card itself, a folder inside it, an alias of it), as a job's outputs are."""
    cards = card.parent
    before = snapshot(card)
    with alias_of(card, cards / "ALIAS", "link"):
        done = cli(tmp_path / "home", "export-openjd", "--profile", INTENT, "--output", str(cards / output),
                   str(card / "DCIM/100CANON/MVI_0042.MOV"))  # fmt: skip
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "Nothing was exported into" in done.stderr and "a camera card is never written to" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(card) == before


def _without_root_reads(args: list[str]) -> list[str]:
    """`args` run so that a folder of mode 000 cannot be read, as for any other user: root keeps its
    uid but loses the capabilities that read past file modes."""
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *args]


def test_a_card_folder_that_cannot_be_read_or_is_a_link_is_said_never_silently_left_out(tmp_path, media):
    """A sub-folder the walk could not open was passed over in silence (os.walk drops the error), so a
    job COMPLETED without its clips; a link to a folder, which the walk does not follow, the same."""
    card, elsewhere, out = tmp_path / "CARD", tmp_path / "elsewhere", tmp_path / "out"
    for folder in (card / "A", card / "LOCKED", elsewhere, out):
        folder.mkdir(parents=True)
    for folder in (card / "A", card / "LOCKED", elsewhere):
        (folder / "C0001.mov").write_bytes(media["clip"].read_bytes())
    (card / "LINKED").symlink_to(elsewhere)
    env = {**os.environ, "PROXX_HOME": str(tmp_path / "home")}
    command = [*PROXX, "run", "--profile", INTENT, "--output", str(out), str(card)]

    linked = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert linked.returncode == 0, linked.stderr
    assert f"Skipped: {card / 'LINKED'}: a link to a folder, not followed (give the folder itself)" in linked.stderr
    assert proxies(out) == ["CARD/A/C0001.mp4", "CARD/LOCKED/C0001.mp4"]

    (card / "LINKED").unlink()
    (card / "LOCKED").chmod(0)
    try:
        locked = subprocess.run(_without_root_reads(command), capture_output=True, text=True, env=env, timeout=300)
    finally:
        (card / "LOCKED").chmod(0o755)
    assert locked.returncode == 3, locked.stderr  # class A: nothing was created
    assert locked.stderr.strip() == (
        f"proxx: Folder '{card / 'LOCKED'}' (in '{card}') cannot be read (Permission denied): its clips would be "
        "left out. Nothing was created: make it readable, or give the folders beside it instead."
    )


def test_a_card_nested_a_thousand_folders_deep_is_refused_and_never_stops_a_watcher(tmp_path, media, proxx_home):
    """Python's folder walk recurses once a level: a card (or a watch folder) nested 1,100 deep ended
    `proxx run` and `proxx watch` in "internal error (RecursionError)"."""
    from proxx.cli import main

    card, out = tmp_path / "CARD", tmp_path / "out"
    card.mkdir()
    out.mkdir()
    (card / "C0001.mov").write_bytes(media["clip"].read_bytes())
    fd = os.open(card, os.O_RDONLY)
    for _ in range(1100):  # by descriptor: the path soon passes what one system call takes
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    try:
        assert main(["run", "--profile", INTENT, "--output", str(out), str(card)]) == 3
        assert list(out.iterdir()) == []
        events = MediaWatcher(Proxx.open(), card, INTENT, out, settle=0.0).poll()
        assert [e.path.name for e in events] == ["C0001.mov"]
    finally:  # rm walks without recursing; pytest's own clean-up recurses, and would overflow as proxx did
        subprocess.run(["rm", "-rf", str(card / "d")], check=True, timeout=60)


def test_names_differing_only_in_how_an_accent_is_composed_are_one_name(tmp_path, media, proxx_home, capsys):
    """'é' as one character (NFC) or as 'e' and its accent (NFD, as macOS writes names) shows the same
    and is one name on macOS and its file sharing: two such clips of one card were both proxied, and
    a proxy was published beside a file of that name, as two different names."""
    from proxx.cli import main

    card = tmp_path / "cards" / "CARD" / "DCIM" / "100CANON"
    card.mkdir(parents=True)
    composed, decomposed = "Prise_\u00e9t\u00e9.MOV", "Prise_e\u0301te\u0301.MOV"
    for name in (composed, decomposed):
        os.link(media["clip"], card / name)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", "--profile", INTENT, "--output", str(out), str(card.parent.parent)]) == 4
    said = capsys.readouterr().err
    assert "would both be written to" in said and "differ only in how an accented letter is written" in said
    assert not (out / "CARD").exists()

    (out / decomposed.replace(".MOV", ".mp4")).write_bytes(b"someone else's file")
    assert main(["run", "--profile", INTENT, "--output", str(out), str(card / composed)]) == 4
    said = capsys.readouterr().err
    assert f"Output path '{out / composed.replace('.MOV', '.mp4')}' already exists" in said
    assert sorted(p.name for p in out.iterdir()) == [decomposed.replace(".MOV", ".mp4")]


def test_a_card_started_twice_into_one_folder_is_made_once(tmp_path, media, proxx_home):
    """Two terminals, a form sent twice, a watch folder beside an operator: the second job of a card
    whose proxies an earlier job still makes was rendered too, every clip twice, and both jobs failed
    ("appeared while the job ran") with a second copy of each proxy left beside it. It is refused in
    class B before anything runs, naming the job making them; once that job ends nothing is missing."""
    from proxx import NothingMissing

    card = tmp_path / "cards" / "CARD" / "DCIM" / "100CANON"
    card.mkdir(parents=True)
    for n in range(2):
        os.link(media["clip"], card / f"MVI_000{n}.MOV")
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    first = proxx.create_job(INTENT, [card.parent.parent], out)  # queued: a worker has not taken it yet
    second = proxx.create_job(INTENT, [card.parent.parent], out)
    row = proxx.store.job(second.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "output_being_made")
    assert f"is being made by job {first.job_id}, queued" in (row.message or "")
    assert row.message.count("is being made by job") == 2 and "already exists" not in row.message

    result = proxx.run_job(first.job_id)
    assert result is not None and result.state == COMPLETED
    assert sorted(p.name for p in (out / "CARD" / "DCIM" / "100CANON").iterdir()) == ["MVI_0000.mp4", "MVI_0001.mp4"]
    with pytest.raises(NothingMissing):
        proxx.create_job(INTENT, [card.parent.parent], out)


def test_the_outputs_being_made_are_looked_up_by_their_index_and_an_older_store_gets_it(tmp_path, media, proxx_home):
    """Which earlier waiting job makes a new job's proxies is a look-up in the store's index of
    outputs, never a read of every waiting JobSpec (a watch folder queueing 4,000 files spent 57 s of
    CPU on it, against 6.8 s): the SQL it runs names neither the JobSpecs nor their JSON. A store
    made before the index holds its waiting jobs' outputs once it is opened."""
    import sqlite3

    from proxx.jobspec.rerun import output_key

    card = tmp_path / "cards" / "CARD"
    card.mkdir(parents=True)
    os.link(media["clip"], card / "MVI_0001.MOV")
    proxx = Proxx.open()
    first = proxx.create_job(INTENT, [card], tmp_path)  # queued: no worker takes it
    (tmp_path / "other").mkdir()
    later = proxx.create_job(INTENT, [card], tmp_path / "other")
    key = output_key(first.clips[0].output)
    statements: list[str] = []
    proxx.store._db.set_trace_callback(statements.append)
    assert proxx.store.outputs_in_progress(later.job_id, {key}) == {key: (first.job_id, "QUEUED")}
    proxx.store._db.set_trace_callback(None)
    assert statements and not any("jobspecs" in s or "json_" in s for s in statements), statements

    path = proxx.store.path
    proxx.store.close()
    db = sqlite3.connect(path)  # the store as the release before the index left it
    db.execute("DROP TABLE outputs")
    db.execute("PRAGMA user_version = 6")
    db.commit()
    db.close()
    store = Store(path)
    try:
        assert store.outputs_in_progress(later.job_id, {key}) == {key: (first.job_id, "QUEUED")}
        assert store.outputs_in_progress(first.job_id, {key}) == {}  # none before the first
    finally:
        store.close()


def test_a_proxy_recorded_before_names_were_composed_is_still_already_proxied(tmp_path, media, proxx_home):
    """A store records each proxy by its name's key; keys are now composed ('é' as one character),
    so a decomposed name recorded before is looked up by its earlier key too: a re-run found it
    nowhere and refused the proxy as an existing file."""
    card = tmp_path / "cards" / "CARD"
    card.mkdir(parents=True)
    os.link(media["clip"], card / "Prise_e\u0301te\u0301.MOV")
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [card], out).job_id)
    assert result is not None and result.state == COMPLETED
    (proxy,) = (out / "CARD").iterdir()
    earlier = os.path.normcase(os.path.abspath(proxy)).casefold()  # the key as it was recorded before
    with proxx.store._write() as db:
        db.execute("UPDATE published SET output_key = ?", (earlier,))
    expansion = proxx.expand(INTENT, [card], out)
    assert expansion.sources == () and [p.output for p in expansion.proxied] == [proxy]


def test_a_clip_whose_proxy_would_be_named_as_a_folder_of_the_card_is_refused_before_anything_runs(
    tmp_path, media, proxx_home, capsys
):
    """A card's clip 'Y.MOV' beside a folder 'Y.mp4/' of clips: the clip's proxy 'Y.mp4' is also the
    folder made for the others' proxies. Both rendered, and whichever was published second failed
    ("appeared while the job ran"), its verified proxy left beside it."""
    from proxx.cli import main

    card = tmp_path / "cards" / "CARD"
    (card / "Y.mp4").mkdir(parents=True)
    os.link(media["clip"], card / "Y.mp4" / "C0001.MOV")
    os.link(media["clip"], card / "Y.MOV")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", "--profile", INTENT, "--output", str(out), str(card)]) == 4
    said = capsys.readouterr().err
    assert f"Output path '{out / 'CARD' / 'Y.mp4'}', the proxy of '{card / 'Y.MOV'}', is also the folder" in said
    assert list(out.iterdir()) == []
