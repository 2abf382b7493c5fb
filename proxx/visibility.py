"""What operators read, for every shell: the CLI's operator output, the web's pages and operator API,
and the logs shown to operators. One place, as a terminal reporter is one place: a rule about what
operators see lives here and holds for every output.

The rules (spec: "What Operators Never See", "Hiding Failure Details"):

* Names are shown safe (`safe`): file names, folder names and intent names are the operator's own
  words, shown as they are, except that control characters, escape sequences, bidirectional
  overrides, line and paragraph separators, lone surrogates and bytes that are not UTF-8 are shown
  escaped (``\\x1b``, ``\\u202e``, ``\\xff``), so a name can neither drive a terminal nor forge a line.
* No canonical profile id, codec, container or engine name, no command line, no reason code, no
  worker id: failures say what differs in the operator's terms ("the picture is 1280x720, the intent
  promises 1920x1080"), never generically and never with a placeholder.
* Values read as people say them: frame rates as 23.976 / 29.97 DF / 25 fps, aspects as 16:9 or
  1.85:1, sample rates in kHz.

Integrator output (`--json`, `/api/integrator/...`) is the raw documents and does not come here.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from proxx.errors import (
    CANCELLED,
    DISK_FULL,
    ENGINE_UNAVAILABLE,
    OUTPUT_UNWRITABLE,
    PROCESS_GONE,
    SETTINGS_REFUSED,
    SOURCE_DAMAGED,
    TIMEOUT,
    FailureClass,
)
from proxx.names import safe as safe  # the one sanitiser, shown through here too

if TYPE_CHECKING:  # the job list shows states only: it loads neither profiles nor verification
    from proxx.compile.profiles import CanonicalProfile

# --- values in people's words ---------------------------------------------------------------------

# (numerator, denominator): `fractions` is imported only where a value is worded.
_NAMED_ASPECTS = {
    (16, 9): "16:9", (4, 3): "4:3", (1, 1): "1:1", (9, 16): "9:16",
    (3, 2): "3:2", (5, 4): "5:4", (2, 3): "2:3", (3, 4): "3:4",
}  # fmt: skip
# The patterns here are compiled on first use (by `re`, which keeps them), not on import: most
# commands word no value.
_RATE = r"(\d+)(?:/(\d+))?"
_DECIMAL = r"(\d+(?:\.\d+)?)(?:\s*\(±[^)]*\))?"
_RATIO = r"(\d+):(\d+)"
_FIELD_ORDERS = {
    "tt": "interlaced, top field first", "tb": "interlaced, top field first",
    "bb": "interlaced, bottom field first", "bt": "interlaced, bottom field first",
    "progressive": "progressive", "unknown": "progressive",
}  # fmt: skip


def frame_rate_words(rate: str, drop_frame: bool = False) -> str:
    """A rate as people say it: 24000/1001 is "23.976 fps", 30000/1001 with drop-frame timecode
    "29.97 DF", 25/1 "25 fps". Anything else (already in words) is returned as it is."""
    from fractions import Fraction

    match = re.fullmatch(_RATE, rate.strip())
    if not match or match.group(2) == "0":
        return rate
    value = Fraction(int(match.group(1)), int(match.group(2) or 1))
    shown = str(value.numerator) if value.denominator == 1 else f"{float(value):.3f}".rstrip("0").rstrip(".")
    return f"{shown} DF" if drop_frame and value.denominator == 1001 else f"{shown} fps"


def aspect_words(value: str) -> str:
    """ "1.7778 (± 0.5 %)" or "16:9" -> "16:9"; "1.8500" -> "1.85:1"; "2.3900" -> "2.39:1"."""
    from fractions import Fraction

    text = value.strip()
    ratio = re.fullmatch(_RATIO, text)
    decimal = re.fullmatch(_DECIMAL, text)
    if ratio and int(ratio.group(2)):
        aspect = Fraction(int(ratio.group(1)), int(ratio.group(2)))
    elif decimal:
        aspect = Fraction(decimal.group(1))
    else:
        return value
    for (numerator, denominator), words in _NAMED_ASPECTS.items():
        named = Fraction(numerator, denominator)
        if abs(aspect - named) <= named * Fraction(3, 1000):
            return words
    return f"{float(aspect):.2f}:1"


def _sample_rate_words(value: str) -> str:
    if not value.isdigit():
        return value
    return f"{int(value) / 1000:g} kHz"


@functools.lru_cache(maxsize=4096)  # a card's clips repeat the same few values, check after check
def value_words(check: str, value: str, drop_frame: bool = False) -> str:
    """A check's expected or actual value as an operator reads it."""
    if check in ("frame_rate", "timecode_rate"):
        return frame_rate_words(value, drop_frame)
    if check in ("display_aspect_ratio", "sample_aspect_ratio"):
        words = aspect_words(value)
        return "square pixels" if check == "sample_aspect_ratio" and words == "1:1" else words
    if check in ("field_order", "picture_field_order"):
        return _FIELD_ORDERS.get(value, value)
    if check == "alpha":
        return "none" if value.startswith("none") else "present"
    if check.endswith(".sample_rate"):
        return _sample_rate_words(value)
    return value


