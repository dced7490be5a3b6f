"""The camera wall's activity overlay in headless Chromium against the real app: a camera's saved map is laid over
its frame as one canvas pixel per cell (busy cells orange, still ones clear), a camera without a map says so
(in Chinese too), and the overlay goes away again (a cold map's ``warm: false`` is checked in
tests/vision/test_api_activity.py). Waits are on selectors, never sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page

from common.settings import Settings
from store.activity_maps import save_map
from store.db import connect
from tests.console.browser import LiveServer, login, serve
from tests.estate_helpers import estate_settings
from vision.activity_map import ActivityMap, ActivityParams


def _saved(settings: Settings) -> None:
    """cam-a's map: 64x36 frames (4 x 2 whole cells of 16 px, a 4 px strip below), the top-left cell moving in
    every frame for ten seconds."""
    amap = ActivityMap(ActivityParams(cell_px=16))
    amap.fit((36, 64), 1)
    fg = np.zeros((36, 64), np.uint8)
    fg[0:16, 0:16] = 255
    for i in range(201):
        amap.update(fg, i / 20.0)
    rows, cols = amap.grid
    with connect(settings.require_database_url()) as conn, conn.transaction():
        save_map(conn, settings.site, "cam-a", rows=rows, cols=cols, observed_s=amap.observed_s,
                 data=amap.to_bytes())


@pytest.fixture
def wall_server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    with serve(estate_settings(settings, tmp_path).model_copy(update={"activity_map_warmup_h": 0.001})) as server:
        _saved(server.settings)
        yield server


def test_the_activity_map_lies_over_the_frame_and_goes_away(wall_server: LiveServer, users: dict[str, str],
                                                          console_page: Page) -> None:
    page = console_page
    login(page, wall_server.url, users["viewer"])
    page.goto(wall_server.url + "/#/cameras")
    tile = page.locator("figure.camera[data-camera=cam-a]")
    tile.locator("img:not([hidden])").wait_for()
    canvas = tile.locator("canvas.activity-map")
    assert canvas.is_hidden()
    button = tile.locator("button.activity-toggle")
    assert button.text_content() == "Activity map"
    button.click()
    tile.locator("canvas.activity-map:not([hidden])").wait_for()
    assert button.get_attribute("aria-pressed") == "true"
    assert canvas.evaluate("c => [c.width, c.height]") == [4, 2]
    pixels = canvas.evaluate("c => Array.from(c.getContext('2d').getImageData(0, 0, 4, 2).data)")
    top_left, still = pixels[0:4], pixels[4:8]
    assert top_left[:3] == [255, 140, 0]  # busy: orange, nearly opaque
    assert top_left[3] > 200
    assert still[3] == 0  # a cell that never moved is left clear
    assert tile.locator(".activity-note").text_content() == "0.0 h watched · 1 busy cells"
    # both boxes from one layout (two round trips may straddle a reflow of the wall as it refreshes)
    offset = tile.evaluate("""t => {
        const c = t.querySelector('canvas.activity-map').getBoundingClientRect();
        const i = t.querySelector('img').getBoundingClientRect();
        return [c.x - i.x, c.y - i.y, c.width - i.width];
    }""")
    assert [round(v) for v in offset] == [0, 0, 0]
    button.click()
    assert canvas.is_hidden()
    assert button.get_attribute("aria-pressed") == "false"
    # cam-c has no map: the tile says so in the console's language
    page.select_option("#language", "zh-CN")
    other = page.locator("figure.camera[data-camera=cam-c] button.activity-toggle")
    other.click()
    note = page.locator("figure.camera[data-camera=cam-c] .activity-note")
    note.filter(has_text="尚未保存活动热区").wait_for()

