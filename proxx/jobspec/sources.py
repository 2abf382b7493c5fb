"""Sources as the operator gives them: files, and folders (a camera card) that expand to the video
files beneath them, in a stable order (sorted, a folder's files before its sub-folders).

A folder takes video only. Left out, each with its reason for the operator: hidden files, files still
being written, proxies' own folders (`Proxy/`, and what exporters declare they write beside proxies);
by name, what is not a moving-picture file
(stills, thumbnails, sidecars, sound: .JPG, .THM, .XML, .WAV, .LRV); and by content, each media file
ffprobe reads as holding no video stream (an audio-only .MOV of room tone), a still picture, or a
video of a single frame. A folder of numbered picture files (an image sequence) is named as one.
What ffprobe cannot read stays in: validation says why it cannot be proxied. A link to a folder is
not walked, and said; a folder that cannot be read refuses the job (class A), as its clips would be
left out unsaid. A file named on its own
is never left out: validation refuses it when it cannot be proxied. Each file is probed once: the
probe is remembered (`proxx.media.probe.probe`), and validation asks again for the same answer.

Each file from a folder keeps its sub-folder, starting with the folder's own name, as `copy -r`
would: `/cards/A001/CLIP/C0001.MP4` given as `/cards/A001` keeps `A001/CLIP`, so same-named clips
from two cards never map to one output. The JobSpec records the expanded list.

One job holds each file once (a file given twice, or inside two folders given, or a folder given
twice, is one clip, first place kept) and at most PROXX_MAX_CLIPS_PER_JOB files (default 10,000); a
folder walk stops, before anything is probed, as soon as the job would pass it, so a request naming
a huge share (or one folder 500 times) costs bounded work and creates nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from proxx.errors import JobStateError, PreJobError
from proxx.jobspec.model import SourceFile
from proxx.jobspec.rerun import Proxied
from proxx.media.files import (
    MAX_FOLDER_DEPTH,
    decodable,
    depth_below,
    image_sequences_under,
    is_media,
    not_media_reason,
    pictures_of,
    printable,
    skipped_folder,
)
from proxx.media.probe import ProbeError, probe
from proxx.media.raw import raw_format

NO_VIDEO = "no video stream (sound only)"
NO_STREAMS = "no video stream"
STILL = "a still picture, not a clip"
ONE_FRAME = "a video of a single frame, not a clip"
LINKED_FOLDER = "a link to a folder, not followed (give the folder itself)"


@attrs.frozen
class Skipped:
    """A file of a folder source that the job leaves out, and why, in an operator's words."""

    path: Path
    why: str


@attrs.frozen
class Expansion:
    """The job's source files, folders expanded, and the files of those folders left out."""

    sources: tuple[SourceFile, ...]
    skipped: tuple[Skipped, ...] = ()
    proxied: tuple[Proxied, ...] = ()  # sources left out: their verified proxy is there (`proxx.jobspec.rerun`)


class NothingMissing(JobStateError):
    """A re-run with nothing left to do: every source already has its verified proxy. No job is
    created (a job with no clip would be a record of nothing), and nothing failed: no failure class
    (the web's 409); the CLI says so and succeeds, a watch folder skips the file."""

    def __init__(self, expansion: Expansion, output_directory: Path) -> None:
        super().__init__(
            "nothing_missing",
            f"Every source already has its verified proxy in '{output_directory}' ({len(expansion.proxied)} "
            "already proxied); no job was created.",
            {"output_directory": str(output_directory), "already_proxied": len(expansion.proxied)},
        )
        self.expansion = expansion


DEFAULT_MAX_CLIPS = 10_000
NOT_TEXT = "its name is not UTF-8 text (rename it)"


def max_clips() -> int:
    """PROXX_MAX_CLIPS_PER_JOB: the most source files one job may hold."""
    return max(1, int(os.environ.get("PROXX_MAX_CLIPS_PER_JOB", DEFAULT_MAX_CLIPS)))


def _too_many(limit: int, where: str) -> PreJobError:
    return PreJobError(
        "too_many_sources",
        f"The sources hold more than {limit} media files ({where}); one job takes at most {limit} "
        "(PROXX_MAX_CLIPS_PER_JOB). Nothing was created: give fewer folders, or split the card into several jobs.",
        {"limit": limit},
    )