# --- checks ---------------------------------------------------------------------------------------

AS_PROMISED = "as the intent promises"
_VERIFICATION = "Output file generated but failed verification: "  # the spec's own words
DIFFERS = "differs from what the intent promises"
FORMAT = "Format"
AUDIO_FORMAT = "Audio format"
# Each verification check in an operator's words; the technical names (`proxx.verify.checks`) stay in
# the result JSON and `--json` for integrators. A plugin's own check reads as its name in words.
CHECK_LABELS = {
    "output_exists": "Output file",
    "output_readable": "Output readable",
    "container": FORMAT,
    "video_codec": FORMAT,
    "codec_profile": FORMAT,
    "pixel_format": FORMAT,
    "video_stream": "Picture",
    "even_dimensions": "Even picture size",
    "dimensions": "Picture size",
    "display_aspect_ratio": "Display aspect",
    "sample_aspect_ratio": "Pixel aspect",
    "rotation": "Orientation",
    "field_order": "Field order",
    "picture_field_order": "Field order in the picture",
    "frame_rate": "Frame rate",
    "constant_frame_rate": "Constant frame rate",
    "duration": "Duration",
    "frame_count": "Frame count",
    "start": "Start",
    "alpha": "Transparency",
    "colour": "Colour",
    "picture_colour": "Colour in the picture",
    "picture_orientation": "Picture orientation",
    "picture_levels": "Picture levels",
    "picture_content": "Picture content",
    "picture_geometry": "Picture framing",
    "picture_later": "Later picture",
    "video_tracks": "Video tracks",
    "timecode": "Timecode",
    "timecode_rate": "Timecode rate",
    "reel_name": "Reel name",
    "audio_streams": "Audio tracks",
}
_AUDIO_CHECK = r"audio\[(\d+)\]\.(\w+)"
_AUDIO_WORDS = {"channels": "channels", "layout": "channel layout", "sample_rate": "sample rate", "codec": "format",
                "start": "start", "duration": "duration", "sound": "sound",
                "sync": "sync with the pictures"}  # fmt: skip
# Checks whose values would tell the codec or the container ("see the output"): the bundled ones,
# and any check a plugin names after a codec, container, pixel format or encoder profile.
_FORMAT_CHECK = r"(?:.*[._\]])?(?:container|codec|codec_profile|pix_fmt|pixel_format|profile|encoder)"


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


def is_format_check(name: str) -> bool:
    """True for a check whose values name a codec, container or encoder profile."""
    return re.fullmatch(_FORMAT_CHECK, name) is not None


def check_label(name: str) -> str:
    """A verification check's name in an operator's words ("frame_rate" -> "Frame rate")."""
    if name in CHECK_LABELS:
        return CHECK_LABELS[name]
    audio = re.fullmatch(_AUDIO_CHECK, name)
    if audio:
        words = _AUDIO_WORDS.get(audio.group(2), audio.group(2).replace("_", " "))
        return f"Audio track {int(audio.group(1)) + 1} {words}"
    if is_format_check(name):
        return FORMAT
    words = name.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def _drop_frame(checks: Sequence[CheckLike]) -> bool:
    return any(c.name == "timecode" and ";" in c.actual for c in checks)


def _shown_values(check: CheckLike, drop_frame: bool) -> tuple[str, str]:
    """A check's expected and actual values in words. A value read from a file (a reel name, a
    timecode tag) is free text a file may fill with escapes: shown safe, on one line."""
    return safe(value_words(check.name, check.expected, drop_frame)), safe(
        value_words(check.name, check.actual, drop_frame)
    )


