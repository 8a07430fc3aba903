"""The pages fit the screen, in a real browser (Debian's Chromium through Playwright) on the demo
store: at 390 px nothing scrolls sideways and every table row is a card of labelled cells (no
1–2 character title column); at 700, 768 and 1366 px nothing scrolls sideways either; at 1366 px
the filter bars keep each label on one line, so do the headings of 卷内文件, and the names in
办理记录 do not wrap; no page asks for anything that is missing (the favicon)."""

from __future__ import annotations

import re
import threading

from playwright.sync_api import sync_playwright
from test_ui_chinese import demo  # noqa: F401 - the module-scoped demo store fixture
from werkzeug.serving import make_server

from app import create_app
from app.bootstrap import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
PHONE, LAPTOP = 390, 1366
# between a phone and a laptop: the narrowest desktop layout (641 px) up to a small tablet
TABLETS = (700, 768)
ONE_LINE = """els => els.map(e => [e.textContent, e.getBoundingClientRect().height,
  parseFloat(getComputedStyle(e).lineHeight)])"""


def _serve(store):
    server = make_server("127.0.0.1", 0, create_app({"TESTING": True}, casefile=store),
                         threaded=True)  # fmt: skip
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/")


def _first_link(page, base: str, listing: str, pattern: str) -> str:
    page.goto(base + listing)
    hrefs = page.eval_on_selector_all("table.list a", "els => els.map(a => a.getAttribute('href'))")
    return next(h for h in hrefs if re.fullmatch(pattern, h))


CELLS = """() => [...document.querySelectorAll('table.list > tbody > tr > td')]
  .filter(td => td.offsetParent !== null && td.colSpan === 1)
  .map(td => ({w: td.getBoundingClientRect().width, label: td.dataset.label || '',
               head: !!td.closest('table').tHead}))"""


def test_pages_fit_a_phone_and_a_laptop(demo):  # noqa: F811
    server, base = _serve(demo)
    missing: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
            phone = browser.new_page(viewport={"width": PHONE, "height": 800})
            phone.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
            _login(phone, base, "clerk")
            pages = ["/", "/contracts", "/documents", "/casefiles"]
            pages.append(_first_link(phone, base, "/documents", r"/documents/\d+"))
            pages.append(_first_link(phone, base, "/casefiles", r"/casefiles/\d+"))
            pages.append(pages[-2] + "/slip")
            for path in pages:
                phone.goto(base + path)
                width = phone.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE, (path, width)
                cells = phone.evaluate(CELLS)
                assert cells, path
                assert min(c["w"] for c in cells) > PHONE * 0.8, path  # one card per row
                unlabelled = [c for c in cells if c["head"] and not c["label"]]
                assert not unlabelled, path

            # no page scrolls sideways on a tablet or a laptop; on a laptop the headings of the
            # case file's table (卷内文件) stay on one line
            for width in (*TABLETS, LAPTOP):
                screen = browser.new_page(viewport={"width": width, "height": 900})
                _login(screen, base, "clerk")
                for path in (*pages, "/normative", "/matters"):
                    screen.goto(base + path)
                    scroll = screen.evaluate("document.documentElement.scrollWidth")
                    assert scroll <= width, (width, path, scroll)
                screen.goto(base + pages[5])
                heads = screen.eval_on_selector_all("table.list th", ONE_LINE)
                assert heads, pages[5]
                if width == LAPTOP:
                    for text, height, line in heads:
                        assert height < 1.6 * line + 16, (pages[5], text, height)
                screen.close()

            laptop = browser.new_page(viewport={"width": LAPTOP, "height": 900})
            laptop.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
            _login(laptop, base, "head")
            for path in ("/compliance", "/contracts"):
                laptop.goto(base + path)
                heights = laptop.eval_on_selector_all(
                    ".searchbar label, .searchbar button",
                    "els => els.map(e => [e.textContent, e.getBoundingClientRect().height,"
                    " parseFloat(getComputedStyle(e).lineHeight)])",
                )  # fmt: skip
                for text, height, line in heights:
                    assert height < 1.6 * line + 16, (path, text, height)  # one line
            laptop.goto(base + pages[4])  # a document, and from it the draft with its 办理记录
            draft = laptop.get_attribute("a[href^='/drafts/']", "href")
            laptop.goto(base + draft)
            names = laptop.eval_on_selector_all(
                "table.history td.who",
                "els => els.map(e => [e.textContent, e.getBoundingClientRect().height,"
                " parseFloat(getComputedStyle(e).lineHeight)])",
            )  # fmt: skip
            assert names
            for text, height, line in names:
                assert height < 1.6 * line + 16, (text, height)
            browser.close()
    finally:
        server.shutdown()
    assert not missing, missing
