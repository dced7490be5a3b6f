"""Fixtures of the console's tests: the real app under uvicorn (real PostgreSQL and Mosquitto from the suite's
conftest), users of each role, and headless Debian Chromium driven by Playwright. Shared helpers live in
``tests.console.browser``; tests import from there, never from this file.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from api.security import create_user
from common.settings import Settings
from store.db import connect
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, ROLE_USERS, LiveServer, serve


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The real app served over HTTP in a background thread, as a browser sees it."""
    with serve(settings) as server:
        yield server


@pytest.fixture
def users(settings: Settings) -> dict[str, str]:
    """One console user per role, all with ``PASSWORD``; maps role to user name."""
    with connect(settings.require_database_url()) as conn:
        for role, name in ROLE_USERS.items():
            create_user(conn, name, PASSWORD, role)
        conn.commit()
    return dict(ROLE_USERS)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API holds an event loop on the main thread while it lives,
    which would break later tests that call ``asyncio.run``.
    """
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at a control-room screen size."""
    context = chromium.new_context(viewport={"width": 1600, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"