def _failure_clause(check: CheckLike, drop_frame: bool) -> str:
    """What one failed check says, in the operator's terms."""
    name = check.name
    if name == "output_exists":
        return "no proxy file was written" if check.actual == "missing" else "the proxy file is empty"
    if name == "output_readable":
        return "the proxy cannot be read as media"
    if name == "video_stream":
        return "the proxy has no picture"
    if name == "container":
        return "the proxy's file is not the type this intent promises"
    audio = re.fullmatch(_AUDIO_CHECK, name)
    if is_format_check(name):
        if audio:
            return f"the proxy's audio track {int(audio.group(1)) + 1} is not the format this intent promises"
        return "the proxy's video is not the format this intent promises"
    expected, actual = _shown_values(check, drop_frame)
    label = "picture" if name == "dimensions" else check_label(name)
    subject = label[:1].lower() + label[1:]
    return f"the {subject} is {actual}, the intent promises {expected}"


def describe_failures(checks: Sequence[CheckLike]) -> str:
    """What differs, in an operator's words: "the picture is 1280x720, the intent promises
    1920x1080; the proxy's video is not the format this intent promises". The format checks read as
    one clause per kind (file, video, each audio track), never with their values."""
    drop_frame = _drop_frame(checks)
    clauses: list[str] = []
    for check in checks:
        if not check.passed:
            clause = _failure_clause(check, drop_frame)
            if clause not in clauses:
                clauses.append(clause)
    return "; ".join(clauses)


def verification_message(clip: str, checks: Sequence[CheckLike]) -> str:
    """A clip whose proxy failed verification, as operators read it (the spec's wording first): what
    differs, which clip, and who can act ("Output file generated but failed verification: the
    picture is 1280x720, the intent promises 1920x1080. The proxy of 'A001.mov' was not published:
    ...")."""
    return (
        f"{_VERIFICATION}{describe_failures(checks)}. The proxy of '{clip}' was not published: tell an "
        "administrator, who finds every check in the job's result."
    )


def operator_check_rows(checks: Sequence[CheckLike]) -> list[tuple[str, str, str, bool]]:
    """(label, expected, actual, passed) per check as an operator sees them: values in words, the
    format checks folded into one "Format" row (and one "Audio format" row) saying only whether the
    output is as promised."""
    drop_frame = _drop_frame(checks)
    rows: list[tuple[str, str, str, bool]] = []
    folded: dict[str, bool] = {}
    for c in checks:
        if is_format_check(c.name):
            label = AUDIO_FORMAT if re.fullmatch(_AUDIO_CHECK, c.name) else FORMAT
            if label not in folded:
                rows.append((label, "", "", True))
            folded[label] = folded.get(label, True) and c.passed
            continue
        expected, actual = _shown_values(c, drop_frame)
        rows.append((check_label(c.name), expected, actual, c.passed))
    return [
        (label, AS_PROMISED, AS_PROMISED if folded[label] else DIFFERS, folded[label])
        if label in folded
        else (label, expected, actual, passed)
        for label, expected, actual, passed in rows
    ]


def operator_checks(checks: Sequence[CheckLike]) -> list[tuple[str, bool, str]]:
    """(label, passed, detail) per check for a terminal: "expected 23.976 fps, actual 25 fps"."""
    return [
        (label, passed, actual if expected == AS_PROMISED else f"expected {expected}, actual {actual}")
        for label, expected, actual, passed in operator_check_rows(checks)
    ]


# --- failures ---------------------------------------------------------------------------------------


CANCELLED_TITLE = "Cancelled by the operator"


def class_words(failure_class: str | None, letter: bool = True) -> str:
    """A failure class as operators read it: its words ("execution failure"), then the letter for
    reference where the README's exit codes name it (the CLI); never the letter alone."""
    if not failure_class:
        return ""
    title = FailureClass(failure_class).title
    return f"{title}, class {failure_class}" if letter else title


def failure_title(failure_class: str | None, reason: str | None, letter: bool = True) -> str:
    """What kind of failure ended a job, first on every surface: an operator's cancel as a cancel
    ("Cancelled by the operator": the state stays FAILED, as the spec has no other), any other failure
    by its class in words ("execution failure, class C"; without `letter`, "execution failure")."""
    if reason == CANCELLED:
        return CANCELLED_TITLE
    return class_words(failure_class, letter)


