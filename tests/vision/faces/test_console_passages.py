"""The console's face passages in real headless Chromium: an operator sees a resident's recent passages with their
confidence on the Elders view, and an elderly-not-out alert shows the last recognised passage and the unknown face
passages since. The app under uvicorn, the real database, alerts raised by the service's own rules driver.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page

from alerts.db_driver import Processor
from alerts.presence import Resident
from api.security import create_user
from common.settings import Settings
from store.db import connect
from store.events import EventRow, copy_events
from tests.console.browser import PASSWORD, serve
from tests.console.browser import login as sign_in
from tests.elder_helpers import home_for_a_day

ELDER = Resident("r-0902", "5-0902", building="5", floor=9, elderly=True, lives_alone=True)


def _access(site: str, at: datetime, person: str, direction: str, confidence: float) -> EventRow:
    data = {"person": person, "direction": direction, "method": "face", "confidence": confidence,
            "camera": f"gate-north-{direction}"}
    return (at, site, "access", "north", person, data, f"{person}:{at.isoformat()}")


def _home_for_a_day(settings: Settings, proc: Processor, now: datetime) -> str:
    """The elder came home by face 25 h ago and has moved about since; a stranger walked out after: one alert."""
    home = now - timedelta(hours=25)
    with connect(settings.require_database_url()) as conn:
        with conn.transaction():
            create_user(conn, "oscar", PASSWORD, "operator")
            copy_events(conn, [_access(settings.site, home, ELDER.resident_id, "in", 0.93),
                               _access(settings.site, home + timedelta(hours=3), "unknown", "out", 0.21)])
        return home_for_a_day(conn, proc, ELDER, now, contacts=[])


@pytest.mark.browser
def test_passages_on_the_elders_view_and_the_not_out_alert(settings: Settings, console_page: Page,
                                                           not_out_processor: Processor) -> None:
    page = console_page
    alert_id = _home_for_a_day(settings, not_out_processor, datetime.now(UTC))
    with serve(settings) as server:
        sign_in(page, server.url, "oscar")
        page.click(f'#queue li[data-id="{alert_id}"]')
        # read the box in the same turn as its list is found: the detail pane may re-render (a fresh box, its
        # passages still loading) between a wait and a later read
        box = str(page.wait_for_function(
            "() => { const b = document.querySelector('#detail .not-out-passages');"
            " return b && b.querySelector('ul') ? b.innerText : null; }").json_value())
        assert "Last recognised passage: " in box
        assert "north · in · face 93%" in box
        assert "Unknown face passages since: 1" in box
        assert "north · out · face 21%" in box
        page.keyboard.press("2")  # the Elders view
        row = f'#elders tr[data-resident="{ELDER.resident_id}"]'
        page.click(f"{row} button[data-action=passages]")
        page.wait_for_selector(f"{row} .passages li")
        assert page.locator(f"{row} .passages li").count() == 1  # the unknown passage is nobody's own
        assert page.inner_text(f"{row} .passages li").endswith("north · in · face 93%")
        assert page.get_attribute(f"{row} .passages li", "data-method") == "face"
