"""Sources are media files, and outputs stay where the JobSpec says: the checks that keep a job from
reaching outside its roots (see docs/security.md).

A source must be a regular file (after resolving links) inside the job's roots whose container is on
an allow-list of media demuxers. Playlists (HLS), concat lists, text, images and devices are refused
in class B. The same restriction reaches the engine: ffprobe only ever opens `file:` URLs with an
allow-listed demuxer, and an engine is given the demuxer the probe found (`MediaInfo.demuxer`; the
FFmpeg plugin passes it as `-f`), so a file swapped between validation and render cannot bring a
playlist in; and the runner checks, just before the engine starts, that the source is still the file
that was validated.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from proxx.errors import ExecutionError, JobValidationError
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media.allowlist import MEDIA_DEMUXERS
from proxx.media.files import SEQUENCE_ONLY_EXTENSIONS, sequence_frame
from proxx.media.probe import STILL_IMAGE_FORMATS, MediaInfo
from proxx.roots import Roots

NOT_MEDIA = {
    "hls": "an HLS playlist",
    "concat": "a concat list",
    "tty": "text",
    "image2": "a still image",
    "lavfi": "a filter graph",
}
# Lists of other files, told by their first bytes whatever their name: ffmpeg 8 no longer detects an
# HLS playlist under a media extension (it then says only "Invalid data"), which would hide the reason.
_LIST_SIGNATURES = ((b"#EXTM3U", "hls"), (b"ffconcat version", "concat"))
_NOT_ON_WHITELIST = re.compile(r"\[(\w+) @ [^\]]*\] Format not on whitelist")


def _kind(demuxer: str) -> str:
    if demuxer.endswith("_pipe"):
        return "a still image"
    return NOT_MEDIA.get(demuxer, f"the '{demuxer}' format")


AUDIO_DEMUXERS = frozenset({"wav", "w64", "aiff", "mp3", "flac", "aac", "ogg", "caf", "rf64", "au"})


def not_media(path: str, demuxer: str) -> JobValidationError:
    if demuxer in AUDIO_DEMUXERS:
        return JobValidationError(
            "source_no_video", f"Source file '{path}' has no video stream (audio only).", {"source": path}
        )
    picture = demuxer in STILL_IMAGE_FORMATS or demuxer.endswith("_pipe")
    if picture and sequence_frame(Path(path)) and Path(path).suffix.lower() in SEQUENCE_ONLY_EXTENSIONS:
        return JobValidationError(
            "source_image_sequence",
            f"Source file '{path}' is one frame of an image sequence: image sequences are not supported as "
            "sources; render the frames to a video file first, at the sequence's frame rate.",
            {"source": path},
        )
    if picture:  # a camera's still (IMG_0043.JPG) is named like a frame: said as what it most often is
        numbered = sequence_frame(Path(path))
        frame = (
            " (if it is one frame of an image sequence: sequences are not supported as sources either; "
            "render the frames to a video file first)"
            if numbered
            else ""
        )
        return JobValidationError(
            "source_still_image", f"Source file '{path}' is a still image, not a video{frame}.", {"source": path}
        )
    return JobValidationError(
        "source_not_media",
        f"Source file '{path}' is not a media file: it is {_kind(demuxer)}, which proxx never reads. "
        "Accepted: camera and editorial containers (MOV/MP4, MXF, MPEG-TS/PS, Matroska, AVI, DV, ...).",
        {"source": path, "format": demuxer},
    )


def refused_by_probe(path: str, error: str) -> JobValidationError | None:
    """The refusal for a probe error that says the file's format is not an allow-listed one."""
    found = _NOT_ON_WHITELIST.search(error)
    return not_media(path, found.group(1)) if found else None