# A worker found lost on its own host because its process had ended (a watch, worker or server killed
# or stopped and started again): the machine was answering all along.
_PROCESS_ENDED = (
    "The proxx process running this job ended while it ran (it was stopped or killed); the job was not re-run. "
    "Retry it to create a new job."
)
# Failures whose recorded message is for administrators or carries an internal id: what operators
# read instead, by reason (the message itself stays in the result JSON for integrators).
_OPERATOR_MESSAGES = {
    "worker lost": "The machine running this job stopped answering while it ran; the job was not re-run. "
    "Retry it to create a new job.",
    "result_not_written": "The job's outcome could not be recorded: the space where proxx keeps its records is "
    "full. Ask an administrator to free space there; the job's proxies that were published are in place.",
    "result_refused": "The job's outcome could not be recorded: its folder where proxx keeps its records was "
    "made by someone else, or cannot be written, so nothing was written there. Ask an administrator to move "
    "it away; the job's proxies that were published are in place.",
}


# --- execution failures (class C): what happened to one clip, in the operator's terms ------------------

# A job log line that holds an engine's own words (its last error line, its exit status) for
# administrators: the log shown to operators leaves it out (`OperatorWords.log`).
ADMIN_DETAIL = "for an administrator: "
_TRACEBACK = "Traceback (most recent call last):"  # where Python's account of an error starts
_FIX = "Retry the job; if it fails again, an administrator finds the renderer's own message in the job's result."
# Reasons whose message proxx itself writes in the operator's terms (a path, what changed, what to do).
_OWN_WORDS = frozenset(
    {
        "verification_failed", "source_changed", "output_not_in_folder", "output_outside_roots",
        "output_folder_unusable", "partial_name_taken", "output_folder_moved", "partial_not_a_file",
        "output_exists", "reuse_unreadable", "plugin_failed", "internal_error", "log_refused",
    }
)  # fmt: skip


def _clock(seconds: float) -> str:
    """A position in a clip as editors say it: 00:01:12 (00:00:04.6 within the first ten seconds)."""
    whole = max(0, int(seconds))
    tenths = f".{int(seconds * 10) % 10}" if seconds < 10 else ""
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}{tenths}"


def _span(seconds: float) -> str:
    """A length of time in words: "45 seconds", "1 minute", "12 minutes"."""
    if seconds < 90:
        shown = f"{seconds:.3g}" if seconds < 1 else f"{round(seconds)}"
        return f"{shown} second{'' if shown == '1' else 's'}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _reached(context: dict[str, Any]) -> str:
    """How far the clip got, when known: ", 40 % of the way through"."""
    fraction = context.get("progress")
    if not isinstance(fraction, int | float):
        return ""
    if fraction <= 0:
        return ", before any of it was made"
    return f", {min(99, max(1, round(fraction * 100)))} % of the way through"


_SIGXFSZ = 25  # Linux and macOS alike


def _signal_words(number: int) -> str:
    import signal

    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    if number == signal.SIGKILL:
        return f"signal {number}, {name}: by an administrator, or by the system when memory ran out"
    return f"signal {number}, {name}"


