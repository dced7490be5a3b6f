"""A database outage under the live alerts service: the batch is kept and retried until the database is back."""

from __future__ import annotations

import json
import time

from prometheus_client import REGISTRY

from alerts.presence import Resident
from alerts.resident_records import load_states, upsert_residents
from alerts.service import AlertsService
from common.mqtt import BoundedPublisher
from common.settings import Settings
from store.db import connect
from tests.helpers import DatabaseSwitch, wait_until


def _failed_attempts() -> float:
    return REGISTRY.get_sample_value("ew_alerts_events_total", {"kind": "batch", "outcome": "error"}) or 0.0


def test_a_batch_survives_more_than_five_failed_attempts(settings: Settings,
                                                         database_switch: DatabaseSwitch) -> None:
    db_url = settings.require_database_url()
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, settings.site, [Resident("r1", "A-1201", elderly=True, lives_alone=True)],
                         consent=True)
    service = AlertsService(settings, tick_s=0.2)
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    try:
        assert service.wait_connected()
        database_switch(usable=False)
        before = _failed_attempts()
        publisher.publish(f"estate/{settings.site}/access/north/event", json.dumps(
            {"ts": int(time.time() * 1000), "person": "r1", "direction": "in", "method": "face"}), qos=1)
        publisher.flush()
        wait_until(lambda: _failed_attempts() - before >= 6, timeout=30, what="six failed attempts of the batch")
        database_switch(usable=True)

        def applied() -> bool:
            with connect(db_url) as conn:
                return load_states(conn, ["r1"], lock=False)["r1"].presence == "home"
        wait_until(applied, what="the kept batch to commit once the database is back")
    finally:
        database_switch(usable=True)
        service.stop()
        publisher.close()
