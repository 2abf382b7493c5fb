"""The real ffmpeg behind a shell script that does something first, for one kind of call: tests set
PROXX_FFMPEG to it (and clear `proxx.media.tools.find_tool`'s cache) to hold an encoder back or to
make it fail, while every other call runs the real binary unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxx import JobResult, Proxx
from proxx.media import tools
from proxx.media.tools import require_tool


def wrapped_ffmpeg(folder: Path, when: str, then: str) -> Path:
    """`folder/ffmpeg`: runs the shell command `then` first when its arguments hold `when` (`then`
    may end by `exec`-ing ffmpeg itself), and the real ffmpeg with the same arguments otherwise."""
    script = folder / "ffmpeg"
    script.write_text(f'#!/bin/sh\ncase " $* " in *{when}*) {then};; esac\nexec "{real_ffmpeg()}" "$@"\n')
    script.chmod(0o755)
    return script


def render_filtered(folder: Path, filters: str) -> Path:
    """`folder/ffmpeg`: the render (the call reporting its progress) with `filters` after its own
    (`,hflip`; a label such as `[1:v]...` goes on without a comma), every other fact of the proxy
    left right; every other call unchanged."""
    appended = f'for a; do [ "$last" = -vf ] && a="$a{filters}"; set -- "$@" "$a"; shift; last=$a; done; '
    return wrapped_ffmpeg(folder, '" -progress "', appended + f'exec "{real_ffmpeg()}" "$@"')


def render_rewritten(folder: Path, options: str) -> Path:
    """`folder/ffmpeg`: the render as the engine asked, then its output rewritten in place by ffmpeg
    with `options` (its streams copied but for what they change: `-c:a pcm_s24le -af volume=0`)."""
    real = real_ffmpeg()
    then = (
        f'for last; do :; done; made="${{last#file:}}"; "{real}" "$@" || exit $?; '
        f'"{real}" -v error -y -i "$made" -map 0 -c copy {options} "$made.x.mov" && mv "$made.x.mov" "$made"; exit $?'
    )
    return wrapped_ffmpeg(folder, '" -progress "', then)


def wait_for(go: Path) -> str:
    """The shell command that waits until `go` exists."""
    return f'while [ ! -e "{go}" ]; do sleep 0.01; done'


def real_ffmpeg() -> str:
    return require_tool("ffmpeg").path


def run_wrapped(
    monkeypatch: pytest.MonkeyPatch, ffmpeg: Path, intent: str, sources: list[Path], out: Path
) -> JobResult:
    """One job of `sources` run with `ffmpeg` (a `wrapped_ffmpeg`) as every ffmpeg proxx starts,
    then the real one again for what the test does next."""
    monkeypatch.setenv("PROXX_FFMPEG", str(ffmpeg))
    tools.find_tool.cache_clear()
    try:
        proxx = Proxx.open()
        result = proxx.run_job(proxx.create_job(intent, sources, out).job_id)
    finally:
        monkeypatch.delenv("PROXX_FFMPEG")
        tools.find_tool.cache_clear()
    assert result is not None
    return result