def execution_message(reason: str, clip: str, context: dict[str, Any]) -> str | None:
    """What an operator reads of one clip's execution failure (class C), by its reason: which clip,
    what happened and what they can do, never the engine's own words (those stay in the record's
    context, `admin_message`). `clip` is the source's file name; `context` may say how far the clip
    got (`progress`, 0..1), where the source could not be read (`read_up_to`, seconds), the
    engine's exit status (`exit_code`) and the clip's timeout (`timeout_seconds`). None for a reason
    whose message proxx already writes in the operator's terms (a verification, a folder moved)."""
    if reason in _OWN_WORDS:
        return None
    name, reached = f"'{clip}'", _reached(context)
    of = f"the proxy of {name}"
    if reason == CANCELLED:
        return f"Cancelled by the operator while {of} was being made{reached}; its partial output was removed."
    if reason == SOURCE_DAMAGED:
        read_up_to = context.get("read_up_to")
        where = f"past {_clock(read_up_to)}" if isinstance(read_up_to, int | float) else "to its end"
        return (
            f"The source {name} could not be read {where}: the file looks damaged, so its proxy was not made. "
            "Copy it again from the camera card or its backup, then retry the job."
        )
    if reason == OUTPUT_UNWRITABLE and context.get("folder_gone"):
        return (
            f"The output folder was removed or moved away while {of} was being made{reached}; nothing was "
            "published for it. Put the folder back (or choose another), then retry the job."
        )
    if reason == OUTPUT_UNWRITABLE:
        return (
            f"The output folder could no longer be written while {of} was being made{reached}; nothing was "
            "published for it. Make the folder writable again (or choose another), then retry the job."
        )
    if reason == DISK_FULL:
        return (
            f"The output volume ran out of space while {of} was being made{reached}; its partial output was "
            "removed to give the space back. Free space there, then retry the job."
        )
    if reason == TIMEOUT:
        limit = context.get("timeout_seconds")
        allowed = f"the {_span(limit)} allowed for it" if isinstance(limit, int | float) else "the time allowed for it"
        return (
            f"Making {of} took longer than {allowed} and was stopped{reached}. Retry the job; if it is "
            "stopped again, ask an administrator to allow more time."
        )
    if reason in (ENGINE_UNAVAILABLE, "engine_not_installed"):
        return (
            f"The renderer stopped being available while {of} was being made{reached} (it was closed, or it "
            f"stopped answering); nothing was published for it. Retry the job once it runs again; an "
            "administrator finds why in the job's result."
        )
    if reason == SETTINGS_REFUSED:
        return (
            f"The renderer refused a setting this intent needs for {name}; nothing was published for it. "
            "An administrator finds which in the job's result."
        )
    if reason == "worker_lost":
        return (
            f"The machine making {of} stopped answering while it ran{reached}; the proxy was not published. "
            "Retry the job to create a new one."
        )
    code = context.get("exit_code")
    if code == -_SIGXFSZ:  # the kernel's answer to a write past RLIMIT_FSIZE
        return (
            f"{of[:1].upper()}{of[1:]} grew past the largest file this account may write (its file size limit, "
            f"`ulimit -f`), so the renderer was stopped{reached}. Ask an administrator to raise the limit, then "
            "retry the job."
        )
    if isinstance(code, int) and code < 0:  # ended by a signal (subprocess's negative status), not an error of its own
        return (
            f"The renderer was stopped from outside proxx ({_signal_words(-code)}) while making {of}{reached}. "
            "Retry the job; if it is stopped again, ask an administrator why."
        )
    status = f" (exit status {code})" if isinstance(code, int) else ""
    return f"The renderer stopped with an error while making {of}{reached}{status}. {_FIX}"


# An old verification message ("Format: expected mxf dnxhd, got mp4 h264; Frame rate: ..."), as
# results written before the messages were in operator terms hold it.
_OLD_CHECK = r"(?P<label>[A-Z][\w ]*?(?: \d+ [\w ]+)?): expected (?P<expected>.*?), got (?P<actual>.*?)(?=; |$)"
_LABEL_NAMES = {label: name for name, label in CHECK_LABELS.items() if label != FORMAT}
_LIST_ITEM = r"\n(?=- )"
# Which worker ran a job is the integrator's (the result JSON's worker_id), never the operator's. An id
# may hold colons (a farm worker's name:pid); the colon ending a clause after it stays.
_WORKER = r" (?:on|by) worker \S+?(?=:?(?:\s|$))"


def _old_verification_message(message: str) -> str:
    if not message.startswith(_VERIFICATION) or ": expected " not in message:
        return message
    from proxx.verify.checks import Check

    def clause(match: re.Match[str]) -> str:
        label = match.group("label")
        if label == FORMAT or label.lower() in {"container", "video_codec", "codec_profile"}:
            return "the proxy's video is not the format this intent promises"
        name = _LABEL_NAMES.get(label, label.lower().replace(" ", "_"))
        return _failure_clause(Check(name, match.group("expected"), match.group("actual"), False), False)

    return _VERIFICATION + re.sub(_OLD_CHECK, clause, message[len(_VERIFICATION) :])


