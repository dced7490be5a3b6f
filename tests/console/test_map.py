"""The estate map and the camera wall in headless Chromium against the real app: the site plan draws every tower of
the plan and of the camera files, a new alert appears as a pin on its tower without a reload and opens from it,
and the wall shows a frame for a camera with frames and a placeholder (no request, no broken image) for one
without. Waits are on selectors, never sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from common.settings import Settings
from tests.console.browser import LiveServer, login, serve
from tests.estate_helpers import estate_settings, raise_littering


@pytest.fixture
def estate_server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    with serve(estate_settings(settings, tmp_path)) as server:
        yield server


def test_map_draws_towers_and_pins_a_new_alert(estate_server: LiveServer, users: dict[str, str],
                                               console_page: Page) -> None:
    page = console_page
    login(page, estate_server.url, users["viewer"])
    page.goto(estate_server.url + "/#/overview")
    page.wait_for_selector("#estate-map svg g.tower[data-tower=C]")
    states = page.eval_on_selector_all("#estate-map g.tower", "gs => gs.map(g => [g.dataset.tower, g.dataset.state])")
    assert states == [["A", "quiet"], ["B", "quiet"], ["C", "camera_offline"]]
    assert page.locator("#estate-map g.gate[data-gate=north]").count() == 1
    assert page.locator("#estate-map g.map-camera[data-camera=cam-a][data-streaming=true]").count() == 1
    assert page.locator("#estate-map g.pin").count() == 0
    alert_id = raise_littering(estate_server.settings, floor=7, column=3)
    pin = page.locator(f"#estate-map g.pin[data-alert='{alert_id}']")
    pin.wait_for(timeout=20_000)  # the map refreshes itself every 5 s while the view is open
    assert pin.get_attribute("data-priority") == "life"
    assert "floor 7, column 4 (A-702)" in (pin.locator("title").text_content() or "")
    assert page.locator("#estate-map g.tower[data-tower=A]").get_attribute("data-state") == "alerts"
    pin.click()
    page.wait_for_url(f"**/#/alerts/{alert_id}")
    page.wait_for_selector("#detail h2")


def test_camera_wall_shows_frames_and_placeholders(estate_server: LiveServer, users: dict[str, str],
                                                   console_page: Page) -> None:
    page = console_page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    login(page, estate_server.url, users["viewer"])
    page.goto(estate_server.url + "/#/cameras")
    streaming = page.locator("figure.camera[data-camera=cam-a]")
    streaming.locator("img:not([hidden])").wait_for()
    assert streaming.locator("img").evaluate("img => img.complete && img.naturalWidth") == 64
    assert streaming.get_attribute("data-health") in {"green", "amber"}  # its last frame is seconds old, not missing
    assert streaming.locator(".badge.offline").is_hidden()
    assert streaming.locator(".placeholder").is_hidden()
    silent = page.locator("figure.camera[data-camera=cam-c]")
    assert silent.get_attribute("data-health") == "grey"
    assert silent.locator(".placeholder").is_visible()
    assert silent.locator("img").is_hidden()
    assert silent.locator(".badge.offline").is_hidden()  # never sent a frame: grey, not offline
    assert "Bldg C" in (silent.text_content() or "")
    # the next refresh round asks for cam-a's frame again, and still not for a frame cam-c never sent
    with page.expect_request(lambda request: "/cameras/cam-a/latest.jpg" in request.url, timeout=10_000):
        pass
    assert not [url for url in asked if "/cameras/cam-c/latest.jpg" in url]
    assert [url for url in asked if "/cameras/cam-a/latest.jpg" in url]
