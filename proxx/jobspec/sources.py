"""Sources as the operator gives them: files, and folders (a camera card) that expand to the media
files beneath them, with the same skip rules as watch folders (hidden, partial, sidecar and other
non-media files; proxies' own folders), in a stable order (sorted, a folder's files before its
sub-folders). Each file from a folder keeps its sub-folder, starting with the folder's own name, as
`copy -r` would: `/cards/A001/CLIP/C0001.MP4` given as `/cards/A001` keeps `A001/CLIP`, so
same-named clips from two cards never map to one output. The JobSpec records the expanded list."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from proxx.errors import PreJobError
from proxx.jobspec.model import SourceFile
from proxx.media.files import is_media, skipped_folder


def expand_sources(given: Sequence[str | Path | SourceFile], output_directory: Path) -> list[SourceFile]:
    """Every source file of a job, folders expanded. A folder with no media file in it is refused
    (class A: nothing was created), so that a mistyped card never becomes an empty job."""
    output = Path(os.path.abspath(output_directory))
    expanded: list[SourceFile] = []
    for item in given:
        if isinstance(item, SourceFile):
            expanded.append(item)
            continue
        path = Path(os.path.abspath(Path(item).expanduser()))
        if not path.is_dir():
            expanded.append(SourceFile(path))  # a file, or a missing path: validation says which
            continue
        found = [
            SourceFile(file, (Path(path.name) / file.parent.relative_to(path)).as_posix().removesuffix("/."))
            for file in media_under(path, output)
        ]
        if not found:
            raise PreJobError(
                "folder_without_media",
                f"Folder '{path}' holds no media files (hidden, partial, sidecar and other files are left out); "
                "nothing was created.",
                {"source": str(path)},
            )
        expanded.extend(found)
    return expanded


def media_under(folder: Path, output: Path | None = None) -> list[Path]:
    """The media files beneath `folder`, sorted; the output folder (when inside it) left out."""
    files: list[Path] = []
    for parent, dirs, names in os.walk(folder):
        here = Path(parent)
        dirs[:] = sorted(d for d in dirs if not skipped_folder(here / d) and (output is None or here / d != output))
        files.extend(here / name for name in sorted(names) if is_media(here / name))
    return files
