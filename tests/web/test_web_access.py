"""The page with a keyboard, a screen reader's eyes and a zoomed or narrow screen, in headless
Chromium against a real `proxx serve`: axe-core (vendored by `scripts/vendor-axe.sh`) finds no WCAG
2.1 AA violation on the pages; a job is created and cancelled with the keyboard alone while another
job runs, focus and an opened fold surviving the live updates; the polite live region announces
progress and a cancel as a cancel; the source tree is nested and foldable with each name's folder for
assistive technology; a refused form takes focus to its errors and marks its fields; the focus ring
has 3:1 contrast; no sideways scrolling at 390 px with 120-character names, nor at 400 % zoom; and a
new output sub-folder is made from the form."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from test_web_browser import TIMEOUT_MS, server  # noqa: F401  (the fixture)

from tests.long_clip import make_long_clip

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LONG = "A" * 56 + "_very_long_camera_file_name_from_a_card_that_never_ends_" + "Z" * 4 + ".mov"  # 120 characters


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # axe is injected as a script of the page: the server's content security policy is bypassed for it.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


def axe_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))",
        WCAG_21_AA,
    )
    return list(found)


def no_sideways_scroll(page: Page, what: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert width[0] <= width[1], f"{what} is {width[0]} px wide in a {width[1]} px window: {wide}"


def tab_to(page: Page, test: str, limit: int = 80) -> None:
    """Press Tab until the focused element passes `test` (a JavaScript expression on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => Boolean({test}))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached {test}")


def contrast(page: Page, foreground: str, background: str) -> float:
    return float(
        page.evaluate(
            """([a, b]) => {
              const lum = c => { const [r, g, bl] = c.match(/\\d+/g).slice(0, 3).map(v => {
                v = v / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * r + 0.7152 * g + 0.0722 * bl; };
              const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
              return (x + 0.05) / (y + 0.05);
            }""",
            [foreground, background],
        )
    )


def test_no_wcag_violation_and_a_keyboard_creates_and_cancels_a_job(page: Page, server: str, media: Path) -> None:  # noqa: F811
    make_long_clip(media / "day1" / "B001_C001.mov", size="1280x720", frames=900)  # long enough to be cancelled
    url = server

    # The new job page: no violation; the tree is nested, foldable, each name with its folder.
    page.goto(url + "jobs/new")
    assert axe_violations(page) == []
    assert page.locator("ul.tree details ul li.file").count() >= 2
    label = page.locator('input[value="media/day1/B001_C001.mov"]').locator("xpath=..")
    expect(label).to_contain_text("in media/day1")

    # The focus ring is at least 3:1 against the page in light mode.
    page.locator('input[name="intent"]').first.focus()
    ring, ground = page.evaluate(
        "[getComputedStyle(document.activeElement, ':focus-visible').outlineColor || "
        "getComputedStyle(document.activeElement).outlineColor, getComputedStyle(document.body).backgroundColor]"
    )
    assert contrast(page, ring, ground) >= 3, (ring, ground)

    # A refused form takes focus to its errors and marks the field.
    page.get_by_role("button", name="Create job").evaluate("b => b.form.noValidate = true")
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#form-errors")).to_be_focused()
    assert page.locator('input[name="intent"][aria-invalid="true"]').count() >= 1
    assert axe_violations(page) == []

    # Keyboard alone: an intent, a source, the output folder, Create job.
    page.goto(url + "jobs/new")
    tab_to(page, "el.name === 'intent' && el.value === 'Archive ProRes'", limit=20)
    page.keyboard.press("Space")
    for _ in range(10):  # radio buttons move with the arrow keys
        if page.evaluate("document.activeElement.value") == "Archive ProRes":
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    tab_to(page, "el.value === 'media/day1/B001_C001.mov'")
    page.keyboard.press("Space")
    tab_to(page, "el.id === 'output_folder'")
    for _ in range(5):
        if page.evaluate("document.activeElement.value") == "media/out":
            break
        page.keyboard.press("ArrowDown")
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Create job')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/jobs/job-[0-9TZ]+-[0-9a-f]+$"))
    expect(page.locator("#live .heading-row .badge")).to_have_text("RUNNING", timeout=TIMEOUT_MS)
    assert axe_violations(page) == []
    assert page.locator("#announce[aria-live='polite']").count() == 1

    # Live updates change values in place: an opened fold and the focus survive them.
    folded = page.evaluate("document.getElementById('log').open")  # open while the job runs
    page.locator("details#log summary").click()  # the operator folds it
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Cancel'")
    page.wait_for_timeout(2500)  # two refreshes at least
    assert page.evaluate("document.activeElement.textContent.trim()") == "Cancel"
    assert page.evaluate("document.getElementById('log').open") is not folded
    expect(page.locator("#announce")).to_contain_text("Running")
    page.keyboard.press("Enter")
    expect(page.locator("#live .heading-row .badge")).to_have_text("FAILED", timeout=TIMEOUT_MS)
    expect(page.locator(".failure h2")).to_have_text("Cancelled by the operator")
    assert page.locator("#live").get_attribute("data-announce").startswith("Cancelled by the operator")
    expect(page.get_by_role("button", name="Retry as new job")).to_be_visible()  # a cancel may be retried
    assert axe_violations(page) == []
    page.goto(url + "jobs")
    assert axe_violations(page) == []


def test_narrow_and_zoomed_screens_and_a_new_output_folder(browser: Browser, server: str, media: Path) -> None:  # noqa: F811
    assert len(LONG) == 120
    long_folder = media / ("F" * 110 + "_folder")
    long_folder.mkdir()
    (media / "day1" / LONG).write_bytes((media / "day1" / "A001_C001.mov").read_bytes())
    url = server
    # 390 px (a phone) and 320 px (a 1280 px window at 400 % zoom): nothing is cut or scrolls sideways.
    for width, height in ((390, 844), (320, 256)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url + "jobs/new")
        no_sideways_scroll(page, f"new job at {width} px")
        if width == 390:
            page.locator('input[name="intent"][value="Review H.264"]').check()
            page.locator(f'input[name="sources"][value="media/day1/{LONG}"]').check()
            page.select_option("#output_folder", "media/out")
            page.fill("#new_folder", "Day 1 proxies")
            page.get_by_role("button", name="Create job").click()
            expect(page).to_have_url(re.compile(r"/jobs/job-[0-9TZ]+-[0-9a-f]+$"))
            expect(page.locator("#live .heading-row .badge")).to_have_text("COMPLETED", timeout=TIMEOUT_MS)
            job_url = page.url
            assert (media / "out" / "Day 1 proxies" / LONG.replace(".mov", ".mp4")).is_file()
        page.goto(job_url)
        no_sideways_scroll(page, f"job page at {width} px")
        page.goto(url + "jobs")
        no_sideways_scroll(page, f"jobs at {width} px")
        context.close()


def test_a_bad_new_folder_name_is_refused_and_marked(browser: Browser, server: str, media: Path) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server + "jobs/new")
    page.locator('input[name="intent"][value="Review H.264"]').check()
    page.locator('input[name="sources"][value="media/day1/A001_C001.mov"]').check()
    page.select_option("#output_folder", "media/out")
    page.fill("#new_folder", "../escape")
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#form-errors")).to_be_focused()
    expect(page.locator("#new_folder")).to_have_attribute("aria-invalid", "true")
    assert not (media / "escape").exists() and json.loads(page.request.get(server + "api/jobs").text()) == []
    context.close()
