"""The whole operator flow in headless Chromium (Debian's, driven by Playwright through
`executable_path`; never `playwright install`) against a real `proxx serve` process on 127.0.0.1:
choose an intent and sources, submit, watch the job to COMPLETED (live updates), see a failing job's
message (a refusal offers no retry), see a class A failure create nothing; keyboard and dark mode.
Screenshots of every page go to artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from web_helpers import ARTIFACTS, write_studio_intent

SHOTS = ARTIFACTS / "screenshots"
TIMEOUT_MS = 60_000


@pytest.fixture
def server(tmp_path: Path, media: Path, layer: Path, progress_clip: Path) -> Iterator[str]:
    """`proxx serve` itself, on a free port, with one worker thread; stopped with SIGTERM."""
    # A longer clip than the API tests' so that the job is seen RUNNING with a progress bar.
    shutil.copy(progress_clip, media / "day1" / "A001_C002.mov")
    env = {**os.environ, "PROXX_HOME": str(tmp_path / "serve-home")}
    proxx = str(Path(sys.executable).with_name("proxx"))
    process = subprocess.Popen(
        [proxx, "serve", "--port", "0", "--root", f"media={media}", "--profiles", str(layer), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.match(r"proxx serve: (http://127\.0\.0\.1:\d+/)$", first.strip())
        assert match, first + (process.stdout.read() if process.poll() is not None else "")
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        assert code == 0, "proxx serve did not stop cleanly on SIGTERM"


def shot(page: Page, name: str) -> None:
    """Save a screenshot, after checking the page fits a laptop screen's width (no sideways scroll)."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name} is {width[0]} px wide in a {width[1]} px window"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def state_badge(page: Page) -> object:
    return page.locator("#live .heading-row .badge")


def choose(page: Page, url: str, intent: str, *sources: str) -> None:
    page.goto(url + "jobs/new")
    page.locator(f'input[name="intent"][value="{intent}"]').check()
    for source in sources:
        page.locator(f'input[name="sources"][value="{source}"]').check()
    page.select_option("#output_folder", "media/out")


def job_count(page: Page, url: str) -> int:
    return len(page.request.get(url + "api/jobs").json())


PHONE = {"width": 390, "height": 844}


