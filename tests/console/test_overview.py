"""The console's aggregates through the real API and database: building colours, offline devices, alert counts per
bucket with empty buckets kept, telemetry sparklines, and the Elders panel's view with contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.lifecycle import Severity
from common.settings import Settings
from store.db import connect
from tests.helpers import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _seed(settings: Settings) -> dict[str, str]:
    now = datetime.now(UTC)
    ids: dict[str, str] = {}
    with connect(settings.require_database_url()) as conn:
        def alert(key: str, type_: str, severity: Severity, building: str, at: datetime) -> str:
            draft = AlertDraft(type=type_, severity=severity, dedup_key=key, title=key, site=settings.site,
                               occurred_at=at, subject={"building": building, "resident": key})
            ids[key] = raise_alert(conn, draft, now=at)
            return ids[key]

        alert("smoke-1", "smoke", "critical", "1", now)  # building 1: unacknowledged and serious -> red
        alert("temp-2", "temperature", "minor", "2", now - timedelta(hours=2))  # building 2: minor, open -> yellow
        quiet = alert("litter-3", "littering", "major", "3", now - timedelta(hours=5))  # building 3: resolved -> blue
        conn.execute("UPDATE alerts SET status = 'resolved', resolution = 'true_positive', resolved_at = now()"
                     " WHERE id = %s", (quiet,))
        alert("old-litter", "littering", "major", "3", now - timedelta(days=3))
        conn.execute("UPDATE alerts SET status = 'resolved' WHERE dedup_key = 'old-litter'")
        conn.execute("INSERT INTO devices (device_id, site, kind, status, last_seen, meta) VALUES"
                     " ('smoke-7', %s, 'sensor', 'offline', now() - interval '2 hours', %s),"
                     " ('temp-9', %s, 'sensor', 'online', now(), '{}')",
                     (settings.site, Jsonb({"building": "4"}), settings.site))
        for minute in range(30):
            conn.execute("INSERT INTO telemetry (ts, device_id, metric, value) VALUES (%s, 'temp-9', 'celsius', %s)",
                         (now - timedelta(minutes=minute), 20.0 + minute / 10))
        conn.execute("INSERT INTO residents (resident_id, site, unit, building, floor, elderly, lives_alone, contacts,"
                     " consent) VALUES ('smoke-1', %s, '1-0301', '1', 3, true, true, %s, true),"
                     " ('r-young', %s, '2-0101', '2', 1, false, false, '[]', true)",
                     (settings.site, Jsonb([{"role": "son", "phone": "139"}]), settings.site))
        conn.commit()
    return ids


def test_buildings_devices_and_counts(client: TestClient, settings: Settings) -> None:
    _seed(settings)
    overview = client.get("/api/v1/overview", headers=AUTH).json()
    colours = {b["building"]: b["colour"] for b in overview["buildings"]}
    assert colours == {"1": "red", "2": "yellow", "3": "blue", "4": "blue"}
    assert [d["device_id"] for d in overview["offline_devices"]] == ["smoke-7"]
    assert overview["devices"] == {"offline": 1, "online": 1}
    assert (overview["alerts"]["open"], overview["alerts"]["acknowledged"]) == (2, 0)

    hourly = client.get("/api/v1/overview/alert-counts", params={"bucket": "hour"}, headers=AUTH).json()
    assert len(hourly["series"]) == 48
    totals = {t: sum(b["counts"][t] for b in hourly["series"]) for t in hourly["types"]}
    assert totals == {"littering": 1, "smoke": 1, "temperature": 1}  # the 3-day-old one is outside 48 h
    assert sum(hourly["series"][-1]["counts"].values()) == 1  # the smoke alert, in the current hour

    daily = client.get("/api/v1/overview/alert-counts", params={"bucket": "day", "span": 7}, headers=AUTH).json()
    assert len(daily["series"]) == 7
    assert sum(sum(b["counts"].values()) for b in daily["series"]) == 4

    lines = client.get("/api/v1/overview/sparklines", params={"minutes": 60, "points": 12}, headers=AUTH).json()
    assert [(s["device_id"], s["metric"]) for s in lines] == [("temp-9", "celsius")]
    assert 6 <= len(lines[0]["points"]) <= 13
    assert lines[0]["last"] == pytest.approx(20.0, abs=0.3)  # the newest bucket holds the newest readings

    facets = client.get("/api/v1/overview/facets", headers=AUTH).json()
    assert facets == {"types": ["littering", "smoke", "temperature"], "buildings": ["1", "2", "3", "4"]}


def test_elders_view_has_contacts_and_open_alerts(client: TestClient, settings: Settings) -> None:
    _seed(settings)
    elders = client.get("/api/v1/overview/elders", headers=AUTH).json()
    assert [e["resident_id"] for e in elders] == ["smoke-1"]  # elderly only
    assert elders[0]["contacts"] == [{"role": "son", "phone": "139"}]
    assert elders[0]["open_alerts"] == 1
    one = client.get("/api/v1/overview/elders", params={"resident": "r-young"}, headers=AUTH).json()
    assert [e["resident_id"] for e in one] == ["r-young"]
    assert client.get("/api/v1/overview/elders").status_code == 401
