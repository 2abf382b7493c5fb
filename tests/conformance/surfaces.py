"""Every operator surface, after failures of every class: what an operator reads on the CLI (stdout
and stderr of `run`, `jobs list`, `jobs show`), on the web (the job pages, the form's answer, the
operator API's JSON: jobs, results, the log shown to operators), made once for the whole suite.

The words operators must never read are collected from the registry and the installed engines:
every canonical id, engine name, codec and container declared, the codecs proxx reads back, and
the marks of an engine's command line."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from fastapi.testclient import TestClient

from proxx import Proxx
from proxx.cli import main
from proxx.compile.profiles import CODEC_FAMILY
from proxx.media.samples import make_clip
from proxx.verify.checks import PROBED_CODEC
from proxx.web.app import create_app
from proxx.web.roots import MediaRoots, parse_roots
from proxx.web.service import WebService

STUDIO_INTENTS = {
    "ambiguous": 'user_profile_version: "1.0"\nname: Studio Ambiguous\nconstraints:\n  preferred_codecs: [prores]\n',
    "unsatisfiable": 'user_profile_version: "1.0"\nname: Studio Same Size\nconstraints:\n  max_resolution: same\n'
    "  preferred_codecs: [h264]\n",
    "engine_missing": 'user_profile_version: "1.1"\nname: Studio Elsewhere\nconstraints:\n'
    "  engine_preference: [studiofarmengine]\n",
    "malformed": 'user_profile_version: "1.0"\nname: Studio Broken\nconstraints:\n  max_bitrate: 5\n',
    "resolve": 'user_profile_version: "1.1"\nname: Studio Resolve SQ\nconstraints:\n  codecs: [dnxhr_sq]\n',
}
ELSEWHERE = (  # a canonical profile of an engine no plugin here provides
    'canonical_profile_version: "1.0"\nid: studio_h264_elsewhere\nengine: studiofarmengine\ncodec: h264\n'
    "container: mp4\nresolution: scale_25\naudio: aac\n"
)
# Class A: the intent each case chooses.
PRE_JOB = {
    "unknown": "No Such Intent",
    "deprecated": "Legacy_ProRes_422",
    "ambiguous": "Studio Ambiguous",
    "unsatisfiable": "Studio Same Size",
    "engine_missing": "Studio Elsewhere",
    "malformed": "Studio Broken",
}
COMMAND_LINE = r"-c:v|-c:a|-map |-profile:v|libx264|prores_aw|prores_ks|-fps_mode|file:/|-progress|\$ /"
GENERIC = re.compile(
    r"^\W*(?:proxx:\s*)?(?:error|failed|failure|an error occurred|unknown error|something went wrong)\W*$",
    re.IGNORECASE | re.MULTILINE,
)


# Class C made for real, each with the engine's own last words (`engine_lines`): a source cut short
# mid-file (real ffmpeg), an ffmpeg that fails writing (the volume full, the folder read-only), one
# stopped at its timeout, one cancelled by the operator while it renders, and ffmpeg's own error.
FAKE_FFMPEG_FAILURES = {
    "disk_full": "[out#0 @ 0x5581] Error writing trailer of the proxy: No space left on device",
    "output_unwritable": "[out#0 @ 0x5581] av_interleaved_write_frame(): Read-only file system",
}
EXECUTION_CASES = ("engine_error", "source_damaged", "disk_full", "output_unwritable", "timeout", "cancelled")


@attrs.frozen
class Surfaces:
    """What operators read: `texts` by surface and case ("cli run: missing_source"), `messages` the
    failure message each case showed on the CLI, `forbidden` the words never to be read there.
    `jobs` the job of each case that created one; `integrator` what administrators and integrators
    read of a class C case ("jobs show --verbose: timeout", "result: timeout", the raw result JSON)."""

    texts: dict[str, str]
    messages: dict[str, str]
    forbidden: re.Pattern[str]
    engines: frozenset[str]
    studio_words: tuple[str, ...]
    jobs: dict[str, str]
    integrator: dict[str, str]

    def of_job(self, case: str) -> dict[str, str]:
        """Every operator surface that shows the job of `case`: its `run`, `jobs show`, web page,
        operator API (with the log shown to operators) and result copy, and the job lists."""
        job_id = self.jobs[case]
        return {
            where: text
            for where, text in self.texts.items()
            if where == f"cli run: {case}" or job_id in where or where in ("cli jobs list", "web jobs page", "api jobs")
        }

    def without_studio_words(self, text: str) -> str:
        """Intent names and descriptions are the studio's own words ("Archive ProRes"): operators
        choose by them, so they are taken out before searching."""
        for words in self.studio_words:
            text = text.replace(html.escape(words), "").replace(json.dumps(words)[1:-1], "").replace(words, "")
        return text

    def found(self, pattern: re.Pattern[str]) -> dict[str, list[str]]:
        """Each surface where `pattern` matches, with what it matched."""
        hits = {where: sorted(set(pattern.findall(self.without_studio_words(t)))) for where, t in self.texts.items()}
        return {where: words for where, words in hits.items() if words}


def forbidden_words(proxx: Proxx) -> tuple[re.Pattern[str], frozenset[str]]:
    """The words operators must never read on this installation (the render farm's tests use it
    too), and its engines' names."""
    registry = list(proxx.repository.registry)
    engines = {p.engine for p in registry} | set(proxx.engines)
    words = {p.id for p in registry} | {p.codec for p in registry} | {p.container for p in registry} | engines
    words |= set(CODEC_FAMILY) | set(CODEC_FAMILY.values()) | {name for name, _ in PROBED_CODEC.values()}
    free = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    # A file name's extension (A001.mov) or a path's part is the operator's own data.
    return re.compile(rf"(?<![\w./\\-])(?:{free})(?![\w/\\])|{COMMAND_LINE}", re.IGNORECASE), frozenset(engines)


