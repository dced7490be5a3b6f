"""The console's face passages in real headless Chromium: an operator sees a resident's recent passages with their
confidence on the Elders view, and an elderly-not-out alert shows the last recognised passage and the unknown face
passages since. The app under uvicorn, the real database, alerts raised by the service's own rules driver.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, sync_playwright

from alerts.db_driver import Processor
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, Resident
from alerts.presence_rules import RuleConfig
from alerts.resident_records import to_record
from api.security import create_user
from common.settings import Settings
from store.db import connect
from store.events import EventRow, copy_events
from store.residents import put_resident
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, serve
from tests.console.browser import login as sign_in

ELDER = Resident("r-0902", "5-0902", building="5", floor=9, elderly=True, lives_alone=True)
RULES = RuleConfig(no_sign_enabled=False, inactivity=InactivitySettings(enabled=False))


@pytest.fixture
def chromium_page() -> Iterator[Page]:
    """A fresh Chromium page at a control-room screen size; JavaScript errors fail the test."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 900})
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
        browser.close()
    assert not errors, f"JavaScript errors in the console: {errors}"


def _access(site: str, at: datetime, person: str, direction: str, confidence: float) -> EventRow:
    data = {"person": person, "direction": direction, "method": "face", "confidence": confidence,
            "camera": f"gate-north-{direction}"}
    return (at, site, "access", "north", person, data, f"{person}:{at.isoformat()}")


def _home_for_a_day(settings: Settings, now: datetime) -> str:
    """The elder came home by face 25 h ago and has moved about since; a stranger walked out after: one alert."""
    proc = Processor(settings.site, RULES, tz=ZoneInfo(settings.timezone))
    home = now - timedelta(hours=25)
    with connect(settings.require_database_url()) as conn:
        with conn.transaction():
            create_user(conn, "oscar", PASSWORD, "operator")
            put_resident(conn, settings.site, to_record(ELDER), contacts=[], consent=True)
            copy_events(conn, [_access(settings.site, home, ELDER.resident_id, "in", 0.93),
                               _access(settings.site, home + timedelta(hours=3), "unknown", "out", 0.21)])
            proc.on_presence_event(conn, PresenceEvent(home, "access", resident=ELDER.resident_id, direction="in",
                                                       gate="north", method="face"), home)
            for h in range(1, 25, 3):
                at = home + timedelta(hours=h)
                proc.on_presence_event(conn, PresenceEvent(at, "motion", unit=ELDER.unit, sensor="kitchen-pir"), at)
        with conn.transaction():
            [alert_id] = proc.tick(conn, now)
    return alert_id


@pytest.mark.browser
def test_passages_on_the_elders_view_and_the_not_out_alert(settings: Settings, chromium_page: Page) -> None:
    page = chromium_page
    alert_id = _home_for_a_day(settings, datetime.now(UTC))
    with serve(settings) as server:
        sign_in(page, server.url, "oscar")
        page.click(f'#queue li[data-id="{alert_id}"]')
        page.wait_for_selector("#detail .not-out-passages ul")
        box = page.inner_text("#detail .not-out-passages")
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
