"""Every path that creates and runs jobs, driven as an operator or an integrator drives it: `proxx run`,
`proxx submit` then `proxx worker`, the web API, a watch folder, the JobSpec inbox, and a batch (a
job of several clips). The render farm's path is tested with its plugin (plugins/farm/tests/test_farm_conformance.py)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import attrs
from fastapi.testclient import TestClient

from proxx import Proxx
from proxx.cli import main
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.roots import Roots
from proxx.watch.watcher import JobSpecInbox, MediaWatcher
from proxx.web.app import create_app
from proxx.web.roots import MediaRoots, parse_roots
from proxx.web.service import WebService
from proxx.worker import work

PATHS = ("run", "submit_worker", "web", "watch", "inbox", "batch")
# What a JobSpec may name as its origin in the inbox, when the intent asked for cannot be chosen: the
# label is forged onto a JobSpec a real compilation made (what a hand-edited file would do).
_FORGED_FROM = "Review H.264"


@attrs.frozen
class Outcome:
    """What one path made of a request: the jobs it created, and what it said when it refused to
    create one (class A; "" when it did not refuse)."""

    job_ids: tuple[str, ...]
    refusal: str


def _quiet(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


def create_and_run(path: str, intent: str, clip: Path, base: Path) -> Outcome:
    """Create a job of `intent` for a copy of `clip` (two copies for a batch) through `path`, inside
    `base` (sources in base/media/in, proxies in base/media/out), and run it as that path runs it."""
    media = base / "media"
    folder, out = media / "in", media / "out"
    folder.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    source = Path(shutil.copyfile(clip, folder / f"{path.upper()}_C001.mov"))
    before = {row.job_id for row in Proxx.open().store.jobs()}
    refusal = ""
    if path == "run":
        code, said = _quiet(["run", "--profile", intent, "--output", str(out), str(source)])
        refusal = said if code == 3 else ""
    elif path == "submit_worker":
        code, said = _quiet(["submit", "--profile", intent, "--output", str(out), str(source)])
        refusal = said if code == 3 else ""
        _quiet(["worker", "--once"])
    elif path == "batch":
        second = shutil.copyfile(clip, folder / "BATCH_C002.mov")
        code, said = _quiet(["run", "--profile", intent, "--output", str(out), str(source), str(second)])
        refusal = said if code == 3 else ""
    elif path == "web":
        proxx = Proxx.open()
        web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
        try:
            with TestClient(create_app(web)) as http:
                body = {"intent": intent, "sources": [f"media/in/{source.name}"], "output_folder": "media/out"}
                answer = http.post("/api/jobs", json=body)
                refusal = "" if answer.status_code == 201 else answer.json()["detail"]
            work(web.proxx, once=True)
        finally:
            web.proxx.store.close()
    elif path == "watch":
        proxx = Proxx.open()
        events = MediaWatcher(proxx, folder, intent, out, settle=0.0).poll()
        refusal = " ".join(e.message for e in events if e.outcome != "queued")
        work(proxx, once=True)
    elif path == "inbox":
        proxx = Proxx.open()
        inbox = base / "inbox"
        inbox.mkdir(exist_ok=True)
        selectable = {s.name for s in proxx.intents() if s.selectable}
        compiled = proxx.select(intent if intent in selectable else _FORGED_FROM)
        spec = create_jobspec(compiled, [source], out, utc_now(), proxx.requirements(compiled.canonical.engine))
        document = json.loads(spec.to_json())
        document["proxy_profile_origin"]["name"] = intent
        (inbox / "spec.json").write_text(json.dumps(document))
        events = JobSpecInbox(proxx, inbox, Roots([media]), settle=0.0).poll()
        refusal = " ".join(e.message for e in events if e.outcome == "failed")
        work(proxx, once=True)
    else:
        raise ValueError(path)
    created = tuple(row.job_id for row in Proxx.open().store.jobs() if row.job_id not in before)
    return Outcome(created, refusal)
