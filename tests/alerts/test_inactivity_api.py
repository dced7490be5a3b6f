"""The learnt routine and the no_activity settings over the real app: who may read and change them, what is
refused, and that the service's rules see a change at their next batch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from alerts.db_driver import Processor
from alerts.presence import PresenceEvent
from common.settings import Settings
from store.db import connect
from tests.helpers import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
VIEWER = {"Authorization": "Bearer viewer-token-0123456789"}
OPERATOR = {"Authorization": "Bearer operator-token-0123456789"}


def _learn(settings: Settings, processor: Processor, days: int) -> None:
    """Hourly motion by day, a quiet night: ``days`` of routine through the service's driver."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
    events = [PresenceEvent(start + timedelta(days=d, hours=h, minutes=7 * (h % 3)), "motion", unit="A-1201",
                            sensor="pir") for d in range(days) for h in range(7, 22)]
    with connect(settings.require_database_url()) as conn, conn.transaction():
        processor.on_presence_events(conn, events, events[-1].ts)


def test_routine_and_settings_by_role_and_what_the_rules_then_use(client: TestClient, settings: Settings) -> None:
    body = {"unit": "A-1201", "elderly": True, "lives_alone": True, "consent": True}
    assert client.put("/api/v1/residents/r1", json=body, headers=ADMIN).status_code == 200
    processor = Processor(settings.site, tz=UTC)
    _learn(settings, processor, 16)

    routine_url = "/api/v1/residents/r1/routine"
    assert client.get(routine_url, headers=VIEWER).status_code == 403, "viewers do not see personal routines"
    assert client.get("/api/v1/residents/nobody/routine", headers=OPERATOR).status_code == 404
    routine = client.get(routine_url, headers=OPERATOR).json()
    assert routine["watched"] is True
    assert routine["cold_start"] is False
    assert routine["history_days"] >= 15
    assert [h["hour"] for h in routine["weekdays"]] == list(range(24)) == [h["hour"] for h in routine["weekends"]]
    night = [h for h in routine["weekdays"] + routine["weekends"] if h["hour"] == 21]
    assert all(h["longest_min"] is not None and h["longest_min"] > 9 * 60 for h in night), "the night was learnt"
    assert all(h["threshold_min"] >= h["usual_min"] for h in routine["weekdays"])
    assert routine["settings"]["sensitivity"] == 0.35
    assert routine["overrides"] == {}

    url = "/api/v1/residents/r1/inactivity"
    change = {"sensitivity": 0.2, "quiet_start_hour": 23, "quiet_end_hour": 6}
    assert client.put(url, json=change, headers=VIEWER).status_code == 403
    for bad in ({"quiet_start_hour": 23}, {"bogus": 1}, {"min_hours": 5, "max_hours": 3}, {"sensitivity": 2}):
        refused = client.put(url, json=bad, headers=OPERATOR)
        assert refused.status_code == 422, (bad, refused.text)
    assert client.get(routine_url, headers=OPERATOR).json()["overrides"] == {}, "a refused change stores nothing"
    changed = client.put(url, json=change, headers=OPERATOR).json()
    assert changed["overrides"] == change
    assert (changed["settings"]["sensitivity"], changed["settings"]["quiet_start_hour"]) == (0.2, 23)

    estate = "/api/v1/inactivity/settings"
    assert client.put(estate, json={"learning_window_days": 20}, headers=OPERATOR).status_code == 403
    assert client.get(estate, headers=VIEWER).json()["settings"]["learning_window_days"] == 30
    put = client.put(estate, json={"learning_window_days": 20, "sensitivity": 0.5}, headers=ADMIN)
    assert put.status_code == 200, put.text
    assert put.json()["stored"] == {"learning_window_days": 20, "sensitivity": 0.5}
    mixed = client.get(routine_url, headers=OPERATOR).json()["settings"]
    assert (mixed["learning_window_days"], mixed["sensitivity"]) == (20, 0.2), "resident's own over the estate's"

    with connect(settings.require_database_url()) as conn:
        directory = processor._directory(conn, datetime.now(UTC))
    assert directory.inactivity("r1").sensitivity == 0.2
    assert directory.inactivity("r1").quiet_start_hour == 23
    assert directory.inactivity("r1").learning_window_days == 20
    assert directory.inactivity("someone-else").sensitivity == 0.5

    cleared = client.put(url, json={}, headers=OPERATOR).json()
    assert cleared["overrides"] == {}
    assert cleared["settings"]["sensitivity"] == 0.5, "the estate's apply again"
    with connect(settings.require_database_url()) as conn:
        assert processor._directory(conn, datetime.now(UTC)).inactivity("r1").sensitivity == 0.5
