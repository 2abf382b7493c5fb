"""What operators may see of a job (spec: "What Operators Never See"), for every shell: the CLI's
operator output and the web's operator pages and API.

Operators never see a canonical profile id, a codec or container from a canonical profile, or an
engine command line. Messages, checks, logs and result documents pass through `Redactor` before any
operator page or operator API answer: failure messages stay verbatim except that such values are
masked; verification checks of the container and codec say only whether the output is "as the
profile promises" (`operator_checks`); engine command lines are dropped from the log. File names and
paths are the operator's own words and are never masked ("B001 ProRes HQ.mov" stays as it is).
Integrator output (`--json`, `/api/integrator/...`) is the raw documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from proxx.compile.profiles import CODEC_FAMILY, Registry
from proxx.errors import FailureClass
from proxx.execute.cancel import CANCELLED
from proxx.verify.checks import PROBED_CODEC, Check

# Checks whose values would tell the codec or the container ("see the output").
IMPLEMENTATION_CHECKS = frozenset({"container", "video_codec", "codec_profile"})
AS_PROMISED = "as the intent promises"
DIFFERS = "differs from what the intent promises"
FORMAT = "Format"
# Each verification check in an operator's words; the technical names (`proxx.verify.checks`) stay in
# the result JSON and `--json` for integrators. A plugin's own check reads as its name in words.
CHECK_LABELS = {
    "output_exists": "Output file",
    "output_readable": "Output readable",
    "container": FORMAT,
    "video_codec": FORMAT,
    "codec_profile": FORMAT,
    "video_stream": "Picture",
    "even_dimensions": "Even picture size",
    "dimensions": "Picture size",
    "display_aspect_ratio": "Display aspect",
    "sample_aspect_ratio": "Pixel aspect",
    "rotation": "Orientation",
    "field_order": "Field order",
    "frame_rate": "Frame rate",
    "constant_frame_rate": "Constant frame rate",
    "duration": "Duration",
    "start": "Start",
    "alpha": "Transparency",
    "colour": "Colour",
    "picture_colour": "Colour in the picture",
    "timecode": "Timecode",
    "audio_streams": "Audio tracks",
}
_AUDIO_CHECK = re.compile(r"audio\[(\d+)\]\.(channels|layout|sample_rate)")
_AUDIO_WORDS = {"channels": "channels", "layout": "channel layout", "sample_rate": "sample rate"}
MASK = "[profile detail]"
HIDDEN_COMMAND = "$ [engine command line: integrator endpoint only]"
# Result members that only integrators see: the canonical id, the engine (binary, version, path)
# and where proxx keeps its own files (outside the media roots).
_INTEGRATOR_ONLY = frozenset({"proxy_profile", "engine", "log_path"})
_INTEGRATOR_CONTEXT = frozenset({"admin_message", "candidates", "canonical", "proxy_profile"})
# Encoder and audio codec names an engine log may mention, beyond the registry's own values.
_ENGINE_WORDS = (
    r"libx26[45]", r"libfdk\w*", r"prores\w*", r"dnx\w*", r"x26[45]\w*", r"h26[45]", r"hevc", r"avc1?",
    r"aac", r"alac", r"pcm_\w+", r"mpeg4", r"quicktime",
)  # fmt: skip
# Members of result documents that hold paths: the operator's own data, never masked.
_PATH_MEMBERS = frozenset({"source", "output", "partial_output", "output_directory", "result_path"})
# A quoted path or file name inside a message: kept as it is.
_QUOTED_NAME = re.compile(r"'[^'\n]*(?:[/\\]|\.\w{1,5})'")
_CHECK_IN_MESSAGE = re.compile(
    r"\b(" + "|".join([*sorted(IMPLEMENTATION_CHECKS), FORMAT]) + r"): expected .*?, got .*?(?=; |$)", re.DOTALL
)


class CheckLike(Protocol):
    """A verification check as recorded (`proxx.verify.checks.Check`) or served (the web's model)."""

    @property
    def name(self) -> str: ...
    @property
    def expected(self) -> str: ...
    @property
    def actual(self) -> str: ...
    @property
    def passed(self) -> bool: ...


def check_label(name: str) -> str:
    """A verification check's name in an operator's words ("frame_rate" -> "Frame rate")."""
    if name in CHECK_LABELS:
        return CHECK_LABELS[name]
    audio = _AUDIO_CHECK.fullmatch(name)
    if audio:
        return f"Audio track {int(audio.group(1)) + 1} {_AUDIO_WORDS[audio.group(2)]}"
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def describe_failures(checks: Sequence[Check]) -> str:
    """What differs, in an operator's words: "Frame rate: expected 24/1, got 25/1; ...". The format
    checks read as one "Format" clause, which operator copies mask whole."""
    bad = [c for c in checks if not c.passed]
    clauses: list[str] = []
    hidden = [c for c in bad if c.name in IMPLEMENTATION_CHECKS]
    if hidden:
        expected = " ".join(c.expected for c in hidden)
        actual = " ".join(c.actual for c in hidden)
        clauses.append(f"{FORMAT}: expected {expected}, got {actual}")
    clauses += [f"{check_label(c.name)}: expected {c.expected}, got {c.actual}" for c in bad if c not in hidden]
    return "; ".join(clauses)


class Redactor:
    def __init__(self, tokens: Iterable[str], keep: Iterable[str] = ()) -> None:
        """Mask `tokens`, except inside the phrases of `keep` (intent names such as "Archive
        ProRes": the studio's own words, which operators choose by)."""
        kept = sorted({re.escape(k) for k in keep if k}, key=len, reverse=True)
        self._keep = re.compile("|".join(kept)) if kept else None
        words = sorted({re.escape(t) for t in tokens if t}, key=len, reverse=True)
        alternatives = "|".join([*words, *_ENGINE_WORDS])
        # A file name's extension (A001.mov) or a path part (/media/mxf/) is the operator's own
        # data and stays: only free-standing words are masked.
        self._pattern = re.compile(rf"(?<![\w./\\-])(?:{alternatives})(?![\w/\\])", re.IGNORECASE)

    @classmethod
    def of(cls, registry: Registry, intent_names: Iterable[str] = ()) -> Redactor:
        tokens: set[str] = set(CODEC_FAMILY) | set(CODEC_FAMILY.values())
        tokens |= {name for name, _ in PROBED_CODEC.values()}
        for profile in registry:
            tokens |= {profile.id, profile.codec, profile.container}
        tokens |= {"mov", "mp4", "mxf", "mkv"}
        return cls(tokens, intent_names)

    def text(self, text: str) -> str:
        parts, last = [], 0
        for name in _QUOTED_NAME.finditer(text):
            parts += [self._words(text[last : name.start()]), name.group()]
            last = name.end()
        parts.append(self._words(text[last:]))
        return "".join(parts)

    def _words(self, text: str) -> str:
        if self._keep is None:
            return self._pattern.sub(MASK, text)
        parts, last = [], 0
        for kept in self._keep.finditer(text):
            parts += [self._pattern.sub(MASK, text[last : kept.start()]), kept.group()]
            last = kept.end()
        parts.append(self._pattern.sub(MASK, text[last:]))
        return "".join(parts)

    def message(self, message: str | None) -> str | None:
        """A failure message, verbatim but for implementation values."""
        if message is None:
            return None
        return self.text(_CHECK_IN_MESSAGE.sub(lambda m: f"{m.group(1)}: {DIFFERS}", message))

    def check(self, name: str, expected: str, actual: str, passed: bool) -> tuple[str, str]:
        """(expected, actual) as an operator sees them."""
        if name in IMPLEMENTATION_CHECKS:
            return AS_PROMISED, AS_PROMISED if passed else DIFFERS
        return self.text(expected), self.text(actual)

    def log(self, text: str) -> str:
        lines = [HIDDEN_COMMAND if line.startswith("$ ") else self.text(line) for line in text.splitlines()]
        return "\n".join(lines)

    def result(self, document: dict[str, Any]) -> dict[str, Any]:
        """The operator's copy of a result JSON document."""
        out = {k: v for k, v in document.items() if k not in _INTEGRATOR_ONLY}
        clips = []
        for clip in document.get("clips", []):
            checks = []
            for check in clip.get("checks", []):
                expected, actual = self.check(check["name"], check["expected"], check["actual"], check["passed"])
                checks.append({**check, "expected": expected, "actual": actual})
            clips.append({**clip, "checks": checks, "failure": self._failure(clip.get("failure"))})
        out["clips"] = clips
        out["failure"] = self._failure(document.get("failure"))
        out["validation_problems"] = [self._failure(p) for p in document.get("validation_problems", [])]
        out["exports"] = [{k: v for k, v in e.items() if k != "details"} for e in document.get("exports", [])]
        redacted: dict[str, Any] = self._strings(out)
        return redacted

    def _failure(self, failure: dict[str, Any] | None) -> dict[str, Any] | None:
        if failure is None:
            return None
        context = {k: v for k, v in failure.get("context", {}).items() if k not in _INTEGRATOR_CONTEXT}
        return {**failure, "message": self.message(failure.get("message")), "context": context}

    def _strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._strings(v) for v in value]
        if isinstance(value, dict):
            return {k: v if k in _PATH_MEMBERS else self._strings(v) for k, v in value.items()}
        return value


