"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never run `playwright install`: the browser is the system one at /usr/bin/chromium. The
`browser` marker (see tests/conftest.py) skips these tests when it is missing, so the fixtures
below only launch it for tests that actually run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.conftest import CHROMIUM

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, ViewportSize

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1366, "height": 900}
DEMO_PASSWORD = "gunmane-demo"


@pytest.fixture(scope="package")
def _allow_async_unsafe() -> Iterator[None]:
    """Playwright's sync API keeps an asyncio loop marked as running in the test thread for as long
    as it is started, and Django then refuses ORM calls there (creating/flushing the test database,
    the fixtures' queries). Allow them exactly while Playwright runs: set before it starts, undone
    after it stops."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def playwright_instance(_allow_async_unsafe: None) -> Iterator[Playwright]:
    """Package-scoped rather than session-scoped on purpose: a session-wide Playwright would leave an
    event loop "running" in the test thread, and Django's async-safety check switched off, for
    everything collected after tests/browser (tests/cli, io, web)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """One Chromium for all browser tests (~1 s to start)."""
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """A fresh context (no cookies) per test; relative URLs resolve against the live server."""
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", base_url=live_server.url,
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login(page: Page) -> Callable[..., None]:
    """Log in through the real login form (the demo users come from the `users` fixture)."""

    def log_in(username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/accounts/login/")  # the home page is the public front door (#13)
        page.get_by_label("ユーザー名").fill(username)
        page.get_by_label("パスワード").fill(password)
        page.get_by_role("button", name="ログイン", exact=True).click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return log_in
