"""What the console's browser tests share: the served app's address, the test password, headless Chromium's
launch settings, and signing in through the page as an operator would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from playwright.sync_api import Page

from api.app import create_app
from common.settings import Settings
from estatewatch.embedded import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
PASSWORD = "correct horse battery"
ROLE_USERS = {"viewer": "vera", "operator": "oscar", "admin": "ada"}


@dataclass(frozen=True)
class LiveServer:
    """The app served over HTTP, as a browser sees it."""

    url: str
    settings: Settings


@contextmanager
def serve(settings: Settings, start_timeout_s: float = 20.0) -> Iterator[LiveServer]:
    """Run the real app under uvicorn on a free port in a background thread until the block ends."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=1, lifespan="on", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:  # uvicorn flips this once the lifespan ran and the socket listens
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait until the alert stream is live."""
    page.goto(base_url + "/")
    page.fill("#login-form [name=username]", username)
    page.fill("#login-form [name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#shell:not([hidden])")
    page.wait_for_selector("#live.on")  # the alert stream is open: what happens from now on reaches the page
