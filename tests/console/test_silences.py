"""Silences and bulk acknowledge through the real API and database, and a silenced alert in the page: still
stored and listed, greyed, never pinned or sounded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from api.security import create_user
from common.settings import Settings
from store.db import connect
from tests.console.browser import PASSWORD, DeviceAlert, LiveServer, login
from tests.console.test_triage import PLAY_SPY
from tests.helpers import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _session(client: TestClient, settings: Settings, role: str) -> dict[str, str]:
    with connect(settings.require_database_url()) as conn:
        create_user(conn, f"{role}-1", PASSWORD, role)
        conn.commit()
    me = client.post("/api/v1/auth/login", json={"username": f"{role}-1", "password": PASSWORD}).json()
    return {"X-CSRF-Token": me["csrf_token"]}


def test_bulk_acknowledge_takes_exactly_the_filtered_open_alerts(client: TestClient, settings: Settings,
                                                                  device_alert: DeviceAlert) -> None:
    leaks = [device_alert("water_leak", f"leak-{n}", "4") for n in range(5)]
    elsewhere = device_alert("water_leak", "leak-b6", "6")
    other_type = device_alert("temperature", "temp-4", "4")
    viewer = _session(client, settings, "viewer")
    refused = client.post("/api/v1/alerts/ack", json={"type": "water_leak", "building": "4"}, headers=viewer)
    assert refused.status_code == 403
    client.cookies.clear()
    assert client.post("/api/v1/alerts/ack", json={}, headers=AUTH).status_code == 422  # no filter: refused
    done = client.post("/api/v1/alerts/ack", json={"type": "water_leak", "building": "4"}, headers=AUTH).json()
    assert (sorted(done["acknowledged"]), done["count"]) == (sorted(leaks), 5)
    status = {a["id"]: a["status"] for a in client.get("/api/v1/alerts", headers=AUTH).json()["alerts"]}
    assert {status[i] for i in leaks} == {"acknowledged"}
    assert (status[elsewhere], status[other_type]) == ("open", "open")
    history = client.get(f"/api/v1/alerts/{leaks[0]}", headers=AUTH).json()["history"]
    assert [h["kind"] for h in history][-1] == "acknowledged"  # recorded as if done one by one
    again = client.post("/api/v1/alerts/ack", json={"type": "water_leak", "building": "4"}, headers=AUTH).json()
    assert again["count"] == 0


def test_silence_needs_a_reason_and_an_end_and_ends(client: TestClient, settings: Settings) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert client.post("/api/v1/alerts/silences", json={"type": "smoke", "reason": "", "ends_at": soon},
                       headers=AUTH).status_code == 422
    assert client.post("/api/v1/alerts/silences", json={"type": "smoke", "reason": "drill", "ends_at": past},
                       headers=AUTH).status_code == 422
    made = client.post("/api/v1/alerts/silences", json={"type": "smoke", "building": "5", "reason": "detector test",
                                                        "ends_at": soon}, headers=AUTH)
    assert made.status_code == 201
    silence = made.json()
    assert (silence["type"], silence["building"], silence["reason"], silence["created_by"]) == (
        "smoke", "5", "detector test", "admin")
    assert [s["id"] for s in client.get("/api/v1/alerts/silences", headers=AUTH).json()] == [silence["id"]]
    viewer = _session(client, settings, "viewer")
    assert client.post(f"/api/v1/alerts/silences/{silence['id']}/end", headers=viewer).status_code == 403
    client.cookies.clear()
    assert client.post(f"/api/v1/alerts/silences/{silence['id']}/end", headers=AUTH).status_code == 200
    assert client.get("/api/v1/alerts/silences", headers=AUTH).json() == []
    assert client.post(f"/api/v1/alerts/silences/{silence['id']}/end", headers=AUTH).status_code == 404


@pytest.mark.browser
def test_a_silenced_alert_is_listed_greyed_and_quiet(live_server: LiveServer, users: dict[str, str],
                                                     console_page: Page, device_alert: DeviceAlert) -> None:
    page, settings = console_page, live_server.settings
    page.add_init_script(PLAY_SPY)
    first = device_alert("smoke", "smoke-5-1", "5")
    login(page, live_server.url, users["operator"])
    page.click(f'#queue li[data-id="{first}"]')
    page.wait_for_selector("#detail-title")
    page.keyboard.press("m")
    page.wait_for_selector("#silence-dialog[open]")
    page.fill("#silence-form textarea[name=reason]", "Detector maintenance in tower 5")
    page.click("#silence-ok")
    page.wait_for_selector(f'#queue li[data-id="{first}"].silenced')
    page.wait_for_selector("#silences-box:not([hidden]) li:text('Detector maintenance in tower 5')")
    page.wait_for_selector("#pinned-lane", state="hidden")

    second = device_alert("smoke", "smoke-5-2", "5")  # same cause, still silenced: listed, greyed, no sound
    elsewhere = device_alert("smoke", "smoke-6-1", "6")  # another building: not covered
    page.wait_for_selector(f'#queue li[data-id="{elsewhere}"]:not(.silenced)')
    page.wait_for_selector(f'#pinned li[data-id="{elsewhere}"]')
    page.wait_for_selector(f'#queue li[data-group-size="2"][data-id="{first}"].silenced')
    page.wait_for_function("() => window.__plays.length === 1")  # only the unsilenced one rang
    with connect(settings.require_database_url()) as conn:
        stored = conn.execute("SELECT count(*) AS n FROM alerts WHERE id = %s", (second,)).fetchone()
    assert stored is not None
    assert stored["n"] == 1

    page.click("#silences button[data-end-silence]")
    page.wait_for_selector("#silences-box", state="hidden")
    page.wait_for_selector(f'#pinned li[data-id="{first}"]')


@pytest.mark.browser
def test_bulk_acknowledge_from_the_filter(live_server: LiveServer, users: dict[str, str], console_page: Page,
                                          device_alert: DeviceAlert) -> None:
    page, settings = console_page, live_server.settings
    leaks = [device_alert("water_leak", f"leak-{n}", "4") for n in range(3)]
    other = device_alert("temperature", "temp-9", "4")
    login(page, live_server.url, users["operator"])
    page.wait_for_selector(f'#queue li[data-id="{other}"]')
    assert page.locator("#bulk-ack").is_hidden()  # nothing narrowed: no button
    page.select_option("#filter-type", "water_leak")
    page.wait_for_selector("#bulk-ack:not([hidden]) #bulk-count:text('3')")
    page.click("#bulk-ack")
    page.click("#bulk-ok")
    page.wait_for_selector("#toast:text('Acknowledged 3')")
    page.wait_for_function("() => [...document.querySelectorAll('#queue li')].every(r => r.dataset.status"
                           " === 'acknowledged')")
    with connect(settings.require_database_url()) as conn:
        rows = conn.execute("SELECT id, status FROM alerts").fetchall()
    status = {r["id"]: r["status"] for r in rows}
    assert [status[i] for i in leaks] == ["acknowledged"] * 3
    assert status[other] == "open"
