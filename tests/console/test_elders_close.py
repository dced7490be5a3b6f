"""A resident who goes out closes their open ``elderly_not_out`` alert, live in the console: the rules run by the
service's own database driver, the operator's detail pane shows who to phone first and then the alert resolved by
the system with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page

from alerts.db_driver import Processor
from alerts.presence import PresenceEvent, Resident
from store.db import connect
from tests.console.browser import LiveServer, login
from tests.elder_helpers import home_for_a_day

MOTHER = Resident("r-0801", "5-0801", building="5", floor=8, elderly=True, lives_alone=True)
CONTACTS = [{"role": "daughter", "name": "王丽", "phone": "+86 138 0013 8000"},
            {"role": "grid worker", "name": "张伟", "phone": "+86 139 1234 5678"}]


@pytest.mark.browser
def test_going_out_closes_the_open_elderly_alert(live_server: LiveServer, users: dict[str, str],
                                                 console_page: Page, not_out_processor: Processor) -> None:
    page, settings, proc = console_page, live_server.settings, not_out_processor
    with connect(settings.require_database_url()) as conn:
        alert_id = home_for_a_day(conn, proc, MOTHER, datetime.now(UTC), CONTACTS)
    login(page, live_server.url, users["operator"])
    row = f'#queue li[data-id="{alert_id}"]'
    page.click(row)
    page.wait_for_selector("#detail-status[data-status=open]")
    assert page.inner_text("#detail-title") == "Resident r-0801 (5-0801) has not gone out for 25 h"
    page.wait_for_selector("#detail .phone-first a.call")
    assert page.inner_text("#detail .phone-first p") == "王丽 (daughter) · +86 138 0013 8000"
    assert page.get_attribute("#detail .phone-first a.call", "href") == "tel:+8613800138000"

    out = datetime.now(UTC)
    with connect(settings.require_database_url()) as conn, conn.transaction():
        assert proc.on_presence_event(conn, PresenceEvent(out, "access", resident=MOTHER.resident_id,
                                                          direction="out", gate="north", method="face"),
                                      out) == [alert_id]
    page.wait_for_selector("#detail-status[data-status=resolved]")  # live, without a reload
    page.wait_for_selector(row, state="detached")  # no longer in the queue of open work
    page.select_option("#filter-status", "resolved")  # where it went, with its history
    page.click(row)
    page.wait_for_selector('#detail .timeline li[data-kind="resolved"]')
    entry = page.inner_text('#detail .timeline li[data-kind="resolved"]')
    local = out.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M")
    assert f"seen going out at gate north {local} (UTC+8)" in entry
    assert "system" in entry
