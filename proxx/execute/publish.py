"""Where an engine writes a clip, and how a verified output gets its final name, without following a
link anyone could plant in a shared output folder.

The engine writes into a private folder (mode 0700) that the runner creates next to the final name
with `mkdir`, which never follows a link and fails on any name already there (a planted symlink
included): nobody else can put anything inside it. The runner holds that folder open from its
creation until the clip is published or removed, and hands the engine (and verification) the file
through the open descriptor (`/proc/<pid>/fd/<n>/<name>` on Linux), never a path that could be
walked again: swapping `Proxy/` or the private folder for a link after it was made redirects
nothing. Publishing checks, by descriptor, that the private folder still sits where it was made. The output
folder is opened without following a link and must lie inside the job's roots after resolution; the
intent's subfolder (e.g. `Proxy/`) is created and opened the same way. Publishing hard-links the
verified regular file to its final name (`linkat`, which never replaces an existing name or follows a
link). A failed clip's partial output is then moved beside the final name for debugging, as
`<name>.proxx-partial-<job suffix>.<ext>`, never over an existing name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from proxx.errors import ExecutionError

if TYPE_CHECKING:  # `proxx jobs show` finds a failed job's partial outputs from its JobSpec's document
    from proxx.jobspec.model import ClipSpec, JobSpec
    from proxx.roots import Roots

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_PARTIAL = ".proxx-partial-"
_PARTIAL_SUFFIX = r"\.proxx-partial-[0-9a-f]{8}"


def copy_reused(source: Path, destination: Path) -> str:
    """Copy an earlier verified output to `destination` (created exclusively, never through a link);
    the earlier output is opened without following a link and must be a regular file. Always a
    copy, never a hard link: a link would make the new proxy and another job's one file, so a change
    to either (or its removal from an index) would reach the other project. Says "copied"."""
    try:
        src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise _refused(
            "reuse_unreadable", f"The earlier output '{source}' cannot be read ({error.strerror})."
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(src).st_mode):
            raise _refused("reuse_unreadable", f"The earlier output '{source}' is not a regular file.")
        dst = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(dst, "wb") as out, os.fdopen(os.dup(src), "rb") as into:
            shutil.copyfileobj(into, out, 1 << 20)
    finally:
        os.close(src)
    return "copied"


def _suffix(job_id: str) -> str:
    return job_id.rsplit("-", 1)[-1]


def partial_path(clip: ClipSpec, job_id: str) -> Path:
    """A clearly temporary name beside the final one: A001.proxx-partial-3f9a1c2b.mov (where a
    failed clip's output is kept)."""
    return _partial(clip.output, job_id)


# The longest file name, in bytes, of the file systems proxies go to (ext4, XFS, APFS, NTFS, exFAT
# and SMB shares all stop at 255): an output name longer is refused at validation.
NAME_MAX = 255


def name_fits(name: str) -> bool:
    """Whether `name` (one file name, no folder) is short enough for the output's file system."""
    return len(os.fsencode(name)) <= NAME_MAX


def _partial(output: str, job_id: str) -> Path:
    final = Path(output)
    tail = f".proxx-partial-{_suffix(job_id)}{final.suffix}"
    name = final.stem + tail
    if name_fits(name):
        return final.with_name(name)
    # A final name near the limit leaves no room for the partial's 23 more bytes: its stem is cut
    # (on a character boundary) and a digest of the whole name added, so two long names sharing
    # their beginning still get partial names of their own.
    import hashlib  # here: `jobs show` imports this module for its partials, and needs no digest

    digest = hashlib.sha256(os.fsencode(final.name)).hexdigest()[:8]
    room = NAME_MAX - len(os.fsencode(f"~{digest}{tail}"))
    stem = os.fsencode(final.stem)[:room].decode("utf-8", errors="ignore")
    while not name_fits(f"{stem}~{digest}{tail}"):  # a name not in UTF-8 (surrogate-escaped bytes)
        stem = stem[:-1]
    return final.with_name(f"{stem}~{digest}{tail}")


def staged_path(clip: ClipSpec, job_id: str) -> Path:
    """Where the engine writes: the partial name inside the clip's private folder."""
    return _staged(clip.index, clip.output, job_id)


def _staged(index: int, output: str, job_id: str) -> Path:
    private = Path(output).parent / f".proxx-partial-{_suffix(job_id)}-{index}"
    return private / _partial(output, job_id).name


def leftovers(spec: JobSpec) -> list[Path]:
    """Partial outputs of `spec` still on disk (kept beside a failed clip's final name, or left in
    its private folder by a crashed worker), for the operator to see; never proxies."""
    return kept_partials(spec.job_id, [(clip.index, clip.output) for clip in spec.clips])


def kept_partials(job_id: str, clips: Iterable[tuple[int, str]]) -> list[Path]:
    """`leftovers` of the job `job_id`, its clips given as (index, output)."""
    found = []
    for index, output in clips:
        for path in (_partial(output, job_id), _staged(index, output, job_id)):
            if os.path.lexists(path):
                found.append(path)
    return found


def kept_bytes(paths: list[Path]) -> int:
    """The space `leftovers` take (links not followed)."""
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += os.lstat(path).st_size
    return total


def remove_partials(spec: JobSpec, roots: Roots | None) -> list[Path]:
    """The operator's clean-up of a finished job's kept partial outputs: each partial name beside a
    final name, and each private folder a crashed attempt left with the partial in it, removed
    through descriptors that never follow a link; nothing else (a proxy, another job's file) is
    touched. Returns what was removed."""
    removed: list[Path] = []
    for clip in spec.clips:
        kept, staged = partial_path(clip, spec.job_id), staged_path(clip, spec.job_id)
        if not (os.path.lexists(kept) or os.path.lexists(staged.parent)):
            continue
        with contextlib.suppress(OSError, ExecutionError), _output_folder(spec, clip, roots, create=False) as folder:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISREG(os.stat(kept.name, dir_fd=folder, follow_symlinks=False).st_mode):
                    os.unlink(kept.name, dir_fd=folder)
                    removed.append(kept)
            try:
                private = os.open(staged.parent.name, _DIR_FLAGS, dir_fd=folder)
            except FileNotFoundError:
                continue
            try:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(staged.name, dir_fd=private)
                    removed.append(staged)
            finally:
                os.close(private)
            with contextlib.suppress(OSError):  # only when empty: nothing but proxx's own name inside
                os.rmdir(staged.parent.name, dir_fd=folder)
    return removed


def _refused(reason: str, message: str, **context: object) -> ExecutionError:
    return ExecutionError(reason, message, context)


@contextlib.contextmanager
def _output_folder(spec: JobSpec, clip: ClipSpec, roots: Roots | None, create: bool) -> Iterator[int]:
    """An open descriptor of the clip's folder (the output folder, or beneath it the intent's
    subfolder and the sub-folder a source from a card keeps), each step reached without following a
    link and inside the roots."""
    out_dir = Path(spec.output_directory)
    parts = [*Path(spec.naming.folder).parts, *(clip.folder.split("/") if clip.folder else ())]
    folder = out_dir.joinpath(*parts)
    if Path(clip.output).parent != folder or any(part in ("", ".", "..") for part in parts):
        raise _refused(
            "output_not_in_folder",
            f"Output '{clip.output}' is not in the job's output folder '{folder}'; nothing was written.",
            output=clip.output,
        )
    if roots is not None and not roots.contains(out_dir):
        raise _refused(
            "output_outside_roots",
            f"Output folder '{out_dir}' is no longer inside the media roots of this job (links resolved); "
            "nothing was written.",
            output_directory=str(out_dir),
        )
    try:
        fd = os.open(out_dir, _DIR_FLAGS)
    except OSError as error:
        raise _refused(
            "output_folder_unusable",
            f"Output folder '{out_dir}' cannot be used ({error.strerror}; a symbolic link is never followed); "
            "nothing was written.",
            output_directory=str(out_dir),
        ) from None
    try:
        for depth, part in enumerate(parts, start=1):
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
            try:
                sub = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                raise _refused(
                    "output_folder_unusable",
                    f"Output subfolder '{out_dir.joinpath(*parts[:depth])}' cannot be used ({error.strerror}; "
                    "a symbolic link is never followed); nothing was written.",
                    output_directory=str(folder),
                ) from None
            os.close(fd)
            fd = sub
        yield fd
    finally:
        os.close(fd)


_BY_DESCRIPTOR = Path("/proc/self/fd").is_dir()  # Linux: a held folder is reachable as /proc/<pid>/fd/<n>


@attrs.define
class Staged:
    """A clip's private folder, held open from its creation until its output is published, kept
    for debugging or removed (`close`)."""

    path: Path  # the staged file's name, as operators are told: staged_path()
    fd: int  # the private folder, opened as it was created

    @property
    def written(self) -> Path:
        """What the engine writes and verification reads: the file inside the held folder, through
        its descriptor (any process of this user can open it; nothing on the way can be swapped).
        Where no such path exists, the path itself, and `publish` then finds a swapped folder."""
        if not _BY_DESCRIPTOR:
            return self.path
        return Path(f"/proc/{os.getpid()}/fd/{self.fd}") / self.path.name

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def stage(spec: JobSpec, clip: ClipSpec, roots: Roots | None) -> Staged:
    """Create the clip's private folder and hold it open for the engine."""
    target = staged_path(clip, spec.job_id)
    with _output_folder(spec, clip, roots, create=True) as folder:
        try:
            os.mkdir(target.parent.name, 0o700, dir_fd=folder)
        except FileExistsError:
            raise _refused(
                "partial_name_taken",
                f"Something already has the temporary name '{target.parent}' (a planted link?); nothing was written.",
                output=clip.output,
            ) from None
        try:
            private = os.open(target.parent.name, _DIR_FLAGS, dir_fd=folder)
        except OSError:
            private = -1
        if private >= 0:
            info = os.fstat(private)
            if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700:
                return Staged(target, private)
            os.close(private)
    raise _refused(
        "partial_name_taken",
        f"The temporary folder '{target.parent}' was replaced as soon as it was made (a planted link or folder?); "
        "nothing was written.",
        output=clip.output,
    )


def _check_in_place(staged: Staged, folder: int, final: Path, written: bool = True) -> None:
    """The held private folder is still the one named in the clip's output folder, and (`written`)
    the output in it a regular file: else whatever the folder holds now is not what was verified."""
    held = os.fstat(staged.fd)
    named = _lstat(staged.path.parent.name, folder)
    if named is None or (named.st_dev, named.st_ino) != (held.st_dev, held.st_ino):
        raise _refused(
            "output_folder_moved",
            f"The folder of '{final}' was moved or replaced while the clip rendered; the output was not published.",
            output=str(final),
        )
    if not written:
        return
    output = _lstat(staged.path.name, staged.fd)
    if output is None or not stat.S_ISREG(output.st_mode):
        raise _refused(
            "partial_not_a_file", f"The output written for '{final}' is not a regular file; it was not published."
        )


def confirm_staged(spec: JobSpec, clip: ClipSpec, staged: Staged, roots: Roots | None) -> None:
    """Before verification: the output folder and the private folder in it are still where they were
    made. An output folder removed (or moved) while the engine wrote is said as that, not as a proxy
    the engine never wrote: the engine's descriptor outlives the folder's name."""
    with _output_folder(spec, clip, roots, create=False) as folder:
        _check_in_place(staged, folder, Path(clip.output), written=False)  # no file: verification says so


def publish(spec: JobSpec, clip: ClipSpec, staged: Staged, roots: Roots | None) -> None:
    """Give a verified output its final name, atomically and never over an existing name or link.
    The partial outputs earlier attempts at this clip kept stay: only the operator removes them
    (`remove_partials`: `proxx jobs clean`, or hiding their job)."""
    final = Path(clip.output)
    with _output_folder(spec, clip, roots, create=False) as folder:
        _check_in_place(staged, folder, final)
        private, name = staged.fd, staged.path.name
        try:  # linkat: fails if `final` exists (a file or a link): no check-then-rename race
            os.link(name, final.name, src_dir_fd=private, dst_dir_fd=folder, follow_symlinks=False)
        except FileExistsError:
            raise _refused(
                "output_exists",
                f"Output path '{final}' appeared while the job ran; the verified output stays at "
                f"'{partial_path(clip, spec.job_id)}'.",
                output=str(final),
                partial_output=str(staged.path),
            ) from None
        except OSError:  # no hard links here (some network shares): rename, having checked just before
            if _lexists(final.name, folder):
                raise _refused(
                    "output_exists",
                    f"Output path '{final}' appeared while the job ran; the verified output stays at "
                    f"'{partial_path(clip, spec.job_id)}'.",
                    output=str(final),
                ) from None
            os.rename(name, final.name, src_dir_fd=private, dst_dir_fd=folder)
        else:
            os.unlink(name, dir_fd=private)
        with contextlib.suppress(OSError):
            os.rmdir(staged.path.parent.name, dir_fd=folder)


def discard(spec: JobSpec, clip: ClipSpec, staged: Staged, roots: Roots | None) -> None:
    """After a cancel: remove what the engine wrote and its private folder (a cancel is not a crash
    to debug, and a partial file left in a camera folder only misleads)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(staged.path.name, dir_fd=staged.fd)
    with contextlib.suppress(OSError, ExecutionError), _output_folder(spec, clip, roots, create=False) as folder:
        os.rmdir(staged.path.parent.name, dir_fd=folder)


def unstage(spec: JobSpec, clip: ClipSpec, staged: Staged, roots: Roots | None) -> str | None:
    """After a failure: move what the engine wrote beside the final name (for debugging, never over
    an existing name) and remove the private folder. Returns where it is kept, or None."""
    name = staged.path.name
    try:
        with _output_folder(spec, clip, roots, create=False) as folder:
            if not _lexists(name, staged.fd):
                with contextlib.suppress(OSError):
                    os.rmdir(staged.path.parent.name, dir_fd=folder)
                return None
            kept = partial_path(clip, spec.job_id)
            _check_in_place(staged, folder, Path(clip.output))
            os.link(name, kept.name, src_dir_fd=staged.fd, dst_dir_fd=folder, follow_symlinks=False)
            os.unlink(name, dir_fd=staged.fd)
            os.rmdir(staged.path.parent.name, dir_fd=folder)
    except (OSError, ExecutionError):
        return str(staged.path) if _lexists(name, staged.fd) else None  # left in its private folder
    return str(kept)


def _lstat(name: str, folder: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return None


def _lexists(name: str, folder: int) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError as error:
        # A name too long for the file system names nothing; any other error (EACCES, EIO) may hide a
        # file, so the name counts as taken: nothing is ever written over it.
        return error.errno not in (errno.ENOENT, errno.ENAMETOOLONG, errno.ENOTDIR)
    return True
