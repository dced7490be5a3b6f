"""Life first: a smoke alarm raised while 50 escalated routine alerts are open goes to the top of the queue (server
order and page), into the pinned lane, and sounds; the console's tiers are the server's; muting lasts the shift.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from alerts import actions, triage
from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.sla import SlaPolicy
from api.app import create_app
from api.routes.console import STATIC_DIR
from common.settings import Settings
from store.db import connect
from tests.console.browser import LiveServer, login
from tests.helpers import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ROUTINE = ("temperature", "water_leak", "ebike_charging", "device_offline", "elderly_not_out")

# Counts every play() of any <audio>/<video>, without making a sound; installed before the page's own scripts.
PLAY_SPY = """
window.__plays = [];
const realPlay = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__plays.push(this.currentSrc || this.src);
  return Promise.resolve();
};
window.__realPlay = realPlay;
"""


def _fifty_escalated_routine_alerts(settings: Settings) -> None:
    """50 routine alerts raised 30 minutes ago whose acknowledge deadline passed: escalation makes them critical."""
    long_ago = datetime.now(UTC) - timedelta(minutes=30)
    with connect(settings.require_database_url()) as conn:
        for n in range(50):
            type_ = ROUTINE[n % len(ROUTINE)]
            raise_alert(conn, AlertDraft(type=type_, severity="major", dedup_key=f"routine:{n}",
                                         title=f"Routine {type_} {n}", site=settings.site, occurred_at=long_ago,
                                         subject={"building": str(n % 9 + 1), "device": f"dev-{n}"}),
                        now=long_ago)
        actions.escalate_due(conn, datetime.now(UTC), SlaPolicy())
        conn.commit()
        critical = conn.execute("SELECT count(*) AS n FROM alerts WHERE severity = 'critical' AND escalation_level > 0"
                                ).fetchone()
    assert critical is not None
    assert critical["n"] == 50


def _smoke(settings: Settings) -> str:
    with connect(settings.require_database_url()) as conn:
        alert_id = raise_alert(conn, AlertDraft(
            type="smoke", severity="major", dedup_key="smoke:3-1204", title="Smoke in 3-1204", site=settings.site,
            occurred_at=datetime.now(UTC), subject={"building": "3", "floor": 12, "unit": "3-1204",
                                                    "device": "smoke-3-1204"}))
        conn.commit()
    return alert_id


@pytest.mark.browser
def test_smoke_alarm_beats_fifty_escalated_routine_alerts(live_server: LiveServer, users: dict[str, str],
                                                          console_page: Page) -> None:
    page, settings = console_page, live_server.settings
    _fifty_escalated_routine_alerts(settings)
    page.add_init_script(PLAY_SPY)
    login(page, live_server.url, users["operator"])
    page.wait_for_selector("#queue li")
    assert page.locator("#pinned-lane").is_hidden()  # nothing life-threatening yet

    smoke = _smoke(settings)
    row = f'#queue li[data-id="{smoke}"]'
    page.wait_for_selector(f"{row}.fresh")
    assert page.locator("#queue li").first.get_attribute("data-id") == smoke
    page.wait_for_selector(f'#pinned-lane:not([hidden]) #pinned li[data-id="{smoke}"]')
    assert page.locator("#pinned li").count() == 1
    page.wait_for_function("() => window.__plays.length === 1")
    assert page.evaluate("window.__plays[0]").endswith("/static/alarm.wav")
    page.wait_for_function("() => document.title.startsWith('⚠')")  # the tab title flashes

    # acknowledged, it leaves the pinned lane but stays first in the queue
    page.click(f"{row}")
    page.wait_for_selector("#detail-title")
    page.keyboard.press("a")
    page.wait_for_selector(f'{row}[data-status="acknowledged"]')
    page.wait_for_selector("#pinned-lane", state="hidden")
    assert page.locator("#queue li").first.get_attribute("data-id") == smoke


@pytest.mark.browser
def test_muted_for_the_shift_survives_a_reload(live_server: LiveServer, users: dict[str, str],
                                               console_page: Page) -> None:
    page, settings = console_page, live_server.settings
    page.add_init_script(PLAY_SPY)
    login(page, live_server.url, users["operator"])
    page.click("#mute")
    page.wait_for_selector("#mute[aria-pressed=true]")
    page.reload()
    page.wait_for_selector("#live.on")
    page.wait_for_selector("#mute[aria-pressed=true]")
    until = page.evaluate("Number(localStorage.getItem('ew.alarm.mutedUntil')) - Date.now()")
    assert 11.9 * 3600e3 < until <= 12 * 3600e3  # one shift
    smoke = _smoke(settings)
    page.wait_for_selector(f'#pinned li[data-id="{smoke}"]')  # still pinned and flashing, only silent
    page.wait_for_function("() => document.title.startsWith('⚠')")
    assert page.evaluate("window.__plays.length") == 0


def test_the_list_query_orders_life_safety_first(settings: Settings) -> None:
    """``sort=triage`` is the server's own order: the first page already has the smoke alarm on top."""
    _fifty_escalated_routine_alerts(settings)
    smoke = _smoke(settings)
    with TestClient(create_app(settings)) as client:
        triaged = client.get("/api/v1/alerts", params={"status": "open", "sort": "triage", "limit": 10},
                             headers=AUTH).json()
        newest = client.get("/api/v1/alerts", params={"status": "open", "limit": 60}, headers=AUTH).json()
    types = [a["type"] for a in triaged["alerts"]]
    assert triaged["alerts"][0]["id"] == smoke
    assert triaged["next_before"] is None
    assert "device_offline" not in types  # device alerts come after every property alert, escalated or not
    assert [a["severity"] for a in triaged["alerts"][1:]] == ["critical"] * 9
    assert newest["alerts"][0]["id"] == smoke  # the default order is unchanged: newest first
    assert len(newest["alerts"]) == 51


def test_console_tiers_are_the_servers() -> None:
    source = (STATIC_DIR / "js" / "model.js").read_text(encoding="utf-8")

    def js_set(name: str) -> set[str]:
        match = re.search(rf"export const {name} = new Set\(\[(.*?)\]\)", source, re.S)
        assert match, name
        return set(re.findall(r'"(\w+)"', match[1]))

    assert js_set("LIFE_SAFETY") == set(triage.LIFE_SAFETY)
    assert js_set("DEVICE") == set(triage.DEVICE)
    assert [triage.priority(t) for t in ("smoke", "temperature", "device_offline", "new_kind")] == [
        "life", "property", "device", "property"]
