"""AlertsService end to end over the real broker and database: MQTT in, a restart mid-stretch, MQTT alerts out."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts import queries
from alerts.config import AlertsConfig
from alerts.inactivity.settings import InactivitySettings
from alerts.payloads import AlertJson
from alerts.presence import Resident
from alerts.presence_rules import RuleConfig
from alerts.resident_records import upsert_residents
from alerts.service import AlertsService
from common.mqtt import BoundedPublisher, Message, Subscriber
from common.settings import Settings
from store.db import connect
from tests.helpers import wait_until


def _alerts(db_url: str, site: str) -> list[AlertJson]:
    with connect(db_url) as conn:
        return queries.list_alerts(conn, site=site)


def test_restart_mid_stretch_raises_on_time_and_publishes_lifecycle(settings: Settings) -> None:
    site, db_url = settings.site, settings.require_database_url()
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, site, [Resident("r1", "A-1201", elderly=True, lives_alone=True, not_out_hours=24),
                                      Resident("r9", "C-0101", elderly=False, lives_alone=False)], consent=True)
    received: list[dict[str, Any]] = []
    got = threading.Event()

    def on_alert(message: Message) -> None:
        received.append(json.loads(message.payload))
        got.set()
        message.ack()

    watcher = Subscriber(settings.mqtt, [f"estate/{site}/alerts"], on_alert, persistent=False)
    watcher.start()
    assert watcher.wait_connected()
    publisher = BoundedPublisher(settings.mqtt).start()
    home_since = datetime.now(UTC) - timedelta(hours=24) + timedelta(seconds=4)  # due 4 s from now
    # a day-old signal would also be "no sign" (and no_activity)
    config = AlertsConfig(rules=RuleConfig(no_sign_enabled=False, inactivity=InactivitySettings(enabled=False)))
    first = AlertsService(settings, tick_s=0.2, config=config)
    first.start()
    try:
        assert first.wait_connected()  # subscriptions acknowledged: nothing published from here is missed
        publisher.publish(f"estate/{site}/access/north/event", json.dumps(
            {"ts": home_since.isoformat(), "person": "r1", "direction": "in", "method": "face"}))
        publisher.publish(f"estate/{site}/unit/A-1201/motion", json.dumps(
            {"ts": int((home_since + timedelta(minutes=5)).timestamp() * 1000), "sensor": "kitchen-pir"}))
        publisher.flush()

        def stored() -> bool:
            with connect(db_url) as conn:
                row = conn.execute("SELECT next_due_at FROM resident_state WHERE resident_id = 'r1'").fetchone()
                return row is not None and row["next_due_at"] is not None
        wait_until(stored)
    finally:
        first.stop()  # dies before the due time; nothing about r1 is kept in memory
    assert _alerts(db_url, site) == []
    time.sleep(max(0.0, (home_since + timedelta(hours=24) - datetime.now(UTC)).total_seconds()))
    second = AlertsService(settings, tick_s=0.2, config=config)
    second.start()
    try:
        wait_until(lambda: len(_alerts(db_url, site)) == 1)
        alert = _alerts(db_url, site)[0]
        assert alert["type"] == "elderly_not_out"
        assert alert["subject"]["resident"] == "r1"
        raised = datetime.fromisoformat(alert["created_at"])
        assert raised - (home_since + timedelta(hours=24)) < timedelta(seconds=15)
        assert alert["details"]["home_since"] == home_since.isoformat()
        wait_until(got.is_set)
        assert received[0]["kind"] == "new"
        assert received[0]["alert"]["id"] == alert["id"]
        # a last will from a device raises device_offline at once
        publisher.publish(f"estate/{site}/device/gate-7/status", b"offline", qos=1)
        wait_until(lambda: any(a["type"] == "device_offline" for a in _alerts(db_url, site)))
    finally:
        second.stop()
        publisher.close()
        watcher.stop()