def check_source_file(path: str, roots: Roots | None) -> tuple[list[JobValidationError], str | None]:
    """Problems with `path` as a source before anything opens it, and its real path (links
    resolved) when there are none: inside the roots, a regular file (never a FIFO or a device)."""
    real = os.path.realpath(path)
    if roots is not None and not roots.contains(real):
        return [
            JobValidationError(
                "source_outside_roots",
                f"Source '{path}' is not inside the media roots of this job (links resolved); "
                "nothing outside them is read.",
                {"source": path},
            )
        ], None
    try:
        info = os.stat(real)  # a device is refused before anything opens it
    except OSError:
        return [], real  # missing or unreadable: the ordinary checks say which
    if not stat.S_ISREG(info.st_mode):
        return [_not_a_file(path, info.st_mode)], None
    try:  # never waiting: a FIFO renamed there since the stat would block a read for ever
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return [], real  # the ordinary checks say why it cannot be read
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            return [_not_a_file(path, opened.st_mode)], None
        listed = _list_format(os.read(fd, 64))
    finally:
        os.close(fd)
    return ([not_media(path, listed)], None) if listed else ([], real)


def _not_a_file(path: str, mode: int) -> JobValidationError:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (_is_device, "a device"))
    what = next((words for kind, words in kinds if kind(mode)), "not a file")
    return JobValidationError(
        "source_not_a_file",
        f"Source '{path}' is not a regular file ({what}); only media files are read.",
        {"source": path},
    )


def _list_format(head: bytes) -> str | None:
    """ "hls" or "concat" when a file's first bytes are a playlist's or a concat list's, else None."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return next((name for signature, name in _LIST_SIGNATURES if head.startswith(signature)), None)


def _is_device(mode: int) -> bool:
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def check_container(path: str, info: MediaInfo) -> list[JobValidationError]:
    demuxer = info.format_name.split(",")[0]
    return [] if demuxer in MEDIA_DEMUXERS else [not_media(path, demuxer)]


def recheck_source(clip: ClipSpec, info: MediaInfo | None, roots: Roots | None, rendered: bool = False) -> None:
    """Just before the engine starts, and once it has rendered (`rendered`), before its output is
    verified: the source is still the regular file inside the roots that validation probed (same real
    path, same size). Raises a class C `ExecutionError` otherwise: a proxy of a file that changed
    while it was read (a copy still running) is never published."""
    if info is None:
        return  # RAW media the engine reads itself; validated by that engine
    real = os.path.realpath(clip.source)
    try:
        now = os.stat(real)
    except OSError as error:
        raise _changed(clip, f"it is no longer readable ({error.strerror})", rendered) from None
    if real != info.path or (roots is not None and not roots.contains(real)):
        raise _changed(clip, "it now leads somewhere else", rendered)
    if not stat.S_ISREG(now.st_mode):
        raise _changed(clip, "it is no longer the file that was validated", rendered)
    if info.size and now.st_size != info.size:
        why = f"it is no longer the file that was validated ({info.size} bytes then, {now.st_size} now"
        raise _changed(clip, why + (": a copy still running?)" if now.st_size > info.size else ")"), rendered)


def _changed(clip: ClipSpec, why: str, rendered: bool) -> ExecutionError:
    if rendered:
        message = (
            f"Source '{clip.source}' changed while its proxy was being made: {why}. Its proxy was not "
            "published; retry the job once the file is complete."
        )
    else:
        message = f"Source '{clip.source}' changed after validation: {why}. Nothing was rendered from it."
    return ExecutionError("source_changed", message, {"source": clip.source})


def check_output_folder(spec: JobSpec, roots: Roots | None) -> list[JobValidationError]:
    """The output folder is a real folder (not a symlink) inside the roots, and the intent's
    subfolder, when it exists already, is not a symlink either."""
    out_dir = spec.output_directory
    problems = []
    if os.path.islink(out_dir) or (roots is not None and not roots.contains(out_dir)):
        problems.append(
            JobValidationError(
                "output_outside_roots",
                f"Output folder '{out_dir}' is a symbolic link or not inside the media roots of this job; "
                "outputs are only written inside them.",
                {"output_directory": out_dir},
            )
        )
    if spec.naming.folder and os.path.islink(Path(out_dir) / spec.naming.folder):
        problems.append(
            JobValidationError(
                "output_folder_is_link",
                f"Output subfolder '{Path(out_dir) / spec.naming.folder}' is a symbolic link; "
                "outputs are never written through one.",
                {"output_directory": out_dir},
            )
        )
    return problems
