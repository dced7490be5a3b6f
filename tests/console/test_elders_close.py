"""A resident who goes out closes their open ``elderly_not_out`` alert, live in the console: the rules run by the
service's own database driver, the operator's detail pane shows who to phone first and then the alert resolved by
the system with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page

from alerts.db_driver import Processor
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, Resident
from alerts.presence_rules import RuleConfig
from alerts.resident_records import to_record
from common.settings import Settings
from store.db import connect
from store.residents import put_resident
from tests.console.browser import LiveServer, login

MOTHER = Resident("r-0801", "5-0801", building="5", floor=8, elderly=True, lives_alone=True)
CONTACTS = [{"role": "daughter", "name": "王丽", "phone": "+86 138 0013 8000"},
            {"role": "grid worker", "name": "张伟", "phone": "+86 139 1234 5678"}]
RULES = RuleConfig(no_sign_enabled=False, inactivity=InactivitySettings(enabled=False))


def _home_for_a_day(settings: Settings, proc: Processor, now: datetime) -> str:
    """She came home 25 h ago and has moved about since, never out: the tick raises her alert."""
    home = now - timedelta(hours=25)
    with connect(settings.require_database_url()) as conn:
        with conn.transaction():
            put_resident(conn, settings.site, to_record(MOTHER), contacts=CONTACTS, consent=True)
            proc.on_presence_event(conn, PresenceEvent(home, "access", resident=MOTHER.resident_id, direction="in",
                                                       gate="north", method="face"), home)
            for h in range(1, 25, 3):
                at = home + timedelta(hours=h)
                proc.on_presence_event(conn, PresenceEvent(at, "motion", unit=MOTHER.unit, sensor="kitchen-pir"), at)
        with conn.transaction():
            [alert_id] = proc.tick(conn, now)
    return alert_id


@pytest.mark.browser
def test_going_out_closes_the_open_elderly_alert(live_server: LiveServer, users: dict[str, str],
                                                 console_page: Page) -> None:
    page, settings = console_page, live_server.settings
    proc = Processor(settings.site, RULES, tz=ZoneInfo(settings.timezone))
    alert_id = _home_for_a_day(settings, proc, datetime.now(UTC))
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
