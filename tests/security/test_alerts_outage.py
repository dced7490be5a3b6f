"""A 30-second PostgreSQL outage under the live alerts service, with the real broker and database: gate, door and
motion events keep flowing, every one is applied exactly once when the database is back, and an elderly
resident's alert that fell due during the outage is raised as soon as it returns. Ingest, meanwhile, holds no more
than its byte bound and leaves the rest with the broker."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from alerts import queries
from alerts.config import AlertsConfig
from alerts.presence import Resident
from alerts.presence_rules import RuleConfig
from alerts.resident_records import load_states, upsert_residents
from alerts.service import AlertsService
from common import topics
from common.mqtt import BoundedPublisher
from common.settings import Settings
from ingest.service import IngestService
from store.db import connect
from tests.helpers import DatabaseSwitch, wait_until

OUTAGE_S = 30.0


def _handled(kind: str) -> float:
    return REGISTRY.get_sample_value("ew_alerts_events_total", {"kind": kind, "outcome": "ok"}) or 0.0


def test_a_30_s_outage_loses_nothing_and_raises_what_fell_due(settings: Settings,
                                                              database_switch: DatabaseSwitch) -> None:
    site, db_url = settings.site, settings.require_database_url()
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, site, [Resident("r1", "A-1201", elderly=True, lives_alone=True, not_out_hours=24),
                                      Resident("r2", "B-0302", elderly=True, lives_alone=True, not_out_hours=24)],
                         consent=True)
    config = AlertsConfig(rules=RuleConfig(no_sign_enabled=False))
    service = AlertsService(settings, tick_s=0.2, config=config)
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    before = {k: _handled(k) for k in ("access", "door", "motion")}
    due_at = datetime.now(UTC) + timedelta(seconds=10)
    try:
        assert service.wait_connected()
        publisher.publish(topics.access(site, "north"), json.dumps(
            {"ts": (due_at - timedelta(hours=24)).isoformat(), "person": "r1", "direction": "in", "method": "face"}),
            qos=1)
        assert publisher.flush(10)

        def due_stored() -> bool:
            with connect(db_url) as conn:
                row = conn.execute("SELECT next_due_at FROM resident_state WHERE resident_id = 'r1'").fetchone()
                return row is not None and row["next_due_at"] is not None
        wait_until(due_stored, what="r1's due time")
        database_switch(usable=False)
        outage_started = time.monotonic()
        sent = {"access": 1, "door": 0, "motion": 0}
        last_ts = {}
        n = 0
        while time.monotonic() - outage_started < OUTAGE_S:  # events keep coming while the database is away
            n += 1
            ts = int(time.time() * 1000)
            direction = "out" if n % 2 else "in"
            publisher.publish(topics.access(site, "south"), json.dumps(
                {"ts": ts, "person": "r2", "direction": direction, "method": "card"}), qos=1)
            publisher.publish(topics.unit(site, "B-0302", "door"), json.dumps(
                {"ts": ts, "state": "open" if n % 2 else "closed"}), qos=1)
            publisher.publish(topics.unit(site, "A-1201", "motion"), json.dumps(
                {"ts": ts, "sensor": f"pir-{n}"}), qos=1)
            sent["access"] += 1
            sent["door"] += 1
            sent["motion"] += 1
            last_ts = {"direction": direction, "sensor": f"pir-{n}"}
            if n % 5 == 0:  # and the database stays unusable: no connection survives either
                database_switch(usable=False)
            time.sleep(0.5)
        assert publisher.flush(10)
        applied = {k: _handled(k) - before[k] for k in before}
        assert applied == {"access": 1.0, "door": 0.0, "motion": 0.0}  # only r1's event from before the outage
        database_switch(usable=True)
        returned = datetime.now(UTC)

        wait_until(lambda: all(_handled(k) - before[k] >= sent[k] for k in sent), timeout=60,
                   what="every event to be applied")
        assert {k: _handled(k) - before[k] for k in sent} == {k: float(v) for k, v in sent.items()}

        def raised() -> bool:
            with connect(db_url) as conn:
                return any(a["type"] == "elderly_not_out" and a["subject"]["resident"] == "r1"
                           for a in queries.list_alerts(conn, site=site))
        wait_until(raised, timeout=30, what="the alert that fell due during the outage")
        with connect(db_url) as conn:
            alerts = queries.list_alerts(conn, site=site)
            states = load_states(conn, ["r1", "r2"], lock=False)
    finally:
        database_switch(usable=True)
        service.stop()
        publisher.close()
    r1_alerts = [a for a in alerts if a["type"] == "elderly_not_out" and a["subject"].get("resident") == "r1"]
    assert len(r1_alerts) == 1
    assert r1_alerts[0]["count"] == 1
    created = datetime.fromisoformat(r1_alerts[0]["created_at"])
    assert created >= returned - timedelta(seconds=1)
    assert created - returned < timedelta(seconds=20)
    assert states["r2"].presence == ("out" if last_ts["direction"] == "out" else "home")
    assert f"({last_ts['sensor']})" in states["r1"].signals["motion"]["detail"]


def test_ingest_holds_at_most_its_byte_bound_while_the_database_is_away(settings: Settings,
                                                                          database_switch: DatabaseSwitch) -> None:
    db_url = settings.require_database_url()
    limit = 1024 * 1024
    settings = settings.model_copy(update={"ingest_queue_bytes": limit, "batch_max_rows": 2})
    service = IngestService(settings)
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    sent = 40
    padding = "x" * 50_000
    try:
        assert service.subscriber.wait_connected(10)
        database_switch(usable=False)
        base = int(time.time() * 1000)
        for i in range(sent):
            publisher.publish(topics.telemetry(settings.site, "meter-1"), json.dumps(
                {"ts": base + i, "metrics": {"kwh": float(i)}, "note": padding}), qos=1)
        publisher.flush(2)  # the broker keeps what ingest does not read: not all are acknowledged to us yet
        peak = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            peak = max(peak, service.queue_bytes)
            time.sleep(0.05)
        assert 0 < peak <= limit + 60_000  # one message may cross the bound, never more
        assert service.committed_messages == 0
        database_switch(usable=True)
        wait_until(lambda: service.committed_messages == sent, timeout=60, what="every message committed")
    finally:
        database_switch(usable=True)
        publisher.close()
        service.stop()
    with connect(db_url) as conn:
        row = conn.execute("SELECT count(*) AS n FROM telemetry WHERE device_id = 'meter-1'").fetchone()
    assert row == {"n": sent}
