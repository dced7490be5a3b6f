"""The sensor simulator's output through the real alerts service (broker and database): ten minutes of a demo
fleet, replayed 120 times faster on the event clock, fire every alert type of the default profile, and a metric
no rule knows is counted per device kind and shown by the API."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from alerts import queries
from alerts.sensor_profiles import default_profile
from alerts.service import AlertsService
from api.app import create_app
from common.mqtt import BoundedPublisher
from common.settings import Settings
from simulators.sensor_fleet import FleetOptions, SensorFleet
from simulators.sensors import make_fleet
from store import devices, unknown_metrics
from store.db import connect
from tests.helpers import ADMIN_TOKEN, wait_until

SPEED = 120.0  # event seconds per wall second


class FastClock:
    """Event time for the simulated devices: starts eleven minutes ago and runs ``SPEED`` times faster."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC) - timedelta(minutes=11)
        self.mono = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.mono) * SPEED)


def _types(settings: Settings) -> set[str]:
    with connect(settings.require_database_url()) as conn:
        return {a["type"] for a in queries.list_alerts(conn, site=settings.site)}


def test_simulated_fleet_fires_every_default_rule_type_through_the_alerts_service(settings: Settings) -> None:
    with connect(settings.require_database_url()) as conn, conn.transaction():
        # registered with an hour's interval: event time runs in the past here, silence would read as offline
        devices.register(conn, settings.site, [(s.device_id, "sensor", 3600.0) for s in make_fleet(14)])
    service = AlertsService(settings, tick_s=0.5)
    service.start()
    try:
        assert service.wait_connected()
        # 14 devices (two of each kind) every 5 event-seconds: 14 * 60 / 5 messages per wall second
        options = FleetOptions(devices=14, rate=14 * SPEED / 5, seed=3, malformed_share=0.01,
                               alarm_rate_per_h=0.0, first_alarms_within_s=480.0)
        report = SensorFleet(settings.mqtt, settings.site, options, clock=FastClock()).run(duration_s=600 / SPEED)
        assert report.valid > 1500
        wanted = {r.type for r in default_profile().rules}
        try:
            wait_until(lambda: wanted <= _types(settings), timeout=30)
        except AssertionError:
            raise AssertionError(f"no alert of {sorted(wanted - _types(settings))}; {report.summary()}") from None
        with connect(settings.require_database_url()) as conn:
            assert unknown_metrics.listing(conn, settings.site) == []  # the simulator speaks the profile
    finally:
        service.stop()


def test_a_metric_no_rule_knows_is_counted_per_kind_and_listed_by_the_api(settings: Settings) -> None:
    service = AlertsService(settings, tick_s=0.5)
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    try:
        assert service.wait_connected()
        now = datetime.now(UTC)
        for i, device in enumerate(("temp-a1", "temp-a2", "temp-a1")):
            publisher.publish(f"estate/{settings.site}/sensor/{device}/telemetry", json.dumps(
                {"ts": (now + timedelta(seconds=i)).isoformat(), "metrics": {"temperature_c": 21.0,
                                                                               "vibration_mm_s": 0.4}}))
        publisher.publish(f"estate/{settings.site}/sensor/pump-7/telemetry", json.dumps(
            {"ts": now.isoformat(), "metrics": {"rpm": 1450.0}}))
        assert publisher.flush(10)

        def counted() -> list[tuple[str, str, int, list[str]]]:
            with connect(settings.require_database_url()) as conn:
                return [(r.device_kind, r.metric, r.readings, r.devices)
                        for r in unknown_metrics.listing(conn, settings.site)]

        expected = [("temperature", "vibration_mm_s", 3, ["temp-a1", "temp-a2"]), ("unknown", "rpm", 1, ["pump-7"])]
        wait_until(lambda: counted() == expected, timeout=10, what=f"counts {expected}")
    finally:
        publisher.close(flush_timeout=5)
        service.stop()
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/unknown-metrics").status_code == 401
        shown = client.get("/api/v1/unknown-metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert [(m["device_kind"], m["metric"], m["readings"], m["devices"]) for m in shown] == expected
