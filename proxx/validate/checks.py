"""Step 3 of the flow: class B validation, before any engine process starts.

Every problem of every clip is found (not only the first), so an operator fixes everything in one go,
and any one of them fails the whole job in class B before anything renders (the contract's class B:
"Job state set to FAILED immediately, no execution attempt occurs"). Jobs are validated when they are
created and again when a worker takes them. The probes made here are handed to execution and
verification, so a source is probed once per job.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.metadata
import math
import os
import re
import secrets
import shutil
import stat
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from stat import S_ISREG

import attrs

from proxx.errors import JobValidationError
from proxx.execute.engine import Engine, availability_of
from proxx.execute.publish import NAME_MAX, name_fits
from proxx.jobspec.model import ClipSpec, JobSpec, SourceFile
from proxx.jobspec.rerun import output_key
from proxx.media.files import separate_sound
from proxx.media.policy import CONFORM_BOUND, conform_pictures
from proxx.media.probe import (
    MediaInfo,
    ProbeCrashed,
    ProbeError,
    ProbeTimedOut,
    clip_sound,
    probe,
    remembered,
)
from proxx.media.raw import raw_format
from proxx.pluginmanager import PluginManager
from proxx.roots import Roots
from proxx.validate import trust
from proxx.validate.space import RESERVE_VARIABLE, estimate_output_bytes, required_margin, reserve_bytes
from proxx.version import __version__
from proxx.visibility import frame_rate_words

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW

Problem = JobValidationError


@attrs.frozen
class Validated:
    """What validation learned: the problems, and each clip's probe (None when not probed)."""

    problems: tuple[Problem, ...]
    sources: Mapping[int, MediaInfo | None]

    @property
    def ok(self) -> bool:
        return not self.problems


def _problem(reason: str, message: str, **context: object) -> Problem:
    return JobValidationError(reason, message, context)


def check_engine(spec: JobSpec, engines: Mapping[str, Engine], pm: PluginManager | None = None) -> list[Problem]:
    engine = engines.get(spec.engine)
    if engine is None:
        return [
            _problem(
                "engine_not_installed",
                f"Engine '{spec.engine}' is not installed on this system.",
                engine=spec.engine,
            )
        ]
    availability = availability_of(engine, pm.owner_of(engine) if pm is not None else None)
    if not availability.available:
        return [
            _problem(
                "engine_unavailable",
                f"{engine.label} engine not available on this system: {availability.reason}",
                engine=spec.engine,
            )
        ]
    return []


@functools.cache
def installed_version(package: str) -> str | None:
    """`package`'s version as this process loaded it (None if it is not installed), read once:
    `importlib.metadata` searches every installed distribution at each call, and the code that runs
    is the code loaded at start-up whatever is installed since."""
    if package == "proxx":
        return __version__
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_versions(spec: JobSpec) -> list[Problem]:
    """The versions the JobSpec was made with (`requires`: proxx's and its engine package's) that this
    system does not have. Other versions may render the same canonical profile otherwise, so a JobSpec
    made elsewhere runs only where they are the same, on every path: a farm worker, a local worker, the
    JobSpec inbox, an OpenJD task. A retry is a new job, made with the versions of where it is made.
    Operators read of "the renderer" (the engine's package names it: for administrators). A JobSpec
    that does not say proxx's version is refused too: it would run with any. (One may leave out its
    engine's package: a machine without the engine submits to a farm that has it.)"""
    problems = []
    fix = "nothing was executed. Install the same versions where it runs, or retry it: a retry is a new job, made "
    fix += "with the versions where it is created."
    if "proxx" not in spec.requires:
        problems.append(
            _problem(
                "versions_unstated",
                "The JobSpec does not say which version of proxx made it; nothing was executed. Retry it: a retry "
                "is a new job, made with the versions where it is created.",
                admin_message="The JobSpec's requires names no version of proxx.",
            )
        )
    for name, wanted in sorted(spec.requires.items()):
        have = installed_version(name)
        if have == wanted:
            continue
        versions = f"{name} {have or '(not installed)'} is installed; the JobSpec requires {name} {wanted}."
        if name == "proxx":
            message = f"This system has proxx {have} but the JobSpec requires proxx {wanted}; {fix}"
        else:
            message = (
                f"This system has another version of the renderer this intent needs than the JobSpec requires; {fix}"
            )
        problems.append(
            _problem("version_mismatch", message, package=name, required=wanted, installed=have, admin_message=versions)
        )
    return problems