def expand_sources(
    given: Sequence[str | Path | SourceFile],
    limit: int | None = None,
    beside_outputs: Collection[str] = (),
) -> Expansion:
    """Every source file of a job, folders expanded, each file once, at most `limit` (default
    `max_clips()`). A folder with no video file in it is refused (class A: nothing was created), so
    that a mistyped card never becomes an empty job; so are more files than the limit. Folders named
    in `beside_outputs` (what exporters write beside proxies, `Proxx.beside_outputs`) are left out."""
    if isinstance(given, (str, Path, SourceFile)):  # a str is a sequence of its characters, "/" the whole machine
        one = type(given).__name__
        raise TypeError(f"sources is a list of files and folders, not one {one}: pass [{str(given)!r}]")
    limit = max_clips() if limit is None else limit
    expanded: list[SourceFile] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    walked: set[str] = set()

    def add(source: SourceFile) -> None:
        key = os.path.realpath(source.path)
        if key in seen:
            return
        seen.add(key)
        expanded.append(source)
        if len(expanded) > limit:
            raise _too_many(limit, f"'{source.path}' is file {len(expanded)}")

    for item in given:
        if isinstance(item, SourceFile):
            add(item)
            continue
        path = Path(os.path.abspath(Path(item).expanduser()))
        if not path.is_dir():
            add(SourceFile(path))  # a file, or a missing path: validation says which
            continue
        if os.path.realpath(path) in walked:  # the same folder again: nothing new in it
            continue
        walked.add(os.path.realpath(path))
        # An output folder inside a source folder is not left out of the walk: it would hide the card's
        # own clips (an output of CARD/DCIM hid DCIM) behind "no video files", while validation refuses
        # such an output in class B, naming the folder: a card is never written to.
        files, left_out = video_under(path, limit - len(expanded) + 1, beside_outputs)
        skipped.extend(left_out)
        sequences = [] if files else image_sequences_under(path, beside_outputs)
        if sequences:
            named = "; ".join(sequences[:3]) + (f"; and {len(sequences) - 3} more" if len(sequences) > 3 else "")
            raise PreJobError(
                "folder_image_sequence",
                f"Folder '{path}' holds an image sequence ({named}), not video files: "
                "image sequences are not supported as sources; render the frames to a video file first, at "
                "the sequence's frame rate and timecode. Nothing was created.",
                {"source": str(path), "sequences": sequences},
            )
        if not files:
            raise PreJobError(
                "folder_without_media",
                f"Folder '{path}' holds no video files"
                + (f" ({len(left_out)} other file(s) left out: {_reasons(left_out)})" if left_out else "")
                + "; nothing was created.",
                {"source": str(path), "skipped": len(left_out)},
            )
        for file in files:
            add(SourceFile(file, kept_folder(path, file)))
    return Expansion(tuple(expanded), tuple(skipped))


def _reasons(skipped: Sequence[Skipped]) -> str:
    counts: dict[str, int] = {}
    for item in skipped:
        counts[item.why] = counts.get(item.why, 0) + 1
    return "; ".join(f"{n} {why}" for why, n in counts.items())


def kept_folder(folder: Path, file: Path) -> str:
    """The sub-folder a file found beneath `folder` keeps in the output folder, starting with the
    folder's own name: `A001/CLIP` for `/cards/A001/CLIP/C0001.MP4` beneath `/cards/A001`."""
    return (Path(folder.name) / file.parent.relative_to(folder)).as_posix().removesuffix("/.")


def video_under(
    folder: Path, most: int | None = None, beside_outputs: Collection[str] = ()
) -> tuple[list[Path], list[Skipped]]:
    """The video files beneath `folder`, sorted, and the other files left out with the reason
    (hidden files, such as .DS_Store, silently); the folders `skipped_folder` names are left out.
    The walk stops, before anything is probed, once `most` media files are found."""
    named: list[Path] = []
    skipped: list[Skipped] = []
    for parent, dirs, names in os.walk(folder, onerror=lambda error: _unreadable(folder, error)):
        here = Path(parent)
        dirs[:] = sorted(d for d in dirs if not skipped_folder(here / d, beside_outputs))
        if dirs and depth_below(folder, parent) >= MAX_FOLDER_DEPTH:
            raise PreJobError(
                "folder_too_deep",
                f"Folder '{folder}' nests folders more than {MAX_FOLDER_DEPTH} deep (at '{here}'); a camera card "
                "never does. Nothing was created: give the folders that hold the clips.",
                {"source": str(folder)},
            )
        skipped.extend(Skipped(Path(printable(here / d)), LINKED_FOLDER) for d in dirs if os.path.islink(here / d))
        for name in sorted(names):
            path = here / name
            if name.startswith("."):
                continue
            if not decodable(path):  # no JobSpec, store or page can hold the name as it is
                skipped.append(Skipped(Path(printable(path)), NOT_TEXT))
            elif is_media(path):
                named.append(path)
            else:
                skipped.append(Skipped(path, not_media_reason(name)))
        if most is not None and len(named) >= most:
            del dirs[:]
            break
    if len(named) <= 1:
        whys = [not_video(path) for path in named]
    else:  # ffprobe is a process per file: a card's files are probed side by side
        with ThreadPoolExecutor(max_workers=min(8, len(named), (os.cpu_count() or 1) * 2)) as pool:
            whys = list(pool.map(not_video, named))
    files = [path for path, why in zip(named, whys, strict=True) if why is None]
    skipped.extend(Skipped(path, why) for path, why in zip(named, whys, strict=True) if why is not None)
    skipped.sort(key=lambda s: s.path)
    return files, skipped


def _unreadable(card: Path, error: OSError) -> None:
    """A folder of a card the walk cannot open: refused, as its clips would be left out unsaid."""
    where = Path(os.fsdecode(error.filename or card))
    inside = "" if where == card else f" (in '{card}')"
    raise PreJobError(
        "folder_unreadable",
        f"Folder '{where}'{inside} cannot be read ({error.strerror}): its clips would be left out. Nothing was "
        "created: make it readable, or give the folders beside it instead.",
        {"source": str(card), "folder": str(where)},
    )


def not_video(path: Path) -> str | None:
    """Why a media file from a folder holds nothing to proxy, or None when it is (or may be) video.
    Only a plain file is probed (never a link, a FIFO or a device: validation judges those), RAW
    camera files are left to their engine, and a file ffprobe cannot read stays for validation."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or raw_format(str(path), None) is not None:
            return None
        info = probe(str(path))
    except (OSError, ProbeError):  # ProbeCrashed too: validation reports the tool
        return None
    if info.video is None:
        clip = pictures_of(path) if info.audio else None
        if clip is not None:
            return f"a sound channel of the P2 clip {clip.name}, read with that clip"
        return NO_VIDEO if info.audio else NO_STREAMS
    if info.is_still_image:
        return STILL
    if info.video.nb_frames == 1:  # proxied when named on its own; on a card, not a clip
        return ONE_FRAME
    return None