def test_a_phone_sees_a_card_of_mixed_media_without_scrolling_sideways(browser: Browser, server: str) -> None:
    """390 px: the new job page, a folder of good and broken clips as one job, its failed page (a
    problem of one source fails the whole job before anything runs, class B: the broken clip named,
    every clip not run, no Retry) and the job list, without horizontal scrolling (`shot` checks
    it); screenshots phone-*.png."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    url = server
    page.goto(url + "jobs/new")
    shot(page, "phone-new-job")
    choose(page, url, "Review H.264", "media/day1")
    page.get_by_role("button", name="Create job").click()
    expect(page).to_have_url(re.compile(r"/jobs/job-[0-9TZ]+-[0-9a-f]+$"))
    expect(state_badge(page)).to_have_text("FAILED", timeout=TIMEOUT_MS)
    banner = page.locator(".failure")
    expect(banner).to_contain_text("broken.mov")
    expect(banner).to_contain_text("Job validation failure")
    expect(page.locator("p.outcome")).to_contain_text("0 proxies published, 3 failed: refused before any was run.")
    expect(page.get_by_role("button", name="Retry as new job")).to_have_count(0)
    assert page.locator("text=stopped at").count() == 0
    shot(page, "phone-job-failed")
    page.goto(url + "jobs")
    expect(page.locator("table.jobs tbody tr[data-job]")).to_have_count(1)
    expect(page.locator("table.jobs")).to_contain_text("0 of 3 published, 3 failed")  # refused clips count as failed
    shot(page, "phone-jobs")
    context.close()


def test_operator_flow_in_a_browser(browser: Browser, server: str, layer: Path) -> None:
    started = time.monotonic()
    context = browser.new_context(viewport={"width": 1366, "height": 820})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []  # console errors, e.g. a style or script the security policy blocked
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    url = server

    # New job: active intents selectable, the deprecated one shown apart and disabled.
    page.goto(url + "jobs/new")
    expect(page.locator('input[name="intent"][value="Legacy_ProRes_422"]')).to_be_disabled()

    # Keyboard: the skip link is the first stop; an intent is chosen with the keyboard alone.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "intent":
            break
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") is True
    page.locator("details.unavailable summary").click()
    shot(page, "new-job")

    # Choose an intent and a source, submit, watch it to COMPLETED without reloading.
    choose(page, url, "Archive ProRes", "media/day1/A001_C001.mov", "media/day1/A001_C002.mov")
    page.get_by_role("button", name="Create job").click()
    expect(page).to_have_url(re.compile(r"/jobs/job-[0-9TZ]+-[0-9a-f]+$"))
    completed_url = page.url
    try:
        expect(state_badge(page)).to_have_text(re.compile("RUNNING"), timeout=15_000)
        shot(page, "job-running")
        page.goto(url + "jobs")
        shot(page, "jobs-running")
        page.goto(completed_url)
    except AssertionError:
        pass  # the job may already be done on a fast machine: progress is still shown below
    expect(state_badge(page)).to_have_text("COMPLETED", timeout=TIMEOUT_MS)
    expect(page.locator(".clip h3")).to_have_text([re.compile("A001_C001.mov"), re.compile("A001_C002.mov")])
    expect(page.locator("table.checks")).to_have_count(2)
    expect(page.locator("table.checks").last).to_contain_text("as the intent promises")
    shot(page, "job-completed")

    # A refused job shows its message verbatim, and no Retry: a retry would only repeat the refusal.
    choose(page, url, "Review H.264", "media/day1/broken.mov")
    page.get_by_role("button", name="Create job").click()
    expect(state_badge(page)).to_have_text("FAILED", timeout=TIMEOUT_MS)
    expect(page.locator(".failure .message")).to_contain_text("broken.mov' is not")
    failed_url = page.url
    shot(page, "job-failed")
    expect(page.get_by_role("button", name="Retry as new job")).to_have_count(0)

    # Jobs: every job with state, intent, source, created time; filter by state.
    page.goto(url + "jobs")
    expect(page.locator("table.jobs tbody tr[data-job]")).to_have_count(2)
    expect(page.locator("table.jobs")).to_contain_text("Archive ProRes")
    expect(page.locator("table.jobs")).to_contain_text("A001_C001.mov +1 more")
    shot(page, "jobs")
    page.get_by_role("link", name="Failed").click()
    expect(page.locator("table.jobs tbody tr[data-job]")).to_have_count(1)
    shot(page, "jobs-failed")

    # Class A: the intent is deprecated between choosing and submitting: nothing is created.
    before = job_count(page, url)
    choose(page, url, "Studio Review", "media/day1/A001_C001.mov")
    write_studio_intent(layer, deprecated=True)
    page.get_by_role("button", name="Create job").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("No job was created")
    expect(alert).to_contain_text("Intent 'Studio Review' is deprecated and cannot be used for new jobs.")
    assert job_count(page, url) == before
    shot(page, "new-job-class-a")

    # Dark mode is readable: a dark background with light text.
    page.emulate_media(color_scheme="dark")
    page.goto(url + "jobs")
    colours = page.evaluate("[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
    assert colours == ["rgb(21, 23, 27)", "rgb(230, 232, 235)"]
    shot(page, "jobs-dark")
    page.goto(failed_url)
    shot(page, "job-failed-dark")
    context.close()
    # The class A page is answered 422 on purpose (nothing was created); Chromium logs that status.
    expected = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert [p for p in problems if p != expected] == []

    elapsed = time.monotonic() - started
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "browser.txt").write_text(f"browser flow: {elapsed:.1f} s\n", encoding="utf-8")
