"""`proxx farm worker`: a Celery worker for the render farm (see `proxx_farm`), a subcommand this
plugin adds through the `proxx_subcommands` hook."""

from __future__ import annotations

import argparse
import os

from proxx.plugin import Command, ConfigurationError


def configure(farm: argparse.ArgumentParser) -> None:
    commands = farm.add_subparsers(dest="farm_command", required=True)
    p = commands.add_parser("worker", help="run farm jobs for the engines installed here")
    p.add_argument(
        "--broker", metavar="URL", help="Redis broker (default PROXX_FARM_BROKER or redis://127.0.0.1:6379/0)"
    )
    p.add_argument(
        "--engines",
        metavar="LIST",
        help="engines whose jobs this worker takes, comma-separated (default: every engine installed and "
        "available here)",
    )
    p.add_argument("--concurrency", type=_concurrency, default=1, metavar="N", help="jobs run at once (default 1)")
    p.add_argument(
        "--map-path",
        action="append",
        default=[],
        metavar="FROM=TO",
        help="run paths under FROM (as JobSpecs name them) from TO on this host (repeatable)",
    )
    p.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder this worker's jobs may read and write, after path mapping (repeatable; default "
        "PROXX_FARM_ROOTS)",
    )
    p.add_argument("--name", metavar="NAME", help="this worker's name in job records (default: the host name)")
    p.set_defaults(farm_handler=cmd_farm_worker)


def run(args: argparse.Namespace) -> int:
    handler = args.farm_handler
    assert callable(handler)
    code = handler(args)
    assert isinstance(code, int)
    return code


COMMAND = Command("farm", "the render farm (Celery workers on a Redis broker)", configure, run)


def cmd_farm_worker(args: argparse.Namespace) -> int:
    from proxx.pluginmanager import plugin_manager
    from proxx_farm.paths import PathRule
    from proxx_farm.signing import farm_key

    installed = plugin_manager().engines()
    # Only engines that can run here now: a machine where an engine's application is not running (or
    # not licensed) must not take its jobs off the queue only to fail them.
    usable = {name for name, engine in installed.items() if engine.availability().available}
    wanted = sorted(usable) if args.engines is None else [e.strip() for e in args.engines.split(",") if e.strip()]
    missing = [e for e in wanted if e not in usable]
    if not wanted or missing:
        raise ConfigurationError(
            "engine_not_installed",
            f"This worker cannot take {', '.join(missing) or 'no'} jobs: engines installed and available "
            f"here are {', '.join(sorted(usable)) or 'none'}.",
            {"engines": wanted},
        )
    for rule in args.map_path:
        PathRule.parse(rule)  # a typo fails here, not on the first job
    broker = args.broker or os.environ.get("PROXX_FARM_BROKER")  # None: the default, on loopback
    if broker:
        farm_key(broker)  # a broker elsewhere needs the farm's key: refused before anything starts
    if args.root:
        os.environ["PROXX_FARM_ROOTS"] = os.pathsep.join(args.root)
    # The Celery app and the task read their configuration from the environment, so that prefork
    # children and `celery -A proxx_farm.app worker` see the same.
    if args.broker:
        os.environ["PROXX_FARM_BROKER"] = args.broker
    os.environ["PROXX_FARM_MAP_PATHS"] = "\n".join(args.map_path)  # one rule a line: M:\ has a colon
    if args.name:
        os.environ["PROXX_FARM_WORKER_NAME"] = args.name
    from proxx_farm.app import app, queue_for

    concurrency = max(1, args.concurrency)
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queue_for(e) for e in wanted),
            "--concurrency",
            str(concurrency),
            "--pool",
            "solo" if concurrency == 1 else "prefork",
            "--hostname",
            f"proxx-{args.name or 'worker'}-{os.getpid()}@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    return 0


def _concurrency(text: str) -> int:
    """`--concurrency`: jobs at once, from 1 to 1024 (a usage error otherwise, never a worker of none)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"{value} is not from 1 to 1024")
    return value