def check_source(
    clip: ClipSpec, engine: Engine | None, roots: Roots | None = None
) -> tuple[list[Problem], MediaInfo | None]:
    path = clip.source
    untrusted, real = trust.check_source_file(path, roots)  # inside the roots, a regular file
    if untrusted or real is None:
        return untrusted, None
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return [_problem("source_missing", f"Source file '{path}' does not exist.", source=path)], None
    except PermissionError:
        return [
            _problem("source_unreadable", f"Source file '{path}' is not readable (permission denied).", source=path)
        ], None
    if not S_ISREG(stat.st_mode):  # the stat above: no second one
        return [_problem("source_not_a_file", f"Source '{path}' is not a file.", source=path)], None
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        reason = error.strerror or str(error)
        return [_problem("source_unreadable", f"Source file '{path}' is not readable: {reason}.", source=path)], None
    if stat.st_size == 0:
        return [_problem("source_empty", f"Source file '{path}' is empty (0 bytes).", source=path)], None

    sound = _sound_file_problems(path, real, roots)
    if sound:
        return sound, None
    accepts_raw = engine is not None and engine.accepts_raw
    try:
        info: MediaInfo | None = probe(real)  # the file itself: a link swapped later leads nowhere
    except ProbeCrashed as crashed:  # the tool's fault: never reported as the file's
        return [
            _problem(
                "probe_crashed",
                # Not naming the tool: operators read "ffprobe" as "the renderer" (`proxx.visibility`).
                f"Source file '{path}' could not be examined: the tool that reads media files crashed with "
                f"{crashed.signal_name} while reading it. This is a fault of the installed tools, not a finding "
                "about the file; an administrator checks them with `proxx doctor`.",
                source=path,
                admin_message=str(crashed),
            )
        ], None
    except ProbeTimedOut as late:  # nor is a tool that never answered
        return [
            _problem(
                "probe_timed_out",
                f"Source file '{path}' could not be examined: reading it took too long (a stalled network share, "
                "or a fault of the installed tools), so it was not judged. Retry the job; if it happens again, "
                "an administrator checks the tools with `proxx doctor`.",
                source=path,
                admin_message=str(late),
            )
        ], None
    except ProbeError as error:
        info = None
        probe_error = str(error)
        refused = trust.refused_by_probe(path, probe_error)
        if refused is not None and raw_format(path, None) is None:
            return [refused], None
    raw = raw_format(path, info)
    if raw is not None and not accepts_raw:
        # Which engines read RAW is theirs to declare (`Engine.accepts_raw`); the core names none.
        return [
            _problem(
                "raw_not_read_by_engine",
                f"Source file '{path}' is RAW camera media ({raw}), which this intent's engine does not "
                "read: choose an intent whose engine reads RAW camera media.",
                source=path,
                raw_format=raw,
                engine=engine.name if engine is not None else None,
            )
        ], info
    if raw is not None:
        return [], info  # the RAW-capable engine reads it; ffprobe may not
    if info is None:
        return [
            _problem(
                "source_not_decodable",
                f"Source file '{path}' is not a decodable video: it is damaged or not a video file.",
                source=path,
                admin_message=probe_error,  # the reader's own words, for an administrator
            )
        ], None
    not_a_container = trust.check_container(path, info)
    if not_a_container:
        return not_a_container, None
    if info.video is None:
        what = "audio only" if info.audio else "no streams"
        return [_problem("source_no_video", f"Source file '{path}' has no video stream ({what}).", source=path)], info
    if info.is_still_image:  # a picture file; a video of one frame is a video, proxied as one
        return [trust.not_media(path, info.format_name.split(",")[0])], info
    if info.video_duration is None:  # verification compares durations: without one nothing can be verified
        return [
            _problem(
                "source_duration_unknown",
                f"Source file '{path}' has no duration proxx can read (a bare stream without a container?), "
                "so its proxy could never be verified. Wrap it in a media container file first.",
                source=path,
            )
        ], info
    rate = info.video.rate.rate
    if info.timecode is not None and not _is_timecode(info.timecode, rate):
        return [
            _problem(
                "source_timecode_unreadable",
                f"Source file '{path}' states a start timecode that is not one ('{info.timecode}') at its "
                f"{frame_rate_words(f'{rate.numerator}/{rate.denominator}')}, so its proxy could not carry it. "
                "Correct the file's timecode (or re-wrap it without one), then retry.",
                source=path,
            )
        ], info
    pictures = conform_pictures(info.video, info.video_duration)
    if pictures is not None and pictures[0] > CONFORM_BOUND * pictures[1]:
        made, held = pictures
        return [
            _problem(
                "source_sparse_timestamps",
                f"Source file '{path}' holds {held} pictures over {info.video_duration:.1f} s (its pictures are "
                f"far apart in time): a constant-rate proxy at {float(rate):.3f} fps would make {made} pictures, "
                f"more than {CONFORM_BOUND} times as many, so it is not rendered.",
                source=path,
                pictures=held,
                proxy_pictures=made,
            )
        ], info
    return [], info


