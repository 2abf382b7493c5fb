"""`proxx watch DIR`: watch folders (media -> jobs with one intent) and JobSpec inboxes."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proxx.cli.exits import EXIT_CONFIGURATION, EXIT_INTERNAL, OneIntent, amount, failed_code
from proxx.visibility import OperatorWords, failure_title, safe

if TYPE_CHECKING:
    from proxx.app import Proxx
    from proxx.watch.watcher import JobSpecInbox, MediaWatcher


#: The commands `register` adds.
COMMANDS = ("watch",)


def register(sub: Any, repository_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "watch",
        help="queue a job for every new media file in DIR once it stops growing (or JobSpecs dropped in DIR)",
    )
    repository_options(p)
    p.add_argument("folder", type=Path, metavar="DIR")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--profile", action=OneIntent, metavar="NAME", help="the intent every new media file is proxied with"
    )
    what.add_argument("--jobspecs", action="store_true", help="DIR is an inbox of JobSpec JSON files")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--output", type=Path, metavar="DIR", help="output folder for every proxy")
    where.add_argument(
        "--proxy-subfolder", action="store_true", help="write proxies into a Proxy/ folder beside each file"
    )
    p.add_argument(
        "--root",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="with --jobspecs: a folder its JobSpecs may read sources from and write outputs into "
        "(repeatable; default PROXX_INBOX_ROOTS, folders separated like PATH); an inbox needs at least one",
    )
    p.add_argument(
        "--settle", type=amount(0, 86400), default=5.0, metavar="S", help="seconds a file must stop growing (5)"
    )
    p.add_argument("--interval", type=amount(0.01, 86400), default=2.0, metavar="S", help="seconds between scans (2)")
    p.add_argument("--once", action="store_true", help="exit once no file is left waiting to settle")
    p.add_argument(
        "--run", action="store_true", help="run the jobs here too (one worker in this process): a one-machine set-up"
    )
    p.add_argument(
        "--warn-after",
        type=float,
        default=60.0,
        metavar="S",
        help="say so when queued jobs wait this long with no worker taking one (60)",
    )
    p.add_argument(
        "--farm",
        nargs="?",
        const=os.environ.get("PROXX_FARM_BROKER") or "redis://127.0.0.1:6379/0",
        metavar="BROKER",
        help="queue on the render farm (default PROXX_FARM_BROKER, which also makes this the default)",
    )
    p.set_defaults(handler=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    from proxx.app import Proxx
    from proxx.jobspec.signing import key_from_env
    from proxx.roots import Roots, roots_from_env
    from proxx.watch.watcher import JobSpecInbox, MediaWatcher, watching_alone

    if not args.folder.is_dir():
        print(f"proxx: watch folder '{args.folder}' does not exist.", file=sys.stderr)
        return 2
    proxx = Proxx.open(profiles=args.profiles, bundled=args.bundled)
    farm = args.farm or os.environ.get("PROXX_FARM_BROKER")
    watcher: MediaWatcher | JobSpecInbox
    if args.jobspecs:
        roots = Roots(args.root) if args.root else roots_from_env("PROXX_INBOX_ROOTS")
        if roots is None:
            print(
                "proxx: a JobSpec inbox needs the folders its JobSpecs may use: give --root DIR "
                "(or set PROXX_INBOX_ROOTS).",
                file=sys.stderr,
            )
            return 2
        key = key_from_env("PROXX_INBOX_KEY")
        watcher = JobSpecInbox(proxx, args.folder, roots, settle=args.settle, farm=farm, key=key)
    else:
        if not (args.output or args.proxy_subfolder):
            print("proxx: give --output DIR or --proxy-subfolder.", file=sys.stderr)
            return 2
        proxx.select(args.profile)  # an intent that does not compile stops here (class A), before any file
        watcher = MediaWatcher(proxx, args.folder, args.profile, args.output, settle=args.settle, farm=farm)

    with watching_alone(watcher):
        return _watch(args, proxx, watcher, farm)


def _watch(args: argparse.Namespace, proxx: Proxx, watcher: MediaWatcher | JobSpecInbox, farm: str | None) -> int:
    """Watch, this process alone (`watching_alone`): what `cmd_watch` set up."""
    import signal

    from proxx.watch.watcher import Event, QueueWatch, watch

    words = _words(proxx)
    if args.jobspecs:
        print(f"Watching '{safe(str(args.folder))}' for JobSpec files; {_where_jobs_run(args, farm)}", flush=True)
    else:
        output = f"'{safe(str(args.output))}'" if args.output else "a Proxy folder beside each file"
        print(
            f"Watching '{safe(str(args.folder))}' for media with intent '{safe(args.profile)}'; "
            f"proxies go to {output}; "
            f"{_where_jobs_run(args, farm)}",
            flush=True,
        )
    # A farm's jobs are seen taken once their states are mirrored here (one exchange with the broker a look).
    queue = QueueWatch(proxx.store.path, args.warn_after, proxx.home if farm else None)
    failed: list[int] = []  # the exit code of each file refused and each job that failed, for --once

    def report(event: Event) -> None:
        job = f" as job {event.job_id}" if event.job_id else ""
        if event.job_id and event.outcome == "failed" and event.failure_class:  # what ended it first, as `run` says
            job += f" ({failure_title(event.failure_class, None)})"
        why = f": {' / '.join((words.message(event.message) or '').split(chr(10)))}" if event.message else ""
        print(f"{event.outcome.upper():<7} {safe(str(event.path))}{job}{why}", flush=True)
        if event.outcome in ("failed", "refused"):
            failed.append(failed_code(event.failure_class))
        if event.job_id and event.outcome == "queued" and not args.run:
            queue.add(event.job_id)

    def warn_when_stalled() -> None:
        waiting = queue.waiting()
        if waiting and farm:
            print(
                f"WARNING {waiting} job(s) queued on the render farm for {args.warn_after:g} s and no farm worker "
                "has taken one: start `proxx farm worker` where the engines their intent needs are installed.",
                flush=True,
            )
        elif waiting:
            print(
                f"WARNING {waiting} job(s) queued for {args.warn_after:g} s and no worker has taken one: start "
                "`proxx worker` or `proxx serve`, or watch with --run.",
                flush=True,
            )

    stop = threading.Event()
    # SIGTERM (a service manager stopping the watch): queue no new file and, with --run, finish the
    # running job, as `proxx worker` does: a job cut short would be FAILED "worker lost", its clip unmade.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    with _worker_here(proxx, args.run and not farm, failed, stop):
        count = watch(watcher, args.interval, args.once, report, warn_when_stalled, stop)
        if stop.is_set() and args.run and not farm:
            print("Stopping: no new file is queued; the running job, if any, finishes first.", flush=True)
    if not args.once:
        return 0
    print(f"{count} file(s) handled" + (f", {len(failed)} FAILED or refused" if failed else ""))
    if watcher.outage.why is not None:  # the files that waited are queued by the next watch
        print(f"proxx: files were left waiting: {watcher.outage.why}", file=sys.stderr)
        return EXIT_CONFIGURATION
    # As `worker --once`: a script draining the folder learns that some failed, and how.
    return max(failed, default=0)


def _words(proxx: Proxx) -> OperatorWords:
    repository = proxx.repository
    return OperatorWords.of(repository.registry, (p.name for p in repository.user_profiles))


def _where_jobs_run(args: argparse.Namespace, farm: str | None) -> str:
    if farm:
        return "jobs go to the render farm."
    if args.run:
        return "jobs run here, one at a time."
    return "jobs wait for `proxx worker` or `proxx serve` (or watch with --run)."


@contextlib.contextmanager
def _worker_here(proxx: Proxx, run: bool, failed: list[int], stop: threading.Event) -> Iterator[None]:
    """With --run: one worker thread in this process runs queued jobs as they come, and says how each
    ended (the exit code of each that failed added to `failed`); at the end (--once) it finishes the
    queue before returning; once `stop` is set (SIGTERM), it finishes its running job only."""
    if not run:
        yield
        return
    from proxx.result import JobResult
    from proxx.worker import work

    words = _words(proxx)

    def done(result: JobResult) -> None:
        outcome = ""
        if result.failure:  # what ended it first, as `run` says it
            title = failure_title(result.failure.failure_class, result.failure.reason)
            outcome = f" ({title}): {' / '.join(words.failure(result.failure).split(chr(10)))}"
        print(f"{result.state:<9} job {result.job_id}{outcome}", flush=True)
        if result.failure is not None:
            failed.append(failed_code(result.failure.failure_class))

    def error(line: str) -> None:  # the worker's own fault (a job's ends it FAILED, through `done`)
        print(f"proxx: {line}", file=sys.stderr, flush=True)
        failed.append(EXIT_INTERNAL)

    kwargs = {"stop": stop, "on_done": done, "on_error": error}
    thread = threading.Thread(target=work, args=(proxx,), kwargs=kwargs, daemon=True)
    thread.start()
    try:
        yield
    except BaseException:  # Ctrl-C: take no new job (the engine of a running one dies with this process)
        stop.set()
        raise
    if not stop.is_set():  # --once: what is still queued runs before the watch returns
        work(proxx, once=True, on_done=done, on_error=error)
    stop.set()
    thread.join()
