"""`proxx run | submit | worker | jobs list|show|retry | demo`.

Operator output names intents, files and outcomes, never a canonical id or a command line. `--json`
is integrator output: it adds the canonical id (`proxy_profile`) and the full result document.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import json
import os
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

import attrs

from proxx.cli.exits import EXIT_INTERNAL, OneIntent, amount, failed_code, whole
from proxx.errors import CANCELLED, PreJobError
from proxx.home import proxx_home
from proxx.jobspec.stamps import iso_moment
from proxx.openstore import open_store
from proxx.store import COMPLETED, FAILED, QUEUED, RUNNING, STATES, JobRow, LeftOut, Store
from proxx.visibility import ADMIN_DETAIL, CANCELLED_TITLE, OperatorWords, failure_title, operator_checks, safe

if TYPE_CHECKING:  # the commands that run jobs import these when they run: `jobs list|show` need none
    from proxx.app import Proxx
    from proxx.execute.progress import Progress
    from proxx.jobspec.sources import NothingMissing
    from proxx.result import ClipResult, JobResult


#: The commands `register` adds.
COMMANDS = ("run", "submit", "worker", "jobs", "demo")
# A job of more clips than this lists only its failed clips in `jobs show` (a card's thousand lines
# buried its three failures); `--all` lists every one.
LISTED_CLIPS = 20
# A followed job still QUEUED after this many seconds is said to be waiting (once).
QUEUED_NOTE_SECONDS = 60.0


def register(sub: Any, repository_options: Callable[[argparse.ArgumentParser], None]) -> None:
    for name, helptext, handler in (
        ("run", "create a job and run it here, with a progress bar", cmd_run),
        ("submit", "create a job and queue it for workers (`proxx worker`, or the render farm)", cmd_submit),
    ):
        p = sub.add_parser(name, help=helptext)  # no --profiles: an intent is never redefined for one job
        p.add_argument(
            "--profile", action=OneIntent, required=True, metavar="NAME", help="the ONE intent, e.g. 'HD Editorial LT'"
        )
        p.add_argument("--output", required=True, type=Path, metavar="DIR", help="output folder (must exist)")
        p.add_argument("sources", nargs="+", metavar="SRC", help="source media files, or folders (cards) of them")
        p.add_argument("--json", action="store_true", help="integrator output")
        p.add_argument("--verbose", action="store_true", help="also where the result JSON and the log are")
        p.add_argument(
            "--reuse", action="store_true", help="copy an intact proxy already made from this source with this intent"
        )
        p.set_defaults(handler=handler, profiles=[], bundled=None)
    p.add_argument(  # `submit` only: a job run here never goes to the farm
        "--farm",
        nargs="?",
        const=os.environ.get("PROXX_FARM_BROKER") or "redis://127.0.0.1:6379/0",
        metavar="BROKER",
        help="queue it on the render farm (default PROXX_FARM_BROKER, which also makes this the default)",
    )
    p.add_argument(  # `submit` only
        "--follow", action="store_true", help="show its progress until it ends; Ctrl-C cancels it (on the farm too)"
    )

    p = sub.add_parser("worker", help="run queued jobs")
    repository_options(p)
    p.add_argument("--once", action="store_true", help="exit when the queue is empty")
    p.add_argument("--concurrency", type=whole(1, 1024), default=1, metavar="N", help="jobs run at once (default 1)")
    p.set_defaults(handler=cmd_worker)

    jobs = sub.add_parser("jobs", help="list, show and retry jobs").add_subparsers(dest="jobs_command", required=True)
    p = jobs.add_parser("list", help="recent jobs, newest first, a page at a time")
    p.add_argument("--state", choices=STATES)
    p.add_argument(
        "--limit", type=whole(0, 1_000_000_000), default=50, metavar="N", help="jobs on the page (default 50; 0: all)"
    )
    p.add_argument("--since", type=_moment, metavar="DATE", help="jobs created at or after DATE (2026-11-29[T10:00])")
    p.add_argument("--all", action="store_true", help="hidden jobs too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_jobs_list, profiles=[], bundled=None)
    p = jobs.add_parser("hide", help="leave finished jobs out of lists (their JobSpec and result stay, for audit)")
    p.add_argument("job_ids", nargs="*", metavar="ID")
    p.add_argument("--failed-before", type=_moment, metavar="DATE", help="every FAILED job created before DATE")
    p.set_defaults(handler=cmd_jobs_hide, profiles=[], bundled=None)
    p = jobs.add_parser(
        "clean", help="remove the partial outputs failed jobs keep for debugging (nothing else is ever removed)"
    )
    p.add_argument("job_ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every finished job's")
    p.set_defaults(handler=cmd_jobs_clean, profiles=[], bundled=None)
    p = jobs.add_parser("show", help="one job: state, failure, outputs, verification, log")
    p.add_argument("job_id", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.add_argument("--verbose", action="store_true", help="every check, full paths, partial outputs, result and log")
    p.add_argument("--all", action="store_true", help=f"every clip (over {LISTED_CLIPS}, the failed ones)")
    p.set_defaults(handler=cmd_jobs_show, profiles=[], bundled=None)
    p = jobs.add_parser("cancel", help="cancel a queued or running job: it ends FAILED, cancelled by the operator")
    p.add_argument("job_id", metavar="ID")
    p.add_argument(
        "--wait", type=amount(0, 86400), default=30.0, metavar="S", help="seconds to wait for a running job to stop"
    )
    p.set_defaults(handler=cmd_jobs_cancel, profiles=[], bundled=None)
    p = jobs.add_parser("retry", help="create a NEW job for a failed job's clips without a verified output")
    p.add_argument("job_id", metavar="ID")
    p.add_argument("--run", action="store_true", help="run the new job here instead of queueing it")
    p.add_argument("--json", action="store_true")
    p.add_argument("--verbose", action="store_true", help="also where the result JSON and the log are")
    p.set_defaults(handler=cmd_jobs_retry, profiles=[], bundled=None)

    p = sub.add_parser("demo", help="make a short sample clip and proxy it with 'HD Editorial LT'")
    p.add_argument("--profile", action=OneIntent, default="HD Editorial LT", metavar="NAME")
    p.set_defaults(handler=cmd_demo, profiles=[], bundled=None, json=False, verbose=True)


def _open(args: argparse.Namespace) -> Proxx:
    from proxx.app import Proxx

    return Proxx.open(profiles=args.profiles, bundled=args.bundled)


# --- output ---------------------------------------------------------------------------------------


class ProgressBar:
    """A one-line bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.latest = (-1, "")  # the last clip started: with clips side by side, reports alternate

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(progress.fraction * width)
        eta = f"  ETA {_duration(progress.eta_seconds)}" if progress.eta_seconds is not None else ""
        self.latest = max(self.latest, (progress.clip_index, progress.clip_name))
        clip = f"  {self.latest[0] + 1}/{progress.clips} {safe(self.latest[1])}".rstrip()
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {progress.fraction:4.0%}{clip}{eta}\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")

    def note(self, text: str) -> None:
        """A line on stderr, above the bar (which the next report draws again)."""
        sys.stderr.write(("\r\x1b[K" if self.enabled else "") + text + "\n")
        sys.stderr.flush()


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else str(datetime.timedelta(seconds=round(seconds)))