# Encoder and codec names an engine message or log may mention, beyond the registry's own values.
_ENCODER_WORDS = (
    r"libx26[45]", r"libfdk\w*", r"prores\w*", r"dnx\w*", r"x26[45]\w*", r"h26[45]", r"hevc", r"avc1?",
    r"aac", r"alac", r"pcm_\w+", r"mpeg4", r"quicktime",
)  # fmt: skip
_ENGINE_WORDS = ("DaVinci Resolve", "Resolve", "FFmpeg", "ffmpeg", "ffprobe", "FFprobe")
_CONTAINER_WORDS = ("mov", "mp4", "mxf", "mkv")
# Members of result documents that hold paths: the operator's own data, never reworded.
_PATH_MEMBERS = frozenset({"source", "output", "partial_output", "output_directory", "result_path"})
# Result members that only integrators see: the canonical id, the engine (binary, version, path),
# where proxx keeps its own files (outside the media roots), and the worker's id.
_INTEGRATOR_ONLY = frozenset({"proxy_profile", "engine", "log_path", "worker_id"})
_INTEGRATOR_CONTEXT = frozenset(
    {"admin_message", "candidates", "canonical", "proxy_profile", "engine", "worker_id", "engine_messages"}
)
# A quoted path or file name inside a message: kept as it is (made safe).
_QUOTED_NAME = r"'[^'\n]*(?:[/\\]|\.\w{1,5})'"
# proxx's own sentences that name or explain an engine, as operators read them (the recorded message,
# for integrators, keeps the engine's name and why it is unavailable). Each applies to one whole line.
_ENGINE_SENTENCES = (
    (r"^(?P<lead>- )?\S[^\n]*? engine not available on this system\b.*$",
     r"\g<lead>The renderer this intent needs is not available on this system (an administrator finds why in "
     r"the job's result document)."),
    (r"^(?P<lead>- )?Engine '[^'\n]*' is not installed on this system\.$",
     r"\g<lead>The renderer this intent needs is not installed on this system."),
    # The engine's own check of a source raised: its plugin's name is the engine's as often as not,
    # which "the renderer" would replace inside the quotes ("plugin 'the renderer' failed").
    (r"^(?P<lead>- )?(?P<source>Source file '[^'\n]*') could not be checked: [^\n]*? failed in its engine's "
     r"validate_clip \([^\n]*\)\. Nothing was run; ask an administrator to fix or remove the plugin\.$",
     r"\g<lead>\g<source> could not be checked: the plugin of the renderer this intent needs failed while "
     r"checking it (an administrator finds why in the job's result document). Nothing was run; ask an "
     r"administrator to fix or remove the plugin."),
    (r" is RAW camera media \([^)\n]*\), which this intent's engine does not read: choose an intent "
     r"whose engine reads RAW camera media\.",
     " is RAW camera media, which this intent cannot read: choose an intent made for RAW camera media."),
    # A clip's worker lost, as results written before class C failures were worded hold it (a worker id).
    (r"^(?P<lead>- )?The job was declared lost while it ran on [^;\n]*; (?P<kept>its verified output "
     r"stays at '[^'\n]*') and was not published\.$",
     r"\g<lead>The machine running this job stopped answering while this clip was being made; \g<kept> and was "
     r"not published. Retry the job to create a new one."),
    # An engine's own failure line, as results written before class C failures were worded hold it.
    (r"^(?P<lead>- )?[^\n']*? exited with code (?P<code>-?\d+)(?::[^\n]*)?$",
     r"\g<lead>The renderer stopped with an error (exit status \g<code>). " + _FIX),
)  # fmt: skip


TEXTS_REMEMBERED = 100_000  # reworded texts an `OperatorWords` keeps (a few MB at most)


