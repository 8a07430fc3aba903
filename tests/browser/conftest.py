"""The browser suite: Debian's Chromium, driven by Playwright, against a real `casefile run`.

The run's one demo store (tests/demostore.py: `casefile init --demo`, SQLite, its outbox drained
so search and PDFs are ready) is copied for each xdist worker, which starts its own server
on a free loopback port (session scope). Every test fails on a browser console error, an
uncaught page error, or a request that would leave the machine (aborted and recorded).

Screenshots of each journey's last step go to $CASEFILE_SHOTS, or a temporary folder.
CASEFILE_BROWSER_STORE=<dir> keeps the built demo store there and reuses it on the next run.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from demostore import DEMO_PASSWORD, cli_env, copy_demo_store
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright

from .steps import login

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CASEFILE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# the browser's own controls (选择文件, a date field's 年/月/日 order) in Chinese, as users see
# them; needs Debian's chromium-l10n (scripts/install-system-deps.sh), else they stay English
CHROMIUM_ENV = {"LANGUAGE": "zh_CN", "LANG": "zh_CN.UTF-8"}
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LOCAL_HOSTS = {"127.0.0.1"}
# Chromium reports any 4xx/5xx answer as a console error; a step that expects one declares it
FAILED_LOAD = re.compile(r"the server responded with a status of (\d{3})")


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """This worker's copy of the run's demo store (tests/demostore.py)."""
    return copy_demo_store(tmp_path_factory)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def _wait_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with _DIRECT.open(url + "/login", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def server(demo_store, tmp_path_factory) -> str:
    """`casefile run` on the demo store, on a free loopback port; yields its base URL."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    for _attempt in range(3):  # a port taken between probing and binding: try another
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO, env=cli_env(demo_store), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if _wait_up(base, proc):
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail(f"casefile run did not start:\n{log.read_text()}")
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=dict(os.environ) | CHROMIUM_ENV
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory) -> Path:
    """Where journeys leave their last screenshot: $CASEFILE_SHOTS, else a temporary folder."""
    configured = os.environ.get("CASEFILE_SHOTS")
    path = Path(configured) if configured else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Problems:
    """What a browser did that a test must not tolerate: console errors, page errors, and
    requests to anywhere but the server. Expected error answers are declared by the step."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.page_errors: list[str] = []
        self.outside: list[str] = []
        self._expected: list[int] = []

    @contextmanager
    def expecting(self, *statuses: int):
        """The step in this block gets one answer with each of these statuses (e.g. 422 for a
        refused form). Chromium reports it a moment later, so each allowance is used up by the
        first matching console message, whenever it arrives."""
        self._expected.extend(statuses)
        yield

    def on_console(self, msg) -> None:
        if msg.type != "error":
            return
        text, url = msg.text, (msg.location or {}).get("url", "")
        failed = FAILED_LOAD.search(text)
        if failed and int(failed.group(1)) in self._expected:
            self._expected.remove(int(failed.group(1)))
            return
        self.console.append(f"{text} ({url})")

    def check(self) -> None:
        found = []
        if self.console:
            found.append("console errors:\n  " + "\n  ".join(self.console))
        if self.page_errors:
            found.append("page errors:\n  " + "\n  ".join(self.page_errors))
        if self.outside:
            found.append("requests leaving the machine:\n  " + "\n  ".join(self.outside))
        if found:
            pytest.fail("\n".join(found), pytrace=False)


class Actor:
    """One signed-in user in their own browser context (own cookies), with one page."""

    def __init__(self, base: str, username: str, context: BrowserContext, problems: Problems):
        self.base, self.username, self.context, self.problems = base, username, context, problems
        self.page: Page = context.new_page()
        self.page.on("console", problems.on_console)
        self.page.on("pageerror", lambda exc: problems.page_errors.append(str(exc)))

    def url(self, path: str) -> str:
        return self.base + path

    def go(self, path: str):
        return self.page.goto(self.url(path))

    def expecting(self, *statuses: int):
        return self.problems.expecting(*statuses)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_call_failed = report.failed or hasattr(report, "wasxfail")
    return report


@pytest.fixture
def problems(request) -> Problems:
    found = Problems()
    yield found
    if not getattr(request.node, "browser_call_failed", False):  # else already reported
        found.check()


def _guard_network(context: BrowserContext, problems: Problems) -> None:
    def route(r):
        host = urlsplit(r.request.url).hostname
        if host in LOCAL_HOSTS or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            problems.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)


@pytest.fixture(scope="session")
def signed_in() -> dict[str, dict]:
    """Each demo user's cookies once signed in (per worker): later tests start signed in."""
    return {}


@pytest.fixture
def open_as(browser, server, problems, signed_in):
    """open_as("clerk") -> an Actor signed in as that demo user (1366 px unless viewport=...),
    on the home page, or on `start` if given. The first Actor of a user in a worker signs in
    through the login page; later ones reuse that session's cookie (one page load, not three)."""
    contexts: list[BrowserContext] = []

    def open_as(username: str | None, viewport: dict | None = None, start: str = "/") -> Actor:
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
            storage_state=signed_in.get(username or ""),
        )  # fmt: skip
        context.set_default_timeout(15_000)
        _guard_network(context, problems)
        contexts.append(context)
        actor = Actor(server, username or "", context, problems)
        if username and username not in signed_in:
            login(actor, username, DEMO_PASSWORD)
            signed_in[username] = context.storage_state()
            if start and start != "/":
                actor.go(start)
        elif start:
            actor.go(start)
        return actor

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def shot(shots_dir, request):
    """shot(actor, name): a full-page PNG of the actor's page under shots_dir; shot(actor, name,
    of=locator): only that part of the page."""

    def shot(actor: Actor, name: str | None = None, of: Locator | None = None) -> Path:
        path = shots_dir / f"{name or request.node.name}.png"
        if of is not None:
            of.screenshot(path=str(path))
        else:
            actor.page.screenshot(path=str(path), full_page=True)
        return path

    return shot
