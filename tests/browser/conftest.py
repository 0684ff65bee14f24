"""Playwright driving Debian's Chromium (Playwright's own browser download is not used)."""

import os
import threading
import time
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


class InFlight:
    """Requests the live server is still answering. Closing the browser does not stop them,
    and one still reading while the test's tables are emptied deadlocks with the TRUNCATE; so
    the test waits for them to finish first."""

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()

    def started(self, **kwargs):
        with self.changed:
            self.count += 1

    def finished(self, **kwargs):
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.count > 0 and (left := deadline - time.monotonic()) > 0:
                self.changed.wait(left)


@pytest.fixture
def live_requests(live_server):
    """The live server, and after the test (once the fixtures that use this one have closed
    their browsers) a wait for the requests it is still answering."""
    in_flight = InFlight()
    request_started.connect(in_flight.started, weak=False)
    request_finished.connect(in_flight.finished, weak=False)
    yield live_server
    in_flight.wait_idle()
    request_started.disconnect(in_flight.started)
    request_finished.disconnect(in_flight.finished)


@pytest.fixture
def page(browser, live_requests):
    """A fresh browser context per test; fails the test on any console error (CSP included)."""
    context = browser.new_context(base_url=live_requests.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


def sign_in(page, email, password="correct horse battery staple"):
    page.goto("/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
