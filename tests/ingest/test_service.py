"""The ingest component against a real Mosquitto and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import Settings
from ingest.service import IngestService
from store.db import connect
from store.devices import register
from tests.helpers import number, scalar, wait_until


@pytest.fixture
def publisher(settings: Settings) -> Iterator[BoundedPublisher]:
    pub = BoundedPublisher(settings.mqtt, max_inflight=200).start()
    yield pub
    pub.close()


def _rejected(reason: str) -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "ew_ingest_messages":
            for sample in metric.samples:
                if sample.name.endswith("_total") and sample.labels.get("reason") == reason:
                    total += sample.value
    return total


def _now_ms() -> int:
    return int(time.time() * 1000)


def test_telemetry_and_events_are_stored(settings: Settings, ingest_service: IngestService,
                                         publisher: BoundedPublisher, db_url: str) -> None:
    site = settings.site
    for seq in range(50):
        body = {"ts": _now_ms() - 1000 + seq, "seq": seq, "metrics": {"temp": 20 + seq / 10, "humidity": 40.0}}
        publisher.publish(topics.telemetry(site, "t-1"), json.dumps(body))
    publisher.publish(topics.access(site, "north"),
                      json.dumps({"ts": _now_ms(), "person": "r-1", "direction": "out", "method": "face"}))
    publisher.publish(topics.unit(site, "A-1201", "door"), json.dumps({"ts": _now_ms(), "state": "open"}))
    publisher.publish(topics.status(site, "t-1"), b"offline")
    assert publisher.flush(10)
    wait_until(lambda: scalar(db_url, "SELECT count(*) FROM telemetry") == 100, what="100 telemetry rows")
    wait_until(lambda: scalar(db_url, "SELECT count(*) FROM events") == 3, what="3 events")
    assert scalar(db_url, "SELECT status FROM devices WHERE device_id = 't-1'") == "offline"
    assert scalar(db_url, "SELECT subject FROM events WHERE kind = 'access'") == "r-1"
    assert scalar(db_url, "SELECT max(seq) FROM telemetry") == 49


def test_bad_input_is_rejected_counted_and_kept_and_the_next_message_lands(
    settings: Settings, ingest_service: IngestService, publisher: BoundedPublisher, db_url: str
) -> None:
    site = settings.site
    t = topics.telemetry(site, "t-2")
    bad = {
        "not_json": b"{oops",
        "not_object": b'"just a string"',
        "non_finite": b'{"ts": %d, "metrics": {"temp": NaN}}' % _now_ms(),
        "schema": b'{"ts": %d, "metrics": {"temp": "hot"}}' % _now_ms(),
        "future_timestamp": b'{"ts": %d, "metrics": {"temp": 1}}' % (_now_ms() + 86_400_000),
        "oversized": b'{"ts": 1, "metrics": {"x": 1}, "pad": "' + b"a" * (settings.max_json_bytes + 10) + b'"}',
    }
    before = {reason: _rejected(reason) for reason in [*bad, "unknown_topic"]}
    for payload in bad.values():
        publisher.publish(t, payload)
    publisher.publish(topics.sensor_leaf(site, "t-2", "bogus"), b"{}")
    publisher.publish(t, json.dumps({"ts": _now_ms(), "seq": 1, "metrics": {"temp": 22.0}}))
    assert publisher.flush(10)
    wait_until(lambda: scalar(db_url, "SELECT count(*) FROM telemetry") == 1, what="the valid message")
    wait_until(lambda: scalar(db_url, "SELECT count(*) FROM dead_letters") == len(bad) + 1, what="dead letters")
    with_reasons = scalar(db_url, "SELECT array_agg(DISTINCT reason ORDER BY reason) FROM dead_letters")
    assert isinstance(with_reasons, list)
    assert set(with_reasons) == {*bad, "unknown_topic"}
    assert number(db_url, "SELECT payload_size FROM dead_letters WHERE reason = 'oversized'") > settings.max_json_bytes
    for reason in [*bad, "unknown_topic"]:
        assert _rejected(reason) == before[reason] + 1, reason


def test_redelivered_messages_are_stored_once(settings: Settings, ingest_service: IngestService,
                                              publisher: BoundedPublisher, db_url: str) -> None:
    body = json.dumps({"ts": _now_ms(), "seq": 5, "metrics": {"power": 180.0}})
    event = json.dumps({"ts": _now_ms(), "sensor": "hall-pir"})
    for _ in range(3):
        publisher.publish(topics.telemetry(settings.site, "ch-1"), body)
        publisher.publish(topics.unit(settings.site, "B-0301", "motion"), event)
    assert publisher.flush(10)
    wait_until(lambda: ingest_service.committed_messages >= 6, what="six messages committed")
    assert scalar(db_url, "SELECT count(*) FROM telemetry") == 1
    assert scalar(db_url, "SELECT count(*) FROM events") == 1


def test_unregistered_devices_are_rejected_when_registration_is_required(
    settings: Settings, publisher: BoundedPublisher, db_url: str
) -> None:
    with connect(db_url) as conn:
        register(conn, settings.site, [("known-1", "sensor", 60.0)])
        conn.commit()
    strict = settings.model_copy(update={"require_registered_devices": True})
    service = IngestService(strict)
    service.start()
    try:
        assert service.subscriber.wait_connected(10)
        for device in ("known-1", "stranger-9"):
            publisher.publish(topics.telemetry(settings.site, device),
                              json.dumps({"ts": _now_ms(), "metrics": {"temp": 1.0}}))
        assert publisher.flush(10)
        wait_until(lambda: service.committed_messages >= 2, what="both messages handled")
    finally:
        service.stop()
    assert scalar(db_url, "SELECT count(*) FROM telemetry WHERE device_id = 'known-1'") == 1
    assert scalar(db_url, "SELECT detail FROM dead_letters WHERE reason = 'unknown_device'") == (
        "device 'stranger-9' is not registered"
    )
