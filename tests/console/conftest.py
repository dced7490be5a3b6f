"""The console's harness: the real app under uvicorn on a free port (real PostgreSQL and Mosquitto from the suite's
conftest), users of each role, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from api.security import create_user
from estatewatch.config import Settings
from estatewatch.embedded import free_port
from store.db import connect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The real app served over HTTP in a background thread, as a browser sees it."""
    from api.app import create_app  # imports every router: only the tests that serve pay for it

    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=1, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # uvicorn flips this once the lifespan ran and the socket listens
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the console server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", settings)
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def users(settings: Settings) -> dict[str, str]:
    """One console user per role, all with ``PASSWORD``; maps role to user name."""
    names = {"viewer": "vera", "operator": "oscar", "admin": "ada"}
    with connect(settings.require_database_url()) as conn:
        for role, name in names.items():
            create_user(conn, name, PASSWORD, role)
        conn.commit()
    return names


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API holds an event loop on the main thread while it lives,
    which would break later tests that call ``asyncio.run``."""
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


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/")
    page.fill("#login-form [name=username]", username)
    page.fill("#login-form [name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#shell:not([hidden])")
    page.wait_for_selector("#live.on")  # the alert stream is open: what happens from now on reaches the page