def _state(row: JobRow) -> str:
    """The job's state, and for a FAILED one what failed it in words; a cancel leads as a cancel."""
    if row.reason == CANCELLED:
        return f"{CANCELLED_TITLE} ({row.state})"
    return f"{row.state} ({failure_title(row.failure_class, row.reason)})" if row.failure_class else row.state


def exit_code(row: JobRow) -> int:
    return 0 if row.state == COMPLETED else failed_code(row.failure_class)


def job_words(spec: Mapping[str, Any], intent: str) -> OperatorWords:
    """What operators read of this job's messages and logs (`proxx.visibility`), from its stored
    JobSpec's document (`Store.spec_document`): its own canonical profile's values are what a message
    could leak, so no registry needs loading to show a job."""
    return OperatorWords.of_job(spec["canonical_profile"], intent)


def _message_lines(words: OperatorWords, message: str | None, reason: str | None) -> list[str]:
    return (words.message(message, reason) or "").split("\n")


def print_outcome(proxx: Proxx, job_id: str, result: JobResult | None, verbose: bool = False) -> int:
    """`result`: the job's result when this process ran it, else None to read it from its file.
    Proxies go to stdout, one a line; each failed clip with its own message, and what was not run,
    to stderr; then one line with the counts. The result and log files (which hold canonical ids and
    command lines) only with `verbose`."""
    from proxx.result import CLIP_COMPLETED, CLIP_NOT_RUN, load_result

    row = proxx.store.job(job_id)
    words = job_words(proxx.store.spec_document(job_id), row.intent)
    intent = safe(row.intent)
    if result is None and row.result_path and Path(row.result_path).exists():
        result = load_result(Path(row.result_path))
    clips = result.clips if result else ()
    for clip in clips:
        if clip.state == CLIP_COMPLETED:
            print(f"Proxy:  {safe(clip.output)}{_reused(clip)}")
            for check in clip.checks:  # what the proxy leaves out by rule: said, never silent
                if check.name == "video_tracks" and check.passed:
                    print(f"Note:   {safe(Path(clip.source).name)}: {check.actual}", file=sys.stderr)
    for export in result.exports if result else ():  # said, never silent: the record it keeps is missing
        if not export.ok:
            print(
                f"Note:   the {safe(export.exporter)} export failed ({words.text(export.error or '')}); the job's "
                f"proxies are as listed. `proxx jobs show {row.job_id}` says more.",
                file=sys.stderr,
            )
    if row.state == COMPLETED and result:
        print(f"Job {row.job_id} COMPLETED: {_count(len(clips), 'verified proxy', 'verified proxies')} published "
              f"with '{intent}'.")  # fmt: skip
        _print_files(row, verbose, sys.stdout)
        return exit_code(row)
    clip_failures = [c for c in clips if c.failure is not None]
    if clip_failures and any(c.state != CLIP_NOT_RUN for c in clips):  # the job ran: each clip's outcome
        for clip in clip_failures:
            outcome = "Stopped" if clip.failure and clip.failure.reason == CANCELLED else "Failed"
            print(f"{outcome}: {safe(Path(clip.source).name)}: {words.failure(clip.failure)}", file=sys.stderr)
            if verbose and clip.failure:
                _print_admin_detail(clip.failure.context, sys.stderr)
            if clip.partial_output and os.path.lexists(clip.partial_output):
                print(f"        partial output kept for debugging: {safe(clip.partial_output)}", file=sys.stderr)
        for clip in clips:
            if clip.state == CLIP_NOT_RUN:
                print(f"Not run: {safe(Path(clip.source).name)}", file=sys.stderr)
        published = sum(c.state == CLIP_COMPLETED for c in clips)
        if row.reason == CANCELLED:
            print(
                f"{words.message(row.message, row.reason)} Job {row.job_id} FAILED, with '{intent}'.", file=sys.stderr
            )
        else:
            print(
                f"Job {row.job_id} {_state(row)}: {len(clip_failures)} of {_count(len(clips), 'clip', 'clips')} "
                f"failed, {_count(published, 'proxy', 'proxies')} published with '{intent}'.",
                file=sys.stderr,
            )
    elif row.reason == CANCELLED:
        print(f"{words.message(row.message, row.reason)} Job {row.job_id} FAILED.", file=sys.stderr)
    else:
        lines = _message_lines(words, row.message, row.reason)
        print(f"Job {row.job_id} {_state(row)}: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:
            print(f"  {line}", file=sys.stderr)
    _print_files(row, verbose, sys.stderr)
    return exit_code(row)


def _print_admin_detail(context: Mapping[str, Any], stream: TextIO) -> None:
    """A failed clip's engine's own words (its last error line, its exit status: its failure's
    context), which operators read in their terms above: for `--verbose` and administrators."""
    admin = context.get("admin_message")
    if admin:
        print(f"        {ADMIN_DETAIL}{safe(str(admin))}", file=stream)


def _print_files(row: JobRow, verbose: bool, stream: TextIO) -> None:
    """The result JSON and the log: for integrators and `--verbose` (they hold canonical ids and
    engine command lines)."""
    if not verbose:
        return
    if row.result_path:
        print(f"Result: {row.result_path}", file=stream)
    if row.log_path:
        print(f"Log:    {row.log_path}", file=stream)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _reused(clip: ClipResult) -> str:
    if clip.reused_from is None:
        return ""
    return f" ({clip.reused_from.how} from job {clip.reused_from.job_id})"


def _job_json(row: JobRow, with_result: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "job_id": row.job_id,
        "state": row.state,
        "intent": row.intent,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "retry_of": row.retry_of,
        "progress": row.progress,
        "eta_seconds": row.eta_seconds,
        "failure_class": row.failure_class,
        "reason": row.reason,
        "message": row.message,
        "result_path": row.result_path,
        "log_path": row.log_path,
        "proxy_profile": row.proxy_profile,
    }
    if with_result and row.result_path and Path(row.result_path).exists():
        document["result"] = json.loads(Path(row.result_path).read_text(encoding="utf-8"))
    return document


# --- commands -------------------------------------------------------------------------------------


def _told_left_out(store: Store, job_id: str, as_json: bool = False) -> None:
    """The files of the job's folders it does not proxy, one a line: proxies already there go to
    stdout with the others (a card's every proxy is listed; to stderr when stdout is JSON), files
    that are not video to stderr."""
    _say_left_out(store.left_out(job_id), as_json)


def _say_left_out(items: Iterable[LeftOut], as_json: bool = False) -> None:
    for item in items:
        if item.proxy is not None:
            line = f"Proxy:  {safe(item.proxy)} (already proxied by job {item.by_job}; not run again)"
            print(line, file=sys.stderr if as_json else sys.stdout)
        else:
            print(f"Skipped: {safe(item.path)}: {safe(item.why)}", file=sys.stderr)


def _nothing_missing(nothing: NothingMissing, as_json: bool = False) -> int:
    """A re-run with every proxy already there: said, and a success (no job was needed)."""
    from proxx.app import left_out

    items = left_out(nothing.expansion)
    if as_json:
        document = {"job_id": None, "message": nothing.message, "left_out": [attrs.asdict(i) for i in items]}
        print(json.dumps(document, indent=2))
        return 0
    _say_left_out(items)
    print(safe(nothing.message))
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from proxx.jobspec.sources import NothingMissing

    proxx = _open(args)
    try:
        spec = proxx.submit(args.profile, args.sources, args.output, farm=args.farm, reuse=args.reuse)
    except NothingMissing as nothing:
        return _nothing_missing(nothing, args.json)
    _told_left_out(proxx.store, spec.job_id, args.json)
    # A job refused in class B as it was created is said as a followed job's end is, with its exit code.
    refused = proxx.store.job(spec.job_id).state == FAILED
    if args.json and not (args.follow or refused):
        print(json.dumps(_job_json(proxx.store.job(spec.job_id), False), indent=2))
    elif not (args.json or refused):
        where = " on the render farm" if proxx.store.dispatched().get(spec.job_id) else ""
        print(f"Job {spec.job_id} QUEUED{where}: {len(spec.clips)} source(s) with '{args.profile}'.", flush=True)
    if not (args.follow or refused):
        return 0
    bar, stop = ProgressBar(), threading.Event()
    with _cancel_on_signals(spec.job_id, stop, bar):
        try:
            _follow(proxx, spec.job_id, bar, stop)
        finally:
            bar.close()
    if args.json:
        row = proxx.store.job(spec.job_id)
        print(json.dumps(_job_json(row, True), indent=2))
        return exit_code(row)
    return print_outcome(proxx, spec.job_id, None, args.verbose)


def run_and_report(proxx: Proxx, job_id: str, as_json: bool, verbose: bool = False) -> int:
    bar = ProgressBar()
    stop = threading.Event()
    with _cancel_on_signals(job_id, stop, bar):
        try:
            result = proxx.run_job(job_id, on_progress=bar, stop=stop)
            if result is None:
                _follow(proxx, job_id, bar, stop)  # a `proxx worker` claimed it first: watch it finish there
        finally:
            bar.close()
    row = proxx.store.job(job_id)
    if as_json:
        print(json.dumps(_job_json(row, True), indent=2))
        return exit_code(row)
    return print_outcome(proxx, job_id, result, verbose)


@contextlib.contextmanager
def _cancel_on_signals(job_id: str, stop: threading.Event, bar: ProgressBar) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM cancel the job: the encoder is stopped, the job ends FAILED
    "cancelled by the operator" with its result JSON. A terminal, `timeout` or a service manager
    often sends a second signal close behind the first: a second one is still the same cancel.
    Only a third Ctrl-C interrupts at once (the job is then marked lost by the next proxx command)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupts = 0

    def cancel(signum: int, frame: object) -> None:
        nonlocal interrupts
        interrupts += signum == signal.SIGINT
        if stop.is_set():
            if interrupts >= 3:
                raise KeyboardInterrupt
            print(f"Still cancelling job {job_id} (a third Ctrl-C stops at once).", file=sys.stderr, flush=True)
            return
        stop.set()
        bar.close()
        print(f"Cancelling job {job_id}: stopping the encoder...", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, cancel) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _follow(proxx: Proxx, job_id: str, bar: ProgressBar, stop: threading.Event) -> None:
    from proxx.execute.progress import Progress
    from proxx.execute.recover import recover_lost

    asked, noted, since = False, False, time.monotonic()
    dispatched = job_id in proxx.store.dispatched()
    while True:
        if stop.is_set() and not asked:  # the job runs in another process (or on the farm): cancel it there
            with contextlib.suppress(PreJobError):  # it ended meanwhile: its ending is shown
                proxx.cancel(job_id)
            asked = True
        recover_lost(proxx.store, proxx.home, proxx.store.reap_lost())
        if dispatched:
            proxx.refresh()
        row = proxx.store.job(job_id)
        spec = proxx.store.spec_unchecked(job_id)
        if row.state == COMPLETED:  # its last look may have been short of the end
            bar(Progress(job_id, 1.0, None, len(spec.clips) - 1, len(spec.clips), Path(spec.clips[-1].source).name))
        if row.state in (COMPLETED, FAILED):
            return
        if row.state == QUEUED and not noted and time.monotonic() - since > QUEUED_NOTE_SECONDS:
            noted = True  # a follower left waiting in silence cannot tell a busy farm from none at all
            takers = "no render farm worker" if dispatched else "no worker (`proxx worker`, `proxx serve`)"
            bar.note(f"Still QUEUED after {QUEUED_NOTE_SECONDS:g} s: {takers} has taken it yet. Ctrl-C cancels it.")
        index = row.clip_index or 0
        name = Path(spec.clips[index].source).name if index < len(spec.clips) else ""
        bar(Progress(job_id, row.progress, row.eta_seconds, index, len(spec.clips), name))
        time.sleep(0.5)


def cmd_run(args: argparse.Namespace) -> int:
    from proxx.jobspec.sources import NothingMissing

    proxx = _open(args)
    try:
        spec = proxx.create_job(args.profile, args.sources, args.output, reuse=args.reuse)
    except NothingMissing as nothing:
        return _nothing_missing(nothing, args.json)
    _told_left_out(proxx.store, spec.job_id, args.json)
    return run_and_report(proxx, spec.job_id, args.json, args.verbose)


def cmd_worker(args: argparse.Namespace) -> int:
    import signal

    from proxx.worker import work

    proxx = _open(args)
    failed: list[int] = []  # the exit code of each job that failed, for `--once` to end with

    def done(result: JobResult) -> None:
        said = ""
        if result.failure:  # what ended it first, as `run` says it
            title = failure_title(result.failure.failure_class, result.failure.reason)
            said = f" ({title}): {words.failure(result.failure)}"
        print(f"{result.job_id} {result.state}{said}", flush=True)
        if result.failure is not None:
            failed.append(failed_code(result.failure.failure_class))

    words = OperatorWords.of(proxx.repository.registry, (p.name for p in proxx.repository.user_profiles))
    stop = threading.Event()
    # SIGTERM (a service manager stopping the worker): take no new job, finish the running ones.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    errors: list[int] = []  # the worker's own faults (a job's fault ends that job FAILED, through `done`)

    def error(line: str) -> None:
        print(f"proxx: {line}", file=sys.stderr, flush=True)
        errors.append(EXIT_INTERNAL)

    count = work(proxx, concurrency=args.concurrency, once=args.once, stop=stop, on_done=done, on_error=error)
    print(f"worker ran {count} job(s)" + (f", {len(failed)} FAILED" if failed else ""))
    failed += errors
    # A script draining the queue learns that some failed, and how; a service stopped is no failure.
    return max(failed, default=0) if args.once else 0


def _moment(text: str) -> str:
    try:
        return iso_moment(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date such as 2026-11-29 or 2026-11-29T10:00") from None


def _age(stamp: str, now: datetime.datetime) -> str:
    seconds = (now - datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{max(0, int(seconds))} s"


def _list_rows(rows: list[JobRow]) -> list[tuple[str, ...]]:
    now = datetime.datetime.now(datetime.UTC)
    table: list[tuple[str, ...]] = [("JOB", "STATE", "INTENT", "SOURCE", "PUBLISHED", "FAILED", "AGE")]
    for r in rows:
        source = safe(Path(r.first_source).name) if r.first_source else "-"
        if r.clip_count > 1:
            source += f" (+{r.clip_count - 1})"
        state = f"{r.state} {r.progress:.0%}" if r.state == "RUNNING" else str(r.state)
        if r.reason == CANCELLED:
            state = f"Cancelled ({r.state})"
        published = "-" if r.published is None else f"{r.published}/{r.clip_count}"
        table.append((r.job_id[-8:], state, safe(r.intent), source, published, _failed(r), _age(r.created_at, now)))
    return table


_SOURCE, _SOURCE_AT_LEAST = 3, 12  # the SOURCE column, and what it keeps of a name at least
REEL = 4  # what a shortened name keeps of its start: a reel or camera letter and number, "A001"


def _fitted(table: list[tuple[str, ...]], columns: int) -> list[tuple[str, ...]]:
    """`table` with its SOURCE names shortened (`_shortened`) so that each row fits in `columns`, as
    far as the other columns leave room."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    over = sum(widths) + 2 * (len(widths) - 1) - columns
    room = max(_SOURCE_AT_LEAST, widths[_SOURCE] - over)
    if over <= 0 or room >= widths[_SOURCE]:
        return table
    return [(*row[:_SOURCE], _shortened(row[_SOURCE], room), *row[_SOURCE + 1 :]) for row in table]


def _shortened(text: str, room: int) -> str:
    """`text` in `room` characters: the name's start (the reel, the camera) and its end (the clip's
    number), the count of the others whole: "A001…_Take_2.MOV (+12)"."""
    if len(text) <= room:
        return text
    name, plus, others = text.partition(" (+")
    keep = room - len(plus + others) - 1  # of the name, around the "…"
    if keep < 6:  # too little room for both ends: the end
        return "…" + text[len(text) - room + 1 :]
    head = min(REEL, keep // 2)
    return f"{name[:head]}…{name[len(name) - (keep - head) :]}{plus}{others}"


def _failed(row: JobRow) -> str:
    """Clips that failed; a job refused before anything ran (class B) failed every clip."""
    if row.refused:
        return str(row.clip_count)
    return "-" if row.failed_clips is None else str(row.failed_clips)


def _jobs(args: argparse.Namespace) -> Store:
    """The store alone, for commands that only read or mark jobs: no plugin or profile is loaded."""
    return open_store(proxx_home())


def cmd_jobs_list(args: argparse.Namespace) -> int:
    store = _jobs(args)
    if args.limit == 0:  # everything, streamed: memory stays flat however many jobs there are
        return _stream(store, args)
    rows = store.jobs(args.state, args.limit, args.since, hidden=args.all)
    if args.json:
        print(json.dumps([_job_json(r, False) for r in rows], indent=2))
        _stale(store)
        return 0
    if not rows:
        print("No jobs." if not (args.state or args.since) else "No jobs match.")
        return 0
    table = _list_rows(rows)
    if sys.stdout.isatty():  # a terminal: each row on one line (a file or a pipe gets every name whole)
        table = _fitted(table, shutil.get_terminal_size().columns)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if args.limit and len(rows) == args.limit:
        print(f"(the {args.limit} newest: --limit N or --since DATE for more; JOB is the id's last 8)")
    for r in rows:  # a farm job that may never run says why (`Store.note_waiting`), never in silence
        if r.state == QUEUED and r.message:
            print(f"Note: job {r.job_id[-8:]}: {safe(r.message)}", file=sys.stderr)
    _stale(store)
    return 0


def _stream(store: Store, args: argparse.Namespace) -> int:
    rows = store.iter_jobs(args.state, None, args.since, hidden=args.all)
    if args.json:
        print("[")
        for n, job in enumerate(rows):
            print(("," if n else "") + json.dumps(_job_json(job, False)))
        print("]")
        return 0
    first = list(itertools.islice(rows, 1000))  # the first thousand set the column widths
    table = _list_rows(first) if first else []
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))] if table else []
    for line in itertools.chain(table, (r for chunk in _chunks(rows) for r in _list_rows(chunk)[1:])):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip())
    return 0


def _chunks(rows: Iterator[JobRow], size: int = 1000) -> Iterator[list[JobRow]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _finished_jobs(store: Store, given: Sequence[str], only: str) -> list[str] | None:
    """The ids of the finished jobs `given` names; None, said on stderr, if one names no job or a
    job still queued or running (`only`: what the command does to finished jobs alone)."""
    ids = []
    for name in given:
        try:
            row = store.find(name)
        except KeyError:
            print(f"proxx: no job matches '{safe(name)}'.", file=sys.stderr)
            return None
        if row.state not in (COMPLETED, FAILED):
            print(f"proxx: job {row.job_id} is {row.state}; {only}.", file=sys.stderr)
            return None
        ids.append(row.job_id)
    return ids


def cmd_jobs_hide(args: argparse.Namespace) -> int:
    from proxx.app import clean_partials

    store = _jobs(args)
    if not args.job_ids and not args.failed_before:
        print("proxx: give job IDs or --failed-before DATE.", file=sys.stderr)
        return 2
    named = _finished_jobs(store, args.job_ids, "only finished jobs are hidden")
    if named is None:
        return 2
    ids = [*(store.failed_before(args.failed_before) if args.failed_before else []), *named]
    hidden = store.hide(sorted(set(ids)))
    removed = clean_partials(store, sorted(set(ids)))  # a hidden job's partials are of no more use
    print(f"{hidden} job(s) hidden; `proxx jobs list --all` still lists them, and their JobSpec and result stay.")
    if removed:
        print(f"{_count(len(removed), 'partial output', 'partial outputs')} they kept for debugging removed.")
    return 0


def cmd_jobs_clean(args: argparse.Namespace) -> int:
    from proxx.app import clean_partials

    store = _jobs(args)
    if not args.job_ids and not args.all:
        print("proxx: give job IDs or --all.", file=sys.stderr)
        return 2
    named = _finished_jobs(store, args.job_ids, "only a finished job's partial outputs are removed")
    if named is None:
        return 2
    ids = [row.job_id for row in store.iter_jobs() if row.state in (COMPLETED, FAILED)] if args.all else []
    removed = clean_partials(store, [*ids, *named])
    for path in removed:
        print(f"Removed   {safe(str(path))}")
    print(f"{_count(len(removed), 'partial output', 'partial outputs')} removed; proxies are never touched.")
    return 0


def cmd_jobs_show(args: argparse.Namespace) -> int:
    store = _jobs(args)
    try:
        row = store.find(args.job_id)
    except KeyError:
        print(f"proxx: no job matches '{safe(args.job_id)}'.", file=sys.stderr)
        return 2
    if row.job_id in store.dispatched():
        _stale(store)
    if args.json:
        document = _job_json(row, True)
        document["left_out"] = [attrs.asdict(item) for item in store.left_out(row.job_id)]
        print(json.dumps(document, indent=2))
        return 0
    spec = store.spec_document(row.job_id)
    words = job_words(spec, row.intent)
    print(f"Job       {row.job_id}")
    print(f"State     {_state(row)}")
    print(f"Intent    {safe(row.intent)}")
    print(f"Created   {row.created_at}")
    print(f"Output    {safe(spec['output_directory'])}")
    if row.retry_of:
        print(f"Retry of  {row.retry_of}")
    retried_as = store.retries_of(row.job_id)
    if retried_as:  # an operator reading a FAILED job sees it was retried already
        print(f"Retried as {', '.join(retried_as)}")
    result = _shown_result(row)
    clips: list[dict[str, Any]] = result["clips"] if result else []
    problems = result.get("validation_problems", []) if result else []
    clip_failures = any(c.get("failure") for c in clips)
    if row.message and len(problems) <= 1 and not clip_failures:  # else each clip's line says it
        lines = _message_lines(words, row.message, row.reason)
        _say("Message   ", lines[0], "          ")
        for line in lines[1:]:
            _say("          ", line, "            " if line.startswith("- ") else "          ")
    if clips:
        from proxx.clipstate import CLIP_COMPLETED, CLIP_FAILED, CLIP_NOT_RUN

        states = [c["state"] for c in clips]
        published = _count(states.count(CLIP_COMPLETED), "proxy", "proxies")
        if row.refused:  # counted failed, as `jobs list` and the API count them
            print(f"Outcome   {published} published, {len(clips)} failed: refused before any was run")
        else:
            counts = f"{states.count(CLIP_FAILED)} failed, {states.count(CLIP_NOT_RUN)} not run"
            print(f"Outcome   {published} published, {counts}")
    if len(problems) > 1:
        print(f"Problems  {len(problems)} found before anything ran:")
        for problem in problems:
            _say("          - ", words.failure(problem), "            ")
    for item in store.left_out(row.job_id):
        if item.proxy is not None:
            print(f"Proxied   {safe(item.path)} -> {safe(item.proxy)} (job {item.by_job}), not run again")
        else:
            print(f"Skipped   {safe(item.path)}: {words.text(item.why)}")
    print("Clips")
    clips_listed = clips if args.all or len(clips) <= LISTED_CLIPS else _failed_first(clips)
    for clip in clips_listed:
        _print_clip(words, clip, args.verbose)
    if len(clips_listed) < len(clips):
        print(f"  ({_folded(clips, clips_listed)} not listed: --all lists every clip)")
    if result is None:  # no result yet: a running job's clips published so far, from its journal
        from proxx.execute.journal import published_so_far

        done = published_so_far(Path(row.log_path).parent) if row.state == RUNNING and row.log_path else {}
        if args.all or len(spec["clips"]) <= LISTED_CLIPS:
            for c in spec["clips"]:
                state = "published" if c["index"] in done else row.state
                print(f"  {safe(Path(c['source']).name)}  {state}  -> {safe(c['output'])}")
        else:
            so_far = f"{len(done)} published so far, " if done else ""
            print(f"  ({so_far}{len(spec['clips']) - len(done)} {row.state} not listed: --all lists every clip)")
    if row.state == FAILED:
        from proxx.execute.publish import kept_partials

        listed = {c.get("partial_output") for c in clips}
        # a crashed worker's too, which no result records
        for path in kept_partials(row.job_id, [(c["index"], c["output"]) for c in spec["clips"]]):
            if str(path) not in listed:
                print(f"Partial   {safe(str(path))}  (a partial output of this job, not a proxy)")
    for outcome in result.get("exports", []) if result else []:
        if args.verbose or not outcome["ok"]:
            failed = "FAILED: " + words.text(outcome.get("error") or "")
            print(f"Export    {outcome['exporter']}: {'ok' if outcome['ok'] else failed}")
    _print_files(row, args.verbose, sys.stdout)
    return 0


def _say(lead: str, text: str, indent: str) -> None:
    """`lead` and `text`; in a terminal, wrapped at its width between words, each further line under
    the first's text (the terminal itself would cut words and break the columns)."""
    if not sys.stdout.isatty():  # a file or a pipe: one line, as scripts read it
        print(lead + text)
        return
    print(_wrapped(lead, text, indent, shutil.get_terminal_size().columns))


def _wrapped(lead: str, text: str, indent: str, columns: int) -> str:
    import textwrap

    wrapper = textwrap.TextWrapper(
        width=max(columns - 1, len(indent) + 20), initial_indent=lead, subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False,
    )  # fmt: skip
    return "\n".join(wrapper.wrap(text)) or lead.rstrip()


def _failed_first(clips: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a large job's `jobs show` lists: its failed clips, the first `LISTED_CLIPS` of them."""
    from proxx.clipstate import CLIP_FAILED

    return [clip for clip in clips if clip["state"] == CLIP_FAILED][:LISTED_CLIPS]


def _folded(clips: list[dict[str, Any]], listed: list[dict[str, Any]]) -> str:
    """The clips left out of the list, counted by outcome: "997 published, 3 not run"."""
    from proxx.clipstate import CLIP_COMPLETED, CLIP_FAILED, CLIP_NOT_RUN

    shown = {id(clip) for clip in listed}
    left = Counter(clip["state"] for clip in clips if id(clip) not in shown)
    words = ((CLIP_COMPLETED, "published"), (CLIP_FAILED, "more FAILED"), (CLIP_NOT_RUN, "not run"))
    return ", ".join(f"{left[state]} {said}" for state, said in words if left[state])


def _shown_result(row: JobRow) -> dict[str, Any] | None:
    """The job's result JSON document, which `jobs show` prints from as `--json` does, or None when
    it has none."""
    if not (row.result_path and Path(row.result_path).exists()):
        return None
    document: dict[str, Any] = json.loads(Path(row.result_path).read_text(encoding="utf-8"))
    return document


class _ShownCheck(NamedTuple):
    """A check of a result document, as `operator_checks` reads it (`proxx.verify.checks.Check`)."""

    name: str
    expected: str
    actual: str
    passed: bool


def _print_clip(words: OperatorWords, clip: dict[str, Any], verbose: bool) -> None:
    """One line per clip (its source's name, its outcome, where its proxy is); a failed clip's
    message and failing checks below it; every check and the full source path with `verbose`."""
    from proxx.clipstate import CLIP_COMPLETED, CLIP_FAILED, CLIP_NOT_RUN

    name = safe(clip["source"] if verbose else Path(clip["source"]).name)
    states: dict[str, str] = {CLIP_COMPLETED: "published", CLIP_FAILED: "FAILED", CLIP_NOT_RUN: "not run"}
    state = states.get(clip["state"], clip["state"])
    where = f"  -> {safe(clip['output'])}" if clip["state"] == CLIP_COMPLETED else ""
    print(f"  {name}  {state}{where}")
    failure = clip.get("failure")
    if failure:
        _say("      ", words.failure(failure), "      ")
        if verbose:
            _print_admin_detail(failure.get("context", {}), sys.stdout)
    reused = clip.get("reused_from")
    if reused:
        how = reused.get("how", "copied")  # results of earlier versions may say "linked"
        print(f"      {how} from job {reused['job_id']} ({safe(reused['output'])}), not rendered")
    partial = clip.get("partial_output")
    if partial:
        kept = "kept for debugging" if os.path.lexists(partial) else "removed (proxx jobs clean)"
        print(f"      partial output {kept}: {safe(partial)}")
    checks = clip.get("checks", [])
    if not verbose and all(c["passed"] for c in checks):
        return  # nothing to show: wording every passed check cost 3 ms a clip, seconds on a card
    shown = [_ShownCheck(c["name"], c["expected"], c["actual"], c["passed"]) for c in checks]
    for label, passed, detail in operator_checks(shown):
        if verbose or not passed:
            print(f"      {'ok  ' if passed else 'FAIL'} {label}: {detail}")


def cmd_jobs_cancel(args: argparse.Namespace) -> int:
    from proxx.execute.recover import recover_lost

    proxx = _open(args)
    try:
        row = proxx.cancel(args.job_id)
    except KeyError:
        print(f"proxx: no job matches '{safe(args.job_id)}'.", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.wait
    while row.state in (QUEUED, RUNNING) and time.monotonic() < deadline:  # its worker stops it within seconds
        time.sleep(0.2)
        recover_lost(proxx.store, proxx.home, proxx.store.reap_lost())
        proxx.refresh()
        row = proxx.store.job(row.job_id)
    if row.state in (QUEUED, RUNNING):
        print(
            f"Job {row.job_id}: cancel requested; it has not stopped yet (it ends FAILED, cancelled by the "
            "operator, when its worker sees the request)."
        )
        _stale(proxx.store)
        return 0
    if row.state == COMPLETED:
        print(f"Job {row.job_id} COMPLETED before the cancel reached it: its proxies are published.")
        return 1
    words = job_words(proxx.store.spec_document(row.job_id), row.intent)
    if row.reason == CANCELLED:
        print(f"{words.message(row.message, row.reason)} Job {row.job_id} FAILED.")
    else:
        print(f"Job {row.job_id} {row.state}: {words.message(row.message, row.reason)}")
    return 0


def _stale(store: Store) -> None:
    """Say when the states of farm jobs could not be refreshed: they are then the last known."""
    for problem in store.refresh_problems:
        print(
            f"Note: render farm states could not be refreshed ({problem.rstrip('.')}); farm jobs show their "
            "last known state.",
            file=sys.stderr,
        )


def cmd_jobs_retry(args: argparse.Namespace) -> int:
    from proxx.jobspec.sources import NothingMissing

    proxx = _open(args)
    try:
        original = proxx.store.find(args.job_id).job_id
    except KeyError:
        print(f"proxx: no job matches '{safe(args.job_id)}'.", file=sys.stderr)
        return 2
    try:
        spec, done = proxx.retry(original, here=args.run)
    except NothingMissing as nothing:  # every clip's proxy was published meanwhile (a re-run of the card)
        return _nothing_missing(nothing, args.json)
    skipped = f"; {done} clip(s) already verified in {original} are not repeated" if done else ""
    if proxx.store.job(spec.job_id).state == FAILED:  # refused in class B as it was created: as submit says it
        if args.json:
            row = proxx.store.job(spec.job_id)
            print(json.dumps(_job_json(row, True), indent=2))
            return exit_code(row)
        return print_outcome(proxx, spec.job_id, None, args.verbose)
    if not args.json:
        farm = " on the render farm" if proxx.store.dispatched().get(spec.job_id) else ""
        state = "created" if args.run else f"QUEUED{farm}"
        waits = "" if args.run or farm else " It waits for `proxx worker` or `proxx serve` (or retry with --run)."
        print(f"Job {spec.job_id} {state} as a retry of {original} ({len(spec.clips)} clip(s){skipped}).{waits}")
    if args.run:
        return run_and_report(proxx, spec.job_id, args.json, args.verbose)
    if args.json:
        print(json.dumps(_job_json(proxx.store.job(spec.job_id), False), indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from proxx.media.samples import make_clip

    proxx = _open(args)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = proxx.home / "demo" / stamp
    print(f"Making a sample clip (1920x1080, 23.976 fps, stereo, timecode 01:00:00:00) in {folder}")
    source = make_clip(folder / "A001_C001.mov", size="1920x1080", frames=72)
    output = folder / "proxies"
    output.mkdir()
    print(f"Proxying it with '{args.profile}'...")
    spec = proxx.create_job(args.profile, [source], output)
    return run_and_report(proxx, spec.job_id, False, args.verbose)
