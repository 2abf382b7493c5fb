"""Proxy clips from Python, as a studio's own tool would: choose an intent, create the job, run it
here with a progress line, then read each clip's outcome and facts. Uses only `proxx`, the
integrators' module.

    python docs/examples/integrate.py --intent "Review H.264" --output /proxies /cards/A001/C0001.mov
"""

from __future__ import annotations

import argparse
import sys

from proxx import ClipState, ConfigurationError, JobState, NothingMissing, PreJobError, Progress, Proxx


def show(progress: Progress) -> None:
    """`run_job`'s progress callback: at most four times a second, and at the end of each clip."""
    eta = f", {progress.eta_seconds:.0f} s left" if progress.eta_seconds is not None else ""
    print(f"{progress.fraction:6.1%}  clip {progress.clip_index + 1}/{progress.clips} {progress.clip_name}{eta}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", help="media files or folders (camera cards)")
    parser.add_argument("--output", required=True, help="the folder the proxies go to")
    parser.add_argument("--intent", default="HD Editorial LT", help="the intent's name")
    args = parser.parse_args(argv)

    try:
        proxx = Proxx.open()  # the installed plugins and the layered profile repository
    except ConfigurationError as error:  # a broken plugin, a PROXX_HOME that cannot be used
        print(error.message, file=sys.stderr)
        return 6
    except PreJobError as error:  # a proxx.toml or profile repository that cannot be used
        print(error.message, file=sys.stderr)
        return 3
    choosable = [intent.name for intent in proxx.intents() if intent.selectable]
    if args.intent not in choosable:
        print(f"No intent '{args.intent}'; choose one of: {', '.join(choosable)}", file=sys.stderr)
        return 2
    try:
        spec = proxx.create_job(args.intent, args.sources, args.output)  # QUEUED; nothing runs yet
    except NothingMissing as error:  # every proxy is already there, verified: nothing to do
        print(error.message)
        return 0
    except PreJobError as error:  # class A: the intent does not compile, or no media: nothing created
        print(error.message, file=sys.stderr)
        return 3
    print(f"job {spec.job_id}: {len(spec.clips)} clip(s)")

    result = proxx.run_job(spec.job_id, on_progress=show)  # the job id, not the JobSpec
    if result is None:  # a `proxx worker` claimed it first: it runs there; follow it with proxx.job()
        print(f"job {spec.job_id} runs in another worker: {proxx.job(spec.job_id).state}")
        return 0
    for clip in result.clips:
        if clip.state == ClipState.COMPLETED and clip.facts is not None:
            facts = clip.facts
            size = f"{facts.display_width}x{facts.display_height}"
            print(f"{clip.output}  {facts.proxy_timecode}  {facts.frame_rate} fps  {facts.frame_count} frames  {size}")
        elif clip.failure is not None:
            print(f"{clip.source}: {clip.failure.message}", file=sys.stderr)
    if result.state == JobState.COMPLETED:
        return 0
    assert result.failure is not None
    print(f"job {spec.job_id} failed: {result.failure.message}", file=sys.stderr)
    if result.failure.failure_class == "C":  # execution: worth another go for the clips left
        new, done = proxx.retry(spec.job_id)  # a new QUEUED job; the original stays FAILED
        print(f"retry: job {new.job_id} for {len(new.clips)} clip(s); {done} already published", file=sys.stderr)
    return 4 if result.failure.failure_class == "B" else 5


if __name__ == "__main__":
    sys.exit(main())
