"""What the console's browser tests share: the served app's address, the test password, headless Chromium's
launch settings, and signing in through the page as an operator would. The app is served by the suite's one
live-server helper (``tests/api/live_server.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import Page

from common.settings import Settings
from tests.api.live_server import live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
PASSWORD = "correct horse battery"
ROLE_USERS = {"viewer": "vera", "operator": "oscar", "admin": "ada"}
DeviceAlert = Callable[[str, str, str], str]
"""The ``device_alert`` fixture: raise ``(type, device, building)`` on the test's site, get the alert's id."""


@dataclass(frozen=True)
class LiveServer:
    """The app served over HTTP, as a browser sees it."""

    url: str
    settings: Settings


@contextmanager
def serve(settings: Settings) -> Iterator[LiveServer]:
    """Run the real app under uvicorn until the block ends (``tests.api.live_server``, the one server helper)."""
    with live_server(settings) as url:
        yield LiveServer(url, settings)


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait until the alert stream is live."""
    page.goto(base_url + "/")
    page.fill("#login-form [name=username]", username)
    page.fill("#login-form [name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#shell:not([hidden])")
    page.wait_for_selector("#live.on")  # the alert stream is open: what happens from now on reaches the page