def _sound_file_problems(path: str, real: str, roots: Roots | None) -> list[Problem]:
    """A P2 clip's sound files (`MediaInfo.sound_files`), each checked as a source is: inside the
    roots, a regular file, and read as sound."""
    for sound_file in separate_sound(Path(real)):
        untrusted, _ = trust.check_source_file(str(sound_file), roots)
        if untrusted:
            return untrusted
        try:
            clip_sound(str(sound_file))
        except (ProbeCrashed, ProbeTimedOut):
            continue  # the tool's fault, not the file's: the clip's own probe below says so
        except ProbeError as error:
            return [
                _problem(
                    "source_sound_unreadable",
                    f"Source file '{path}' is a clip whose camera recorded its sound in files of their own, "
                    f"and one of them, '{sound_file}', is not readable as its sound: it is damaged or not "
                    "a sound file. Copy the card again from the camera or its backup, then retry the job.",
                    source=path,
                    sound_file=str(sound_file),
                    admin_message=str(error),
                )
            ]
    return []


def _folders_taken(out_dir: Path, outputs: list[str]) -> list[Problem]:
    """A problem for each folder the job would make below `out_dir` (the intent's subfolder, a card's
    folders) whose name a file or a link already holds (the topmost only): the job failed each of
    its clips there in class C, though nothing could have been made."""
    problems: list[Problem] = []
    blocked: list[Path] = []
    for folder in _folders_written(str(out_dir), outputs):
        if folder == out_dir or any(b in folder.parents for b in blocked):
            continue
        try:
            info = os.lstat(folder)
        except OSError:
            continue  # not there yet: made when the job runs
        if not stat.S_ISDIR(info.st_mode):
            blocked.append(folder)
            what = "a symbolic link, which outputs never go through" if stat.S_ISLNK(info.st_mode) else "a file"
            problems.append(
                _problem(
                    "output_folder_taken",
                    f"Output subfolder '{folder}' cannot be made: its name is taken by {what}. Move it away, "
                    "or choose another output folder.",
                    output_directory=str(folder),
                )
            )
    return problems


