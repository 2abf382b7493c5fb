"""Step 3 of the flow: class B validation, before any engine process starts.

Every problem is found (not only the first), so an operator fixes everything in one go. The probes
made here are handed to execution and verification, so a source is probed once per job.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from proxx.errors import JobValidationError
from proxx.execute.engine import Engine
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media.probe import MediaInfo, ProbeCrashed, ProbeError, probe
from proxx.media.raw import raw_format
from proxx.plugins import PluginManager
from proxx.roots import Roots
from proxx.validate import trust
from proxx.validate.space import estimate_output_bytes, required_margin

Problem = JobValidationError


@attrs.frozen
class Validated:
    """What validation learned: the problems, and each clip's probe (None when not probed)."""

    problems: tuple[Problem, ...]
    sources: Mapping[int, MediaInfo | None]
    # The problems of each clip's own source (missing, not media, not decodable, one its engine cannot
    # take), by clip index; they are among `problems` too. The rest concern the whole job.
    clip_problems: Mapping[int, tuple[Problem, ...]] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def job_problems(self) -> tuple[Problem, ...]:
        own = {id(p) for clip in self.clip_problems.values() for p in clip}
        return tuple(p for p in self.problems if id(p) not in own)


def _problem(reason: str, message: str, **context: object) -> Problem:
    return JobValidationError(reason, message, context)


