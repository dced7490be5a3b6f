"""``/docs`` works on an estate network without internet: with every request to a non-loopback host blocked,
Swagger UI renders the API from files the app serves itself, and the page asked for nothing outside.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from tests.console.browser import LiveServer

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.mark.browser
def test_docs_render_with_the_outside_blocked(live_server: LiveServer, console_page: Page) -> None:
    page = console_page
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_loopback)
    page.goto(live_server.url + "/docs")
    page.wait_for_selector(".swagger-ui .info h1.title:has-text('EstateWatch')", timeout=30_000)  # a 1.5 MB script
    page.wait_for_selector(".swagger-ui .opblock-tag[data-tag=alerts]")
    page.wait_for_selector(".swagger-ui .opblock-summary-path[data-path='/api/v1/alerts/silences']")
    assert not blocked, f"/docs asked for outside hosts: {blocked}"
    licence = page.request.get(live_server.url + "/docs/assets/LICENSE")
    assert licence.ok
    assert "Apache License" in licence.text()
