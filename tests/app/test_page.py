"""The try-it page at ``GET /`` in a real browser: Debian's chromium driven by Playwright, against a
real uvicorn server on 127.0.0.1 serving the tiny model.

Needs ``chromium`` (Debian's; ``playwright install`` cannot download here) and axe-core in
``build/axe`` (``make browser-deps`` installs both; ``make test`` runs it first). Without them the
browser tests are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "test-output"
KEY = "s3cret-key"
MAX_TEXT = 200
EXAMPLE = "leave Beijing on November 2nd"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (make browser-deps)"
    if not AXE.exists():
        return f"axe-core is not at {AXE.relative_to(ROOT)} (make browser-deps)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


if (why := _missing()) is not None:
    if os.environ.get("CI"):
        raise RuntimeError(f"the browser tests cannot run: {why}")
    pytest.skip(why, allow_module_level=True)

from playwright.sync_api import Browser, Page, Route, expect, sync_playwright  # noqa: E402


class Server:
    """A uvicorn server in a thread, on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings) -> None:
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, "the server to start")
        [sock] = self.server.servers[0].sockets
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class Records(logging.Handler):
    """Every log record of the process, formatted, while installed."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def records() -> Iterator[Records]:
    handler = Records()
    loggers = [logging.getLogger(), logging.getLogger("slot_tagger.access")]
    loggers += [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    access = logging.getLogger("slot_tagger.access")
    level = access.level
    access.setLevel(logging.INFO)  # the access log is on, as in production
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
    access.setLevel(level)


@pytest.fixture(scope="module")
def open_server(tiny_model_dir: Path, records: Records) -> Iterator[str]:
    server = Server(Settings(model_dir=tiny_model_dir, max_text_chars=MAX_TEXT, max_batch_size=4))
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def key_server(tiny_model_dir: Path) -> Iterator[str]:
    server = Server(Settings(model_dir=tiny_model_dir, api_key=KEY, json_logs=False))
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(5000)
    yield page
    context.close()


def tag(page: Page, text: str, reference: str = "2026-11-23") -> None:
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_label("Reference date").fill(reference)
    page.get_by_role("button", name="Tag").click()


def test_the_example_shows_both_spans_with_their_values(open_server: str, page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(open_server)
    tag(page, EXAMPLE)
    departure = page.locator("#output mark.label-departure")
    expect(departure).to_have_text("Beijingdeparture")
    expect(page.locator("#output mark.label-date")).to_have_text("November 2nddate")
    rows = page.locator("#output tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Beijing, CN (PEK")
    expect(rows.nth(1)).to_contain_text("2027-11-02")
    expect(rows.nth(0).locator("td.num")).to_have_text(re.compile(r"^\d{1,3}%$"))
    expect(page.locator("#status")).to_contain_text("1 text tagged, 2 spans found")
    # The raw JSON, one click away: the answer /tag gave.
    expect(page.locator("#json")).to_be_hidden()
    page.get_by_text("Raw JSON").click()
    answer = json.loads(page.locator("#json").inner_text())
    assert [(s["label"], s["text"]) for s in answer["spans"]] == [
        ("departure", "Beijing"),
        ("date", "November 2nd"),
    ]
    # Offline: everything the page loaded came from the server itself.
    assert requested and all(url.startswith(open_server) for url in requested), requested
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "page.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_batch_of_three_lines(open_server: str, page: Page) -> None:
    page.goto(open_server)
    page.get_by_label("Batch: one text a line").check()
    expect(page.get_by_label("Earlier turns", exact=False)).to_be_hidden()
    lines = [EXAMPLE, "arrive Boston on Monday", "from Miami to Atlanta"]
    page.get_by_label("Texts, one a line").fill("\n".join(lines) + "\n\n")
    page.get_by_role("button", name="Tag").click()
    items = page.locator("#output .item")
    expect(items).to_have_count(3)
    expect(items.nth(0).locator("mark.label-departure")).to_contain_text("Beijing")
    expect(items.nth(1).locator("mark.label-destination")).to_contain_text("Boston")
    expect(items.nth(1).locator("mark.label-date")).to_contain_text("Monday")
    expect(items.nth(2).locator("mark.label-departure")).to_contain_text("Miami")
    expect(items.nth(2).locator("mark.label-destination")).to_contain_text("Atlanta")
    expect(page.locator("#status")).to_contain_text("3 texts tagged")


def test_an_over_long_text_shows_the_limit(open_server: str, page: Page) -> None:
    page.goto(open_server)
    tag(page, "a" * (MAX_TEXT + 1))
    expect(page.get_by_role("alert")).to_have_text(
        f"Too long for this service: text has {MAX_TEXT + 1} characters; the limit is "
        f"{MAX_TEXT}. Shorten it and try again."
    )
    expect(page.locator("#results")).to_be_hidden()


def test_busy_and_unreachable_services_are_said_in_words(open_server: str, page: Page) -> None:
    page.goto(open_server)

    def busy(route: Route) -> None:
        route.fulfill(
            status=503,
            headers={"retry-after": "1", "content-type": "application/json"},
            body=json.dumps({"detail": "the service is busy; retry shortly"}),
        )

    page.route("**/tag", busy)
    tag(page, EXAMPLE)
    expect(page.get_by_role("alert")).to_have_text(
        "The service is busy right now. Try again in 1 second."
    )
    page.unroute("**/tag")
    page.route("**/tag", lambda route: route.abort("connectionrefused"))
    tag(page, EXAMPLE)
    expect(page.get_by_role("alert")).to_contain_text("Could not reach the service")
    page.unroute("**/tag")
    tag(page, EXAMPLE)  # back up: the error goes, the answer shows
    expect(page.get_by_role("alert")).to_have_text("")
    expect(page.locator("#output mark")).to_have_count(2)


def test_the_api_key_is_asked_for_and_kept_in_the_session_only(key_server: str, page: Page) -> None:
    assert httpx.get(f"{key_server}/").status_code == 200  # the page needs no key
    assert httpx.get(f"{key_server}/page.js").status_code == 200
    assert httpx.post(f"{key_server}/tag", json={"text": EXAMPLE}).status_code == 401
    page.goto(key_server)
    key = page.get_by_label("Key", exact=True)
    expect(key).to_be_visible()
    tag(page, EXAMPLE)
    expect(page.get_by_role("alert")).to_contain_text("needs an API key")
    expect(key).to_be_focused()
    key.fill("wrong")
    page.get_by_role("button", name="Tag").click()
    expect(page.get_by_role("alert")).to_contain_text("The API key is missing or wrong")
    assert page.evaluate("sessionStorage.getItem('slot-tagger-api-key')") is None
    key.fill(KEY)
    page.get_by_role("button", name="Tag").click()
    expect(page.locator("#output mark")).to_have_count(2)
    assert page.evaluate("sessionStorage.getItem('slot-tagger-api-key')") == KEY
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    page.reload()  # the same tab keeps it
    expect(page.get_by_label("Key", exact=True)).to_have_value(KEY)
    page.get_by_role("button", name="Forget key").click()
    assert page.evaluate("sessionStorage.getItem('slot-tagger-api-key')") is None
    fresh = page.context.new_page()  # another tab does not have it
    fresh.goto(key_server)
    expect(fresh.get_by_label("Key", exact=True)).to_have_value("")


def test_keyboard_alone(open_server: str, page: Page) -> None:
    page.goto(open_server)
    seen = []
    for _ in range(6):  # the text box within a few Tab presses, each stop visibly focused
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(() => { const e = document.activeElement; return"
            " [e.id || e.getAttribute('href') || e.name, getComputedStyle(e).outlineStyle]; })()"
        )
        seen.append(focused[0])
        assert focused[1] != "none", f"{focused[0]} has no visible focus"
        if focused[0] == "text":
            break
    assert seen[-1] == "text", seen
    page.keyboard.press("Control+a")
    page.keyboard.type(EXAMPLE)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#output mark")).to_have_count(2)
    # On to the raw JSON by Tab alone, and open it with Enter.
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    page.keyboard.press("Enter")
    expect(page.locator("#json")).to_be_visible()
    # The mode switch too: arrow keys move between the radios.
    page.get_by_label("One text", exact=True).focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Batch: one text a line")).to_be_checked()


def test_usable_on_a_phone(open_server: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(open_server)
    tag(page, EXAMPLE)
    expect(page.locator("#output mark")).to_have_count(2)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    box = page.get_by_label("Text", exact=True).bounding_box()
    assert box is not None and box["width"] > 300
    context.close()


def test_no_serious_accessibility_violations(
    open_server: str, key_server: str, browser: Browser
) -> None:
    context = browser.new_context(bypass_csp=True)  # the page's CSP refuses injected scripts
    page = context.new_page()
    page.set_default_timeout(5000)
    for url in (open_server, key_server):
        page.goto(url)
        if url == key_server:
            page.get_by_label("Key", exact=True).fill(KEY)
        tag(page, EXAMPLE)
        expect(page.locator("#output mark")).to_have_count(2)
        page.get_by_text("Raw JSON").click()
        page.add_script_tag(path=AXE)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], url
        ran = {rule["id"] for rule in result["passes"]}
        assert {"color-contrast", "label", "landmark-one-main"} <= ran, url  # the rules did run
    context.close()


def test_the_text_typed_is_not_logged(open_server: str, page: Page, records: Records) -> None:
    marker = "leave Zzyzxville on November 2nd"
    page.goto(open_server)
    tag(page, marker)
    expect(page.locator("#status")).to_contain_text("1 text tagged")
    assert records.lines, "nothing was logged at all: the check below would prove nothing"
    assert not [line for line in records.lines if "Zzyzx" in line]
