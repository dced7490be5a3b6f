"""End to end: the sensor simulator publishes -> ingest stores in PostgreSQL -> the API returns the rows."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from common.settings import Settings
from ingest.service import IngestService
from simulators.sensor_fleet import FleetOptions, SensorFleet
from simulators.sensors import SensorKind
from tests.helpers import ADMIN_TOKEN, scalar, wait_until

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_simulated_sensors_reach_the_api(settings: Settings, ingest_service: IngestService, db_url: str) -> None:
    options = FleetOptions(devices=6, rate=400.0, seed=7, malformed_share=0.1,
                           kinds=(SensorKind.TEMPERATURE, SensorKind.CHARGER))
    report = SensorFleet(settings.mqtt, settings.site, options).run(count=240)
    assert report.valid > 150
    assert report.malformed > 5
    wait_until(lambda: scalar(db_url, "SELECT count(DISTINCT (device_id, seq)) FROM telemetry")
               == len(set(report.telemetry)), timeout=20, what="every valid reading stored")
    wait_until(lambda: scalar(db_url, "SELECT count(*) FROM dead_letters") == report.malformed,
               timeout=20, what="every malformed message kept as a dead letter")

    device, _ = report.telemetry[0]
    expected = {seq for d, seq in report.telemetry if d == device}
    with TestClient(create_app(settings)) as client:
        raw = client.get("/api/v1/telemetry", params={"device": device}, headers=AUTH)
        assert raw.status_code == 200
        assert {p["seq"] for p in raw.json()["points"]} == expected
        buckets = client.get("/api/v1/telemetry", params={"device": device, "bucket": "1h"}, headers=AUTH)
        assert buckets.status_code == 200
        assert sum(b["n"] for b in buckets.json()["buckets"]) == len(raw.json()["points"])
        devices = client.get("/api/v1/devices", headers=AUTH).json()
        assert {d["device_id"] for d in devices} >= {d for d, _ in report.telemetry}
        summary = client.get("/api/v1/dead-letters/summary", headers=AUTH).json()
        assert sum(row["n"] for row in summary) == report.malformed
        assert client.get("/api/v1/telemetry", params={"device": device}).status_code == 401
        metrics = client.get("/metrics").text
        assert 'ew_ingest_messages_total{kind="telemetry",reason="",result="accepted"}' in metrics
        assert client.get("/readyz").json()["ready"] is True