def _cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


def _another_codec(args: list[str]) -> list[str]:
    """The same command, encoding MPEG-4 Part 2 (a format no bundled intent promises)."""
    at, profile = args.index("-c:v"), args.index("-profile:v")
    changed = [*args[: at + 1], "mpeg4", *args[at + 2 :]]
    return [*changed[:profile], *changed[profile + 2 :]]


def _fake_ffmpeg(folder: Path, case: str, real: str, engine_line: str | None) -> Path:
    """An ffmpeg that, asked to render, writes part of the proxy and reports 0.05 s done, then fails
    with `engine_line` on stderr (exit 1), or without one renders until it is stopped; anything else
    (its version, a probe) is the real one's."""
    script = folder / f"ffmpeg-{case}"
    ending = f"echo '{engine_line}' >&2\nexit 1\n" if engine_line else "while :; do sleep 0.1; done\n"
    script.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" -progress "*) ;; *) exec "{real}" "$@";; esac\n'
        "for last; do :; done\n"
        'printf "part of a proxy" > "${last#file:}"\n'
        "printf 'out_time_us=50000\\nprogress=continue\\n'\n" + ending
    )
    script.chmod(0o755)
    return script


def cut_short(clip: Path, folder: Path) -> Path:
    """A 48-frame clip whose index comes first (as cameras write it), cut at 45 %: it probes and
    starts decoding like the whole clip, and its data stops a third of a second in."""
    from proxx.media.tools import require_tool

    whole = make_clip(folder / "whole.mov", frames=48, size="320x180")
    indexed = folder / "indexed.mov"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-i", str(whole), "-map", "0", "-c", "copy",
         "-movflags", "+faststart", str(indexed)],
        check=True,
    )  # fmt: skip
    data = indexed.read_bytes()
    cut = folder / "A210_C001.mov"
    cut.write_bytes(data[: len(data) * 45 // 100])
    return cut


def _cancel_when_rendering(done: threading.Event) -> None:
    """The operator's cancel (another process's, through the store) of the job that starts rendering."""
    proxx = Proxx.open()
    try:
        while not done.is_set():
            running = [row for row in proxx.store.jobs() if row.state == "RUNNING"]
            if running and proxx.store.job(running[0].job_id).progress > 0:
                proxx.cancel(running[0].job_id)
                return
            time.sleep(0.05)
    finally:
        proxx.store.close()


def _csrf(http: TestClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', http.get("/jobs/new").text)
    assert match
    return match.group(1)


def build_surfaces(base: Path, clip: Path, monkeypatch: pytest.MonkeyPatch) -> Surfaces:
    from proxx.media import tools
    from proxx_ffmpeg import engine

    media, studio = base / "media", base / "studio"
    day, out = media / "day1", media / "out"
    for folder in (day, out, studio / "user", studio / "canonical"):
        folder.mkdir(parents=True)
    for name, text in STUDIO_INTENTS.items():
        (studio / "user" / f"{name}.yaml").write_text(text)
    (studio / "canonical" / "elsewhere.yaml").write_text(ELSEWHERE)
    monkeypatch.setenv("PROXX_HOME", str(base / "home"))
    monkeypatch.setenv("PROXX_PROFILES", str(studio))
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", "1")

    def source(name: str) -> Path:
        return Path(shutil.copyfile(clip, day / name))

    texts: dict[str, str] = {}
    messages: dict[str, str] = {}
    case_jobs: dict[str, str] = {}

    def run(case: str, intent: str, *sources: Path) -> None:
        code, text = _cli(["run", "--profile", intent, "--output", str(out), *map(str, sources)])
        assert code in (3, 4, 5), (case, code, text)
        texts[f"cli run: {case}"] = text
        messages[case] = text
        job = re.search(r"\bJob (job-\S+) ", text)
        if job:
            case_jobs[case] = job.group(1)

    for case, intent in PRE_JOB.items():
        run(case, intent, source("A001_C001.mov"))
    # B) job validation
    run("missing_source", "Review H.264", day / "A404_C001.mov")
    (day / "A002_C001.mov").write_bytes(b"this is not a video\n")
    run("not_decodable", "Review H.264", day / "A002_C001.mov")
    (out / "A003_C001.mp4").write_bytes(b"an earlier file\n")
    run("output_exists", "Review H.264", source("A003_C001.mov"))
    (day / "A004_C001.R3D").write_bytes(b"RED2" + bytes(4096))
    run("raw_source", "Review H.264", day / "A004_C001.R3D")
    run("engine_unavailable_resolve", "Studio Resolve SQ", source("A005_C001.mov"))
    with monkeypatch.context() as patch:
        patch.setenv("PROXX_FFMPEG", str(base / "no-such-ffmpeg"))
        tools.find_tool.cache_clear()  # looked up once per process
        try:
            run("engine_unavailable", "Review H.264", source("A006_C001.mov"))
        finally:
            patch.undo()
            tools.find_tool.cache_clear()
    # C) execution
    real = engine.build_args
    recipes: dict[str, Any] = {
        "engine_error": lambda args: [*args[:-1], "-map", "0:s", args[-1]],  # a stream the clip lacks
        "format_differs": _another_codec,
        "no_picture": lambda args: [*args[:-1], "-vn", args[-1]],
    }
    for n, (case, change) in enumerate(recipes.items()):

        def build(ffmpeg: Any, src: Any, dst: Any, profile: Any, threads: Any = None, change: Any = change) -> Any:
            return change(real(ffmpeg, src, dst, profile, threads))

        with monkeypatch.context() as patch:
            patch.setattr(engine, "build_args", build)
            run(case, "Review H.264", source(f"A1{n}0_C001.mov"))
    with monkeypatch.context() as patch:
        patch.setenv("PROXX_TIMEOUT_MIN", "0.001")
        patch.setenv("PROXX_TIMEOUT_FACTOR", "0")
        run("timeout", "HD Editorial LT", source("A200_C001.mov"))
    run("source_damaged", "HD Editorial LT", cut_short(clip, day))
    real_ffmpeg = tools.require_tool("ffmpeg").path
    for n, case in enumerate(("disk_full", "output_unwritable", "cancelled")):
        with monkeypatch.context() as patch:
            fake = _fake_ffmpeg(base, case, real_ffmpeg, FAKE_FFMPEG_FAILURES.get(case))
            patch.setenv("PROXX_FFMPEG", str(fake))
            tools.find_tool.cache_clear()
            done = threading.Event()
            canceller = threading.Thread(target=_cancel_when_rendering, args=(done,))
            if case == "cancelled":
                canceller.start()
            try:
                run(case, "HD Editorial LT", source(f"A22{n}_C001.mov"))
            finally:
                done.set()
                if canceller.is_alive():
                    canceller.join()
                patch.undo()
                tools.find_tool.cache_clear()

    # The long-running shells' own lines: a watch folder running its jobs, a worker.
    card = media / "day2"
    card.mkdir()
    shutil.copyfile(clip, card / "A300_C001.mov")
    (card / "A301_C001.R3D").write_bytes(b"RED2" + bytes(4096))
    with monkeypatch.context() as patch:
        patch.setattr(engine, "build_args", lambda *a, **k: _another_codec(real(*a, **k)))
        watched = ["watch", str(card), "--profile", "Review H.264", "--output", str(out), "--once", "--run"]
        watch_code, texts["cli watch"] = _cli(watched)
        texts["cli submit"] = _cli(
            ["submit", "--profile", "Review H.264", "--output", str(out), str(source("A302_C001.mov"))]
        )[1]
        texts["cli worker"] = _cli(["worker", "--once"])[1]
    # The RAW file (class B) and the proxy that differs (C); --once ends with the worse one's code.
    assert [line.split()[0] for line in texts["cli watch"].splitlines()].count("FAILED") == 2
    assert watch_code == 5
    texts["cli jobs list"] = _cli(["jobs", "list", "--all"])[1]
    proxx = Proxx.open()
    jobs = {row.job_id: row for row in proxx.store.jobs()}
    integrator: dict[str, str] = {}
    for job_id in jobs:
        texts[f"cli jobs show: {job_id}"] = _cli(["jobs", "show", job_id])[1]
    for case in EXECUTION_CASES:
        row = proxx.store.job(case_jobs[case])
        integrator[f"jobs show --verbose: {case}"] = _cli(["jobs", "show", "--verbose", row.job_id])[1]
        integrator[f"result: {case}"] = Path(row.result_path or "").read_text(encoding="utf-8")
    web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
    try:
        with TestClient(create_app(web)) as http:
            texts["web jobs page"] = http.get("/jobs").text
            texts["api jobs"] = http.get("/api/jobs").text
            texts["api intents"] = http.get("/api/intents").text
            texts["web new job page"] = http.get("/jobs/new").text
            for job_id in jobs:
                for path in (f"/jobs/{job_id}", f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/result"):
                    response = http.get(path)
                    assert response.status_code == 200, (path, response.text)
                    texts[f"web {path}"] = response.text
            token = _csrf(http)
            for case, intent in PRE_JOB.items():
                body = {"intent": intent, "sources": ["media/day1/A001_C001.mov"], "output_folder": "media/out"}
                answer = http.post("/api/jobs", json=body)
                assert answer.status_code == 422, answer.text
                texts[f"api create: {case}"] = answer.text
                form = {**body, "sources": body["sources"][0], "csrf": token}
                page = http.post("/jobs", data=form, follow_redirects=False)
                assert page.status_code == 422, page.text
                texts[f"web form: {case}"] = page.text
    finally:
        web.proxx.store.close()
    forbidden, engines = forbidden_words(proxx)
    studio = {w for i in proxx.intents() for w in (i.name, i.description) if w}
    return Surfaces(
        texts, messages, forbidden, engines, tuple(sorted(studio, key=len, reverse=True)), case_jobs, integrator
    )


@pytest.fixture(scope="package")
def operator_surfaces(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> Surfaces:
    with pytest.MonkeyPatch.context() as monkeypatch:  # undone before any test runs
        return build_surfaces(tmp_path_factory.mktemp("surfaces"), clip, monkeypatch)