def check_engine(spec: JobSpec, engines: Mapping[str, Engine]) -> list[Problem]:
    engine = engines.get(spec.engine)
    if engine is None:
        return [
            _problem(
                "engine_not_installed",
                f"Engine '{spec.engine}' is not installed on this system.",
                engine=spec.engine,
            )
        ]
    availability = engine.availability()
    if not availability.available:
        return [
            _problem(
                "engine_unavailable",
                f"{engine.label} engine not available on this system: {availability.reason}",
                engine=spec.engine,
            )
        ]
    return []


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
    if not Path(path).is_file():
        return [_problem("source_not_a_file", f"Source '{path}' is not a file.", source=path)], None
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        reason = error.strerror or str(error)
        return [_problem("source_unreadable", f"Source file '{path}' is not readable: {reason}.", source=path)], None
    if stat.st_size == 0:
        return [_problem("source_empty", f"Source file '{path}' is empty (0 bytes).", source=path)], None

    accepts_raw = engine is not None and engine.accepts_raw
    try:
        info: MediaInfo | None = probe(real)  # the file itself: a link swapped later leads nowhere
    except ProbeCrashed as crashed:  # the tool's fault: never reported as the file's
        return [
            _problem(
                "probe_crashed",
                f"Source file '{path}' could not be examined: {crashed}. This is a fault of the installed "
                "ffprobe, not a finding about the file; `proxx doctor` checks the toolchain.",
                source=path,
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
        return [
            _problem(
                "raw_needs_resolve",
                f"Source file '{path}' is RAW camera media ({raw}), which this intent's engine cannot "
                "decode: an intent rendered by Resolve is needed.",
                source=path,
                raw_format=raw,
            )
        ], info
    if raw is not None:
        return [], info  # the RAW-capable engine reads it; ffprobe may not
    if info is None:
        return [
            _problem(
                "source_not_decodable",
                f"Source file '{path}' is not a decodable video: {probe_error}.",
                source=path,
            )
        ], None
    if trust.check_container(path, info):
        return trust.check_container(path, info), None
    if info.video is None:
        what = "audio only" if info.audio else "no streams"
        return [_problem("source_no_video", f"Source file '{path}' has no video stream ({what}).", source=path)], info
    if info.is_still_image:
        return [
            _problem("source_still_image", f"Source file '{path}' is a still image, not a video.", source=path)
        ], info
    if info.video_duration is None:  # verification compares durations: without one nothing can be verified
        return [
            _problem(
                "source_duration_unknown",
                f"Source file '{path}' has no duration ffprobe can read (a bare stream without a container?), "
                "so its proxy could never be verified. Wrap it in a container (e.g. MOV) first.",
                source=path,
            )
        ], info
    return [], info


def _writable(folder: Path) -> str | None:
    """None if files can be created in `folder` (tried for real: root ignores mode bits), else why."""
    try:
        fd, probe_path = tempfile.mkstemp(prefix=".proxx-write-test-", dir=folder)
    except OSError as error:
        return error.strerror or str(error)
    os.close(fd)
    os.unlink(probe_path)
    return None


def check_outputs(spec: JobSpec) -> list[Problem]:
    problems: list[Problem] = []
    out_dir = Path(spec.output_directory)
    if not out_dir.is_dir():
        what = "is not a folder" if out_dir.exists() else "does not exist"
        return [_problem("output_folder_missing", f"Output folder '{out_dir}' {what}.", output_directory=str(out_dir))]
    folders = sorted({Path(c.output).parent for c in spec.clips})
    for folder in folders:
        if folder != out_dir and not folder.exists():
            continue  # the intent's subfolder (e.g. Proxy/) is created at execution
        why = _writable(folder if folder.exists() else out_dir)
        if why:
            problems.append(
                _problem(
                    "output_folder_unwritable",
                    f"Output folder '{folder}' is not writable: {why}.",
                    output_directory=str(folder),
                )
            )
    problems.extend(_output_in_a_card(spec))
    seen: dict[str, str] = {}
    for clip in spec.clips:
        key = os.path.normcase(clip.output)
        if key in seen:
            problems.append(
                _problem(
                    "output_collision",
                    f"Sources '{seen[key]}' and '{clip.source}' would both be written to '{clip.output}'.",
                    output=clip.output,
                )
            )
            continue
        seen[key] = clip.source
        if os.path.lexists(clip.output):
            problems.append(
                _problem("output_exists", f"Output path '{clip.output}' already exists.", output=clip.output)
            )
    return problems


def _card_of(clip: ClipSpec) -> Path | None:
    """The folder a clip's source was given in (its card), from the sub-folder it keeps."""
    if not clip.folder:
        return None
    parts = clip.folder.split("/")
    parent = Path(clip.source).parent
    for _ in parts:
        parent = parent.parent
    return parent / parts[0]


def _output_in_a_card(spec: JobSpec) -> list[Problem]:
    """An output folder inside (or equal to) a folder given as a source would fill the camera card
    with proxies, checksums and proxx's own files; only an intent whose naming gives proxies their
    own sub-folder (Proxy/) may write there."""
    if spec.naming.folder:
        return []
    out_dir = Path(os.path.realpath(spec.output_directory))
    problems: list[Problem] = []
    for card in sorted({c for c in map(_card_of, spec.clips) if c is not None}):
        real = Path(os.path.realpath(card))
        if out_dir == real or real in out_dir.parents:
            problems.append(
                _problem(
                    "output_inside_source_folder",
                    f"Output folder '{spec.output_directory}' is inside the source folder '{card}': proxies would "
                    "be written among the camera files. Choose an output folder outside it, or an intent whose "
                    "naming puts proxies in their own sub-folder.",
                    output_directory=spec.output_directory,
                    source=str(card),
                )
            )
    return problems


def check_space(spec: JobSpec, sources: Mapping[int, MediaInfo | None]) -> list[Problem]:
    out_dir = Path(spec.output_directory)
    if not out_dir.is_dir():
        return []
    needed = sum(estimate_output_bytes(spec.canonical_profile, info) for info in sources.values() if info)
    needed += required_margin(needed)
    free = shutil.disk_usage(out_dir).free
    if free >= needed:
        return []
    mib = 1024 * 1024
    return [
        _problem(
            "insufficient_space",
            f"Insufficient disk space in '{out_dir}': about {needed // mib} MiB needed "
            f"(estimated output plus margin), {free // mib} MiB free.",
            needed_bytes=needed,
            free_bytes=free,
        )
    ]


def validate(spec: JobSpec, engines: Mapping[str, Engine], pm: PluginManager, roots: Roots | None = None) -> Validated:
    """`roots`: the folders the entry point that created the job lets it read and write (None: any)."""
    problems = check_engine(spec, engines)
    engine = engines.get(spec.engine)
    if len(spec.clips) == 1:  # no thread to start
        checked = [check_source(spec.clips[0], engine, roots)]
    else:  # ffprobe is a separate process per source: probe in parallel
        with ThreadPoolExecutor(max_workers=min(8, len(spec.clips))) as pool:
            checked = list(pool.map(lambda clip: check_source(clip, engine, roots), spec.clips))
    sources: dict[int, MediaInfo | None] = {}
    by_clip: dict[int, tuple[Problem, ...]] = {}
    for clip, (clip_problems, info) in zip(spec.clips, checked, strict=True):
        own = list(clip_problems)
        sources[clip.index] = info
        if engine is not None and info is not None and not clip_problems:
            own.extend(engine.validate_clip(spec, clip, info))
        problems.extend(own)
        if own:
            by_clip[clip.index] = tuple(own)
    problems.extend(trust.check_output_folder(spec, roots))
    problems.extend(check_outputs(spec))
    problems.extend(check_space(spec, sources))
    problems.extend(pm.validate_job(spec, sources))
    return Validated(tuple(problems), sources, by_clip)
