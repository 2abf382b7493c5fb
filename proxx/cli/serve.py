"""`proxx serve`: the operator's web page, the HTTP API and worker threads, in one command."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from proxx.cli.exits import whole
from proxx.errors import ConfigurationError

#: The commands `register` adds.
COMMANDS = ("serve",)


def register(sub: Any, repository_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "serve",
        help="the web page and HTTP API, with worker threads",
        description="Serve the operator's web page and the HTTP API (OpenAPI at /openapi.json) and run "
        "queued jobs in worker threads. Binds 127.0.0.1 by default; any other address needs a token, "
        "generated and printed at start unless --token or PROXX_WEB_TOKEN sets it.",
    )
    repository_options(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=whole(0, 65535), default=8421, help="port (default 8421; 0 picks a free one)")
    p.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="a media root operators may read sources from and write proxies into (repeatable; "
        "default: PROXX_MEDIA_ROOTS, folders separated like PATH)",
    )
    p.add_argument("--token", default=os.environ.get("PROXX_WEB_TOKEN"), help="access token (env PROXX_WEB_TOKEN)")
    p.add_argument(
        "--workers",
        type=whole(0, 1024),
        default=1,
        metavar="N",
        help="jobs run at once by worker threads in this process (default 1; 0: run `proxx worker` beside it)",
    )
    p.add_argument(
        "--max-body", type=whole(1, 1 << 30), default=64 * 1024, metavar="BYTES", help="largest request body accepted"
    )
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from proxx.web.roots import parse_roots
        from proxx.web.server import serve
    except ImportError as error:
        raise ConfigurationError(
            "web_not_installed",
            f"`proxx serve` needs the web extra (pip install 'proxx[web]'): {error}",
        ) from None
    from proxx.app import Proxx

    specs = args.root or [p for p in os.environ.get("PROXX_MEDIA_ROOTS", "").split(os.pathsep) if p]
    try:
        roots = parse_roots(specs)
    except ValueError as error:
        raise ConfigurationError("media_roots", f"{error}.") from None
    proxx = Proxx.open(profiles=args.profiles, bundled=args.bundled)
    serve(
        proxx,
        roots,
        host=args.host,
        port=args.port,
        token=args.token,
        worker_threads=args.workers,
        profiles=args.profiles,
        bundled=args.bundled,
        max_body=args.max_body,
        say=lambda line: print(line, flush=True),
    )
    return 0