def operator_checks(checks: Sequence[CheckLike]) -> list[tuple[str, bool, str]]:
    """Verification checks as an operator sees them, (label, passed, detail), in operator words: the
    container and codec checks as one "Format" line that says only whether the output is as promised."""
    rows = operator_check_rows(checks, lambda name, expected, actual, passed: (expected, actual))
    return [
        (label, passed, actual if label == FORMAT else f"expected {expected}, actual {actual}")
        for label, expected, actual, passed in rows
    ]


def operator_check_rows(
    checks: Sequence[CheckLike], shown: Callable[[str, str, str, bool], tuple[str, str]]
) -> list[tuple[str, str, str, bool]]:
    """(label, expected, actual, passed) per check, the format checks folded into one "Format" row;
    `shown` gives the expected and actual values an operator may see (a redactor's `check`)."""
    rows: list[tuple[str, str, str, bool]] = []
    hidden = [c for c in checks if c.name in IMPLEMENTATION_CHECKS]
    if hidden:
        ok = all(c.passed for c in hidden)
        rows.append((FORMAT, AS_PROMISED, AS_PROMISED if ok else DIFFERS, ok))
    for c in checks:
        if c.name not in IMPLEMENTATION_CHECKS:
            expected, actual = shown(c.name, c.expected, c.actual, c.passed)
            rows.append((check_label(c.name), expected, actual, c.passed))
    return rows


CANCELLED_TITLE = "Cancelled by the operator"


def failure_title(failure_class: str, reason: str | None, letter: bool = True) -> str:
    """What kind of failure ended a job, first on every surface: an operator's cancel as a cancel
    ("Cancelled by the operator": the state stays FAILED, as the spec has no other), any other failure
    by its class ("class C, execution failure"; without `letter`, "execution failure")."""
    if reason == CANCELLED:
        return CANCELLED_TITLE
    title = FailureClass(failure_class).title
    return f"class {failure_class}, {title}" if letter else title