class OperatorWords:
    """What operators read of intents, jobs, failures, checks and logs: one instance per registry,
    shared by the CLI and the web. Free text (a failure message, a log line) keeps the operator's
    own words (file names, intent names) and says "the renderer", "this format", "this file type" or
    "this intent's proxy format" where it would name an engine, a codec, a container or a canonical
    profile."""

    def __init__(
        self,
        codecs: Iterable[str] = (),
        containers: Iterable[str] = (),
        canonical_ids: Iterable[str] = (),
        engines: Iterable[str] = (),
        keep: Iterable[str] = (),
    ) -> None:
        """`keep`: phrases never reworded (intent names such as "Archive ProRes": the studio's own
        words, which operators choose by)."""
        self._kept = {re.escape(k) for k in keep if k}
        kept = sorted(self._kept, key=len, reverse=True)
        self._keep = re.compile("|".join(kept)) if kept else None
        # Each distinct text is reworded once: a 1,000-clip card's checks repeat the same few values.
        self._texts: dict[str, str] = {}
        self._words: list[tuple[re.Pattern[str], str]] = []
        groups: tuple[tuple[Iterable[str], tuple[str, ...], str, int], ...] = (
            (canonical_ids, (), "this intent's proxy format", re.IGNORECASE),
            ([], _ENGINE_WORDS, "the renderer", 0),
            (engines, (), "the renderer", re.IGNORECASE),
            (containers, _CONTAINER_WORDS, "this file type", re.IGNORECASE),
            (codecs, _ENCODER_WORDS, "this format", re.IGNORECASE),
        )
        for tokens, patterns, words, flags in groups:
            alternatives = [*sorted({re.escape(t) for t in tokens if t}, key=len, reverse=True), *patterns]
            if alternatives:
                # A file name's extension (A001.mov) or a path part (/media/mxf/) is the operator's
                # own data and stays: only free-standing words are reworded.
                pattern = re.compile(rf"(?<![\w./\\-])(?:{'|'.join(alternatives)})(?![\w/\\])", flags)
                self._words.append((pattern, words))

    @classmethod
    def of(cls, registry: Iterable[CanonicalProfile], intent_names: Iterable[str] = ()) -> OperatorWords:
        """For a registry: its canonical profiles and its intents' names."""
        return cls._of([(p.id, p.engine, p.codec, p.container) for p in registry], intent_names)

    @classmethod
    def of_job(cls, canonical_profile: Mapping[str, Any], intent: str) -> OperatorWords:
        """For one job: its JobSpec's canonical profile as stored (the JSON object, of which only the
        id, engine, codec and container are read) and its intent's name."""
        names = (canonical_profile["id"], canonical_profile["engine"], canonical_profile["codec"])
        return cls._of([(*names, canonical_profile["container"])], [intent])

    @classmethod
    def _of(cls, profiles: list[tuple[str, str, str, str]], intent_names: Iterable[str]) -> OperatorWords:
        """`profiles`: each canonical profile's (id, engine, codec, container); every bundled codec's
        names (its flavour, its family and ffprobe's name for it) are reworded too."""
        from proxx.vocabulary import BUNDLED_CODECS

        codecs = {name for codec in BUNDLED_CODECS.values() for name in (codec.name, codec.family, codec.probe_codec)}
        return cls(
            codecs=codecs | {codec for _, _, codec, _ in profiles},
            containers={container for *_, container in profiles},
            canonical_ids={canonical_id for canonical_id, *_ in profiles},
            engines={engine for _, engine, _, _ in profiles},
            keep=intent_names,
        )

    def keeping(self, phrases: Iterable[str]) -> OperatorWords:
        """These words, with `phrases` kept as they are too: what the operator typed (an intent name
        no profile has may look like a canonical id, and is still the operator's own word)."""
        other = copy.copy(self)
        other._kept = self._kept | {re.escape(p) for p in phrases if p}
        other._keep = re.compile("|".join(sorted(other._kept, key=len, reverse=True))) if other._kept else None
        other._texts = {}
        return other

    # --- free text ----------------------------------------------------------------------------

    def text(self, text: str) -> str:
        """One line of free text, safe and in operator words; quoted file names stay as they are."""
        known = self._texts.get(text)
        if known is None:
            if len(self._texts) >= TEXTS_REMEMBERED:
                self._texts.clear()
            known = self._texts[text] = self._text(text)
        return known

    def _text(self, text: str) -> str:
        for sentence, words in _ENGINE_SENTENCES:
            text = re.sub(sentence, words, text)
        parts, last = [], 0
        for name in re.finditer(_QUOTED_NAME, text):
            parts += [self._reword(text[last : name.start()]), safe(name.group())]
            last = name.end()
        parts.append(self._reword(text[last:]))
        out = "".join(parts)
        if out[:1] != text[:1] and out[:1].islower():  # the first word was reworded: a sentence still
            out = out[:1].upper() + out[1:]
        return out

    def _reword(self, text: str) -> str:
        if self._keep is None:
            return self._apply(text)
        parts, last = [], 0
        for kept in self._keep.finditer(text):
            parts += [self._apply(text[last : kept.start()]), safe(kept.group())]
            last = kept.end()
        parts.append(self._apply(text[last:]))
        return "".join(parts)

    def _apply(self, text: str) -> str:
        text = re.sub(_WORKER, "", safe(text))
        for pattern, words in self._words:
            text = pattern.sub(words, text)
        return text

    def message(self, message: str | None, reason: str | None = None) -> str | None:
        """A failure message as an operator reads it: specific, in the operator's terms, each line
        safe (a message may list several problems, one a line)."""
        if message is None:
            return None
        if reason == "worker lost" and f"({PROCESS_GONE})" in message:
            return _PROCESS_ENDED
        if reason in _OPERATOR_MESSAGES:
            return _OPERATOR_MESSAGES[reason]
        message = _old_verification_message(message)
        # proxx lists several problems one a line ("- ..."); any other line break (one inside a
        # file name) is shown escaped, so a name can never start a line of its own.
        return "\n".join(self.text(line) for line in re.split(_LIST_ITEM, message))

    def failure(self, failure: Any) -> str:
        """A failure record (result's `Failure`, or its JSON) as one operator message."""
        if failure is None:
            return ""
        if isinstance(failure, dict):
            return self.message(failure.get("message"), failure.get("reason")) or ""
        return self.message(failure.message, failure.reason) or ""

    def check(self, name: str, expected: str, actual: str, passed: bool, drop_frame: bool = False) -> tuple[str, str]:
        """(expected, actual) of one check as an operator sees them (`drop_frame`: the clip's
        timecode counts drop-frame, so its rate reads "29.97 DF")."""
        if is_format_check(name):
            return AS_PROMISED, AS_PROMISED if passed else DIFFERS
        return self.text(value_words(name, expected, drop_frame)), self.text(value_words(name, actual, drop_frame))

    def log(self, text: str) -> str:
        """A job's log as operators may read it: proxx's own lines, safe and in operator words. Engine
        command lines and the engine's own output (which name encoders and formats) are left out:
        `proxx jobs show --verbose` and the integrator endpoints have the whole log."""
        shown, left_out, for_admin, engine_output, traceback = [], 0, 0, False, False
        for line in text.splitlines():
            # An engine's command line starts its own output, which lasts until proxx's next "=== " line.
            engine_output = line.startswith("$ ") or (engine_output and not line.startswith("=== "))
            # A traceback proxx wrote (a fault of proxx or of a plugin) lasts as long as its lines are
            # indented under its entry (`proxx.execute.joblog.append`).
            traceback = line.rstrip().endswith(_TRACEBACK) or (traceback and line.startswith("    "))
            if traceback:
                for_admin += 1
            elif engine_output or line.lstrip().startswith(ADMIN_DETAIL) or self._technical(line):
                left_out += 1
            else:
                shown.append(self.text(line))
        if left_out:
            shown.append(f"({left_out} technical line{'s' if left_out != 1 else ''} of the renderer not shown here)")
        if for_admin:
            shown.append(
                f"({for_admin} line{'s' if for_admin != 1 else ''} for an administrator not shown here: "
                "an error's details, kept in the job's log)"
            )
        return "\n".join(shown)

    def _technical(self, line: str) -> bool:
        return any(pattern.search(line) for pattern, _ in self._words)

    def result(self, document: dict[str, Any]) -> dict[str, Any]:
        """The operator's copy of a result JSON document."""
        out = {k: v for k, v in document.items() if k not in _INTEGRATOR_ONLY}
        clips = []
        for clip in document.get("clips", []):
            checks = []
            drop_frame = any(c["name"] == "timecode" and ";" in c["actual"] for c in clip.get("checks", []))
            for check in clip.get("checks", []):
                name, passed = check["name"], check["passed"]
                expected, actual = self.check(name, check["expected"], check["actual"], passed, drop_frame)
                checks.append({**check, "label": check_label(check["name"]), "expected": expected, "actual": actual})
            clips.append({**clip, "checks": checks, "failure": self._failure(clip.get("failure"))})
        out["clips"] = clips
        out["failure"] = self._failure(document.get("failure"))
        out["validation_problems"] = [self._failure(p) for p in document.get("validation_problems", [])]
        out["exports"] = [{k: v for k, v in e.items() if k != "details"} for e in document.get("exports", [])]
        reworded: dict[str, Any] = self._strings(out)
        return reworded

    def _failure(self, failure: dict[str, Any] | None) -> dict[str, Any] | None:
        if failure is None:
            return None
        context = {k: v for k, v in failure.get("context", {}).items() if k not in _INTEGRATOR_CONTEXT}
        return {
            "failure_class": failure.get("failure_class"),
            "class_title": failure_title(failure.get("failure_class"), failure.get("reason"), letter=False),
            "message": self.message(failure.get("message"), failure.get("reason")),
            "context": context,
        }

    @staticmethod
    def _path(value: Any) -> Any:
        return safe(value) if isinstance(value, str) else value

    def _strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._strings(v) for v in value]
        if isinstance(value, dict):
            return {
                k: safe(v) if k in _PATH_MEMBERS and isinstance(v, str) else self._strings(v) for k, v in value.items()
            }
        return value