def _writable(out_dir: Path, folder: Path) -> str | None:
    """None if files can be created in `folder` (tried for real: root ignores mode bits), else why.
    `folder` is reached from `out_dir` through descriptors, no link followed, and the test file is
    created exclusively in it: a link planted at the output folder or below it is never written
    through (`out_dir` itself a link is `trust.check_output_folder`'s to say)."""
    try:
        fd = os.open(out_dir, _DIR_FLAGS)
    except OSError as error:
        return None if error.errno == errno.ELOOP else error.strerror or str(error)
    try:
        for part in folder.relative_to(out_dir).parts:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
        name = f".proxx-write-test-{secrets.token_hex(6)}"
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd))
        os.unlink(name, dir_fd=fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            return "it is reached through a symbolic link, which outputs never are"
        return error.strerror or str(error)
    finally:
        os.close(fd)
    return None


def _unusable(what: str, path: str, error: OSError) -> str:
    """Why a path validation could not examine is refused, in an operator's words."""
    if len(path) > 160:  # a path past PATH_MAX is thousands of characters: its two ends say which
        path = f"{path[:80]}...{path[-60:]}"
    if error.errno == errno.ENAMETOOLONG:
        return f"{what} '{path}' is longer than this system allows for a path or file name."
    return f"{what} '{path}' cannot be examined: {error.strerror or error}."


def check_output_names(spec: JobSpec) -> list[Problem]:
    """An output name longer than file systems allow (255 bytes) is refused before anything runs,
    naming the source it comes from: the engine would otherwise fail on it, or nothing could be
    published under it."""
    return [
        _problem(
            "output_name_too_long",
            f"The proxy of '{Path(clip.source).name}' would be named '{Path(clip.output).name}', which is "
            f"{len(os.fsencode(Path(clip.output).name))} bytes long: file systems allow at most {NAME_MAX}. "
            "Rename the source file to a shorter name, then create the job again.",
            source=clip.source,
            output=clip.output,
        )
        for clip in spec.clips
        if not name_fits(Path(clip.output).name)
    ]


def check_outputs(spec: JobSpec) -> list[Problem]:
    """The output folder and every output name: problems, never an exception. A path the system
    cannot examine (longer than PATH_MAX, an I/O error) is a class B problem naming it."""
    named = check_output_names(spec)
    try:
        return named + _check_outputs(spec)
    except OSError as error:
        path = error.filename if isinstance(error.filename, str) else spec.output_directory
        return [
            *named,
            _problem(
                "output_folder_unusable",
                _unusable("Output path", path, error),
                output_directory=spec.output_directory,
            ),
        ]


def _check_outputs(spec: JobSpec) -> list[Problem]:
    problems: list[Problem] = []
    out_dir = Path(spec.output_directory)
    # The card first, whether the output folder is there or not: a folder a shell would make for the
    # job (the web's new sub-folder) is refused for what it is, never made and then refused.
    in_a_card = _writes_among_sources(spec)
    if in_a_card:  # not even a write test there: the card stays untouched
        return in_a_card
    if not out_dir.is_dir():
        what = "is not a folder" if out_dir.exists() else "does not exist"
        return [_problem("output_folder_missing", f"Output folder '{out_dir}' {what}.", output_directory=str(out_dir))]
    problems.extend(_folders_taken(out_dir, [c.output for c in spec.clips]))
    if problems:
        return problems
    folders = sorted({Path(c.output).parent for c in spec.clips})
    for folder in folders:
        if folder != out_dir and not folder.exists():
            continue  # the intent's subfolder (e.g. Proxy/) is created at execution
        why = _writable(out_dir, folder if folder.exists() else out_dir)
        if why:
            problems.append(
                _problem(
                    "output_folder_unwritable",
                    f"Output folder '{folder}' is not writable: {why}.",
                    output_directory=str(folder),
                )
            )
    seen: dict[str, str] = {}
    taken = _Taken()
    # A clip's proxy named as a folder the job makes for other proxies (a card's clip Y.MOV beside a
    # folder Y.mp4/ of clips): both rendered, and the second to be published failed.
    made = {output_key(folder) for folder in _folders_written(spec.output_directory, [c.output for c in spec.clips])}
    for clip in spec.clips:
        key = output_key(clip.output)
        if key in seen:
            problems.append(
                _problem("output_collision", collision(seen[key], clip.source, clip.output), output=clip.output)
            )
            continue
        seen[key] = clip.source
        if key in made:
            problems.append(
                _problem(
                    "output_collision",
                    f"Output path '{clip.output}', the proxy of '{clip.source}', is also the folder this job makes "
                    "for the proxies of the clips in a folder of that name: a file and a folder cannot have one name.",
                    output=clip.output,
                )
            )
            continue
        existing = taken.existing(Path(clip.output))
        if existing is not None:
            name = Path(clip.output).name
            same = "" if existing.name == name else f" (as '{existing.name}')"
            if _alike(existing.name, name):
                same = f" (as '{existing.name}', which differs only in how an accented letter is written)"
            problems.append(
                _problem(
                    "output_exists",
                    f"Output path '{clip.output}' already exists{same}.",
                    output=clip.output,
                    existing=str(existing),
                )
            )
    return problems


def collision(first: str, second: str, output: str) -> str:
    """Why two sources of a job cannot both have their proxy: they would be written to one name."""
    alike = " (their names differ only in how an accented letter is written: they show the same)"
    return (
        f"Sources '{first}' and '{second}' would both be written to '{output}'{alike if _alike(first, second) else ''}."
    )


def _alike(first: str, second: str) -> bool:
    """Whether two names that differ show the same: only how an accented letter is composed differs."""
    return first != second and unicodedata.normalize("NFC", first) == unicodedata.normalize("NFC", second)


@attrs.define
class _Taken:
    """The files already in the output folders, each folder listed once, by `output_key`."""

    _listed: dict[Path, dict[str, str]] = attrs.field(factory=dict)

    def existing(self, path: Path) -> Path | None:
        """The file or link already at `path`, or at a name differing from it only in letter case or
        in how its accents are composed (`output_key`)."""
        if os.path.lexists(path):
            return path
        folder = path.parent
        if folder not in self._listed:
            try:
                self._listed[folder] = {output_key(folder / name): name for name in os.listdir(folder)}
            except OSError:
                self._listed[folder] = {}
        name = self._listed[folder].get(output_key(path))
        return None if name is None else folder / name


def _card_of(source_folder: str, kept: str) -> Path:
    """The folder a clip's source was given in (its card), from the folder holding the source and
    the sub-folder the clip keeps (`ClipSpec.folder`, starting with the card's own name)."""
    parts = kept.split("/")
    parent = Path(source_folder)
    for _ in parts:
        parent = parent.parent
    return parent / parts[0]


# The folder structures cameras write at the top of a card, each as (folder, what must follow it
# on a clip's path): a clip whose path goes through one lies on a card whose top holds that folder
# (DCIM of stills cameras, phones, GoPro and DJI; AVCHD, Sony XAVC and XDCAM, Panasonic P2, Canon
# XF; RED's .RDM and ARRI's reel folders). Exact names, as cameras write them: "Contents" of a macOS
# bundle or /private/var is no card.
_CARD_STRUCTURES = (
    ("DCIM", None),
    ("PRIVATE", re.compile(r"AVCHD|M4ROOT|XDROOT")),
    ("XDROOT", None),
    ("BPAV", None),
    ("CONTENTS", re.compile(r"VIDEO|CLIP|CLIPS\d{3}")),
)


_ARRI_REEL = re.compile(r"[A-Z]\d{3}R[0-9A-Z]{3}")
# A start timecode as containers state it: HH:MM:SS:FF, drop-frame HH:MM:SS;FF (or . or ,), frames
# counted to three digits at high rates. A tag is free text: anything else is not one.
_TIMECODE = re.compile(r"[0-9]{1,2}:[0-5][0-9]:[0-5][0-9][:;.,]([0-9]{1,3})")


def _is_timecode(text: str, rate: Fraction) -> bool:
    """Whether `text` is a start timecode a proxy at `rate` can carry: minutes and seconds under 60,
    frames under the count a second of `rate` holds (25 at 25 fps, 30 at 29.97). ffmpeg takes
    99:99:99:99 as a count of frames and writes another timecode, which fails verification."""
    match = _TIMECODE.fullmatch(text)
    return match is not None and int(match[1]) < math.ceil(rate)


def _card_top(real_folder: str) -> str | None:
    """The top of the camera card `real_folder` (links resolved) lies on, from the structure its
    path goes through (`_CARD_STRUCTURES`), or None: a clip given as a file still names its card."""
    parts = Path(real_folder).parts
    if parts[-1] == "Clip" and os.path.isfile(os.path.join(real_folder, os.pardir, "MEDIAPRO.XML")):
        return os.path.dirname(real_folder)  # XDCAM's own structure at a card's top: Clip/ beside MEDIAPRO.XML
    for n, part in enumerate(parts[1:], start=1):
        follows = parts[n + 1] if n + 1 < len(parts) else None
        for name, then in _CARD_STRUCTURES:
            if part == name and (then is None or then.fullmatch(follows or "")):
                return str(Path(*parts[:n]))
        if part.upper().endswith(".RDM") or _ARRI_REEL.fullmatch(part):  # A001_0101XY.RDM/, A001R1AB/
            return str(Path(*parts[:n]))
    return None


Identity = tuple[int, int]  # (st_dev, st_ino): one folder, whatever path, mount or letter case names it


def _identity(path: str | Path) -> Identity | None:
    """The folder `path` is (links followed), or None when nothing is there (a folder not made yet)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _folders_written(output_directory: str, outputs: Iterable[str]) -> list[Path]:
    """Every folder the job creates anything in: the output folder (proxx's `.proxx/`, Fabric's
    `ascmhl/`), and each folder between it and an output (sub-folders, partial outputs, proxies).
    Each output folder is walked up once, however many clips it holds (a card's hundred clips a
    folder were a hundred walks)."""
    out_dir = Path(os.path.abspath(output_directory))
    written = {out_dir}
    for folder in {os.path.dirname(os.path.abspath(output)) for output in outputs}:
        parent = Path(folder)
        while parent not in written and out_dir in parent.parents:
            written.add(parent)
            parent = parent.parent
    return sorted(written)


def _writes_among_sources(spec: JobSpec) -> list[Problem]:
    return writes_among_sources(spec.output_directory, spec.clips)


def would_write_among_sources(output_directory: str | Path, sources: Sequence[SourceFile]) -> list[Problem]:
    """`writes_among_sources` for a job not made yet, before its output folder is made (a watch
    folder's `Proxy/`, the web's new sub-folder): a folder is made only where the job it is for
    would not be refused for writing on a card, so a refused job leaves nothing behind on one. Each
    output is placed as the naming rule places it, in its kept sub-folder (an intent's own
    sub-folder lies inside the output folder, which decides)."""
    out_dir = Path(os.path.abspath(output_directory))
    clips = [
        ClipSpec(n, os.path.abspath(s.path), str(out_dir / s.folder / s.path.name), s.folder)
        for n, s in enumerate(sources)
    ]
    return writes_among_sources(str(out_dir), clips)


def writes_among_sources(output_directory: str | Path, clips: Sequence[ClipSpec]) -> list[Problem]:
    """A camera card is read-only to proxx: no folder that holds one of the job's sources, and nothing
    inside a folder given as a source, ever receives an output, a partial output, `.proxx/` or
    `ascmhl/`, whatever the output folder is (the card itself, a folder inside it, or a folder above
    it whose mirrored sub-folder is the card's own). Folders are compared by what they are, device
    and inode (a bind mount, a second mount or a case-insensitive name of a card is the card), and
    by their paths with links resolved and letter case ignored, as a card's file system does (for
    folders not made yet)."""
    # Each folder holding sources, and each card, is resolved once, not once per clip (a card's
    # thousand clips sit in a few folders); a source given through a link, where the link leads.
    resolved: dict[str, str] = {}

    def real_folder(source: str) -> str:
        if os.path.islink(source):
            return os.path.dirname(os.path.realpath(source))
        parent = os.path.dirname(source)
        if parent not in resolved:
            resolved[parent] = os.path.realpath(parent)
        return resolved[parent]

    present = [c for c in clips if os.path.lexists(c.source)]  # a missing source: on no card
    holding = {output_key(real_folder(c.source)): Path(real_folder(c.source)) for c in present}
    given = dict.fromkeys((os.path.dirname(c.source), c.folder) for c in clips if c.folder)
    cards = {output_key(os.path.realpath(card)): card for card in dict.fromkeys(_card_of(*pair) for pair in given)}
    for clips_folder in dict.fromkeys(real_folder(c.source) for c in present if not c.folder):
        top = _card_top(clips_folder)  # a clip given as a file: the card its path goes through, from its top
        if top is not None:
            cards.setdefault(output_key(top), Path(top))
    holding_ids = {ident: folder for folder in holding.values() if (ident := _identity(folder)) is not None}
    card_ids = {ident: card for card in cards.values() if (ident := _identity(card)) is not None}
    # The folders between a card's top and the folders holding its clips are the card's too: an
    # alias of one (`mount --bind CARD/DCIM /mnt/x`) has no ancestor that is the card's top.
    for held_key, held in holding.items():
        for card_key, card in cards.items():
            if held_key.startswith(card_key + os.sep):
                folder = held
                while output_key(folder) != card_key and folder != folder.parent:
                    if (ident := _identity(folder)) is not None:
                        card_ids.setdefault(ident, card)
                    folder = folder.parent
    problems: list[Problem] = []
    for folder in _folders_written(str(output_directory), (c.output for c in clips)):
        source_folder = _among(folder, holding, cards, holding_ids, card_ids)
        if source_folder is None:
            continue
        where = "" if folder == Path(os.path.abspath(output_directory)) else f" (its sub-folder '{folder}')"
        problems.append(
            _problem(
                "output_inside_source_folder",
                f"Output folder '{output_directory}'{where} would put files among the source media in "
                f"'{source_folder}': a camera card is never written to. Choose an output folder outside the "
                "folders that hold the sources.",
                output_directory=str(output_directory),
                folder=str(folder),
                source=str(source_folder),
            )
        )
        break  # one folder named is enough to act on; the others follow from the same output folder
    return problems


def _among(
    folder: Path,
    holding: Mapping[str, Path],
    cards: Mapping[str, Path],
    holding_ids: Mapping[Identity, Path],
    card_ids: Mapping[Identity, Path],
) -> Path | None:
    """The source folder or card `folder` would write into: the folder itself holding sources, or it
    or any folder above it being a card (or one of a card's folders), by path or by identity."""
    key = output_key(os.path.realpath(folder))
    by_path = holding.get(key) or next(
        (card for card_key, card in cards.items() if key == card_key or key.startswith(card_key + os.sep)), None
    )
    if by_path is not None:
        return by_path
    ident = _identity(folder)
    if ident is not None and ident in holding_ids:
        return holding_ids[ident]
    # The folder and every folder above it that exists, as named and with links resolved: an alias
    # of a card (a bind mount, a second mount, another letter case) is found by what it is.
    for path in dict.fromkeys((folder, Path(os.path.realpath(folder)))):
        for above in (path, *path.parents):
            ident = _identity(above)
            if ident is not None and ident in card_ids:
                return card_ids[ident]
    return None


def check_space(spec: JobSpec, sources: Mapping[int, MediaInfo | None]) -> list[Problem]:
    out_dir = Path(spec.output_directory)
    if not out_dir.is_dir():
        return []
    estimate = sum(estimate_output_bytes(spec.canonical_profile, info) for info in sources.values() if info)
    reserve = reserve_bytes()
    needed = estimate + required_margin(estimate)
    free = shutil.disk_usage(out_dir).free
    if free >= needed:
        return []
    mib = 1024 * 1024
    return [
        _problem(
            "insufficient_space",
            f"Insufficient disk space in '{out_dir}': about {-(-needed // mib)} MiB needed, {free // mib} MiB free. "
            f"That is {-(-estimate // mib)} MiB for the proxies (estimated for grainy pictures, 10 % more kept as "
            f"a margin) and the {reserve // mib} MiB proxx always leaves free on the volume ({RESERVE_VARIABLE}, "
            "in bytes).",
            needed_bytes=needed,
            free_bytes=free,
            estimate_bytes=estimate,
            reserve_bytes=reserve,
        )
    ]


def validate(
    spec: JobSpec,
    engines: Mapping[str, Engine],
    pm: PluginManager,
    roots: Roots | None = None,
    records: Collection[str] = (),
) -> Validated:
    """`roots`: the folders the entry point that created the job lets it read and write (None: any);
    `records`: the names of the folders the installed exporters keep their records in
    (`Exporter.beside_outputs`, `Proxx.beside_outputs`)."""
    problems = [*check_engine(spec, engines, pm), *check_versions(spec)]
    engine = engines.get(spec.engine)

    def check(clip: ClipSpec) -> tuple[list[Problem], MediaInfo | None]:
        try:
            return check_source(clip, engine, roots)
        except OSError as error:  # a path the system cannot examine (past PATH_MAX): the source's problem
            path = clip.source
            return [_problem("source_unreadable", _unusable("Source file", path, error), source=path)], None

    # ffprobe is a separate process per source: the sources not probed yet in this process are
    # checked side by side; the others (probed when the job was created) in turn, as threads would
    # only contend for the interpreter.
    fresh = [clip for clip in spec.clips if not remembered(clip.source)]
    checked_fresh: dict[int, tuple[list[Problem], MediaInfo | None]] = {}
    if len(fresh) > 1:
        with ThreadPoolExecutor(max_workers=min(8, len(fresh))) as pool:
            checked_fresh = dict(zip([clip.index for clip in fresh], pool.map(check, fresh), strict=True))
    checked = [checked_fresh[clip.index] if clip.index in checked_fresh else check(clip) for clip in spec.clips]
    sources: dict[int, MediaInfo | None] = {}
    for clip, (clip_problems, info) in zip(spec.clips, checked, strict=True):
        sources[clip.index] = info
        problems.extend(clip_problems)
        if engine is not None and info is not None and not clip_problems:
            problems.extend(_engine_problems(engine, pm, spec, clip, info))
    try:
        problems.extend(trust.check_output_folder(spec, roots))
    except OSError as error:
        folder = spec.output_directory
        problems.append(
            _problem("output_folder_unusable", _unusable("Output folder", folder, error), output_directory=folder)
        )
    problems.extend(check_outputs(spec))
    problems.extend(_check_not_records(spec, records))
    with contextlib.suppress(OSError):  # the folder's problem is check_outputs' to say: its free space is unknown
        problems.extend(check_space(spec, sources))
    problems.extend(pm.validate_job(spec, sources))
    return Validated(tuple(problems), sources)


def _check_not_records(spec: JobSpec, records: Collection[str]) -> list[Problem]:
    """Proxies never go into a folder an exporter keeps its records in (Fabric's `ascmhl/`, `.proxx/`):
    an ASC MHL history holding media is no history of them. (The names come from the caller, which
    collected its exporters once: each collection makes new records, which the plugin manager keeps.)"""
    inside = next((part for part in Path(spec.output_directory).parts if part in records), None)
    if inside is None:
        return []
    folder = spec.output_directory
    return [
        _problem(
            "output_in_records",
            f"Output folder '{folder}' is, or is inside, a folder named '{inside}', where an installed exporter "
            "keeps its records; proxies never go there. Choose the folder beside it.",
            output_directory=folder,
        )
    ]


def _engine_problems(
    engine: Engine, pm: PluginManager, spec: JobSpec, clip: ClipSpec, info: MediaInfo
) -> list[Problem]:
    """The engine's own class B problems with one clip; an engine whose check raises (a plugin's bug)
    is the job's class B problem naming its plugin, never a crash of the worker validating it."""
    try:
        found = list(engine.validate_clip(spec, clip, info))
        wrong = next((p for p in found if not isinstance(p, JobValidationError)), None)
        if wrong is not None:
            raise TypeError(f"it yielded a {type(wrong).__name__}, where it must yield JobValidationError")
    except Exception as error:
        plugin = pm.owner_of(engine)
        by = f"plugin '{plugin}'" if plugin else f"the {engine.label} engine's plugin"
        return [
            _problem(
                "plugin_failed",
                f"Source file '{clip.source}' could not be checked: {by} failed in its engine's validate_clip "
                f"({type(error).__name__}: {error}). Nothing was run; ask an administrator to fix or remove "
                "the plugin.",
                source=clip.source,
                plugin=plugin,
            )
        ]
    return found
