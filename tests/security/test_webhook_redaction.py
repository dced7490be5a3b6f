"""Resident personal data leaves the estate redacted: a real receiver, the MQTT alerts topic on a real broker and
the process's logs get the pseudonymous resident id and the unit, never names, phones, contacts or reasons."""

from __future__ import annotations

import json
import logging
import queue
from datetime import UTC, datetime

import pytest

from alerts.delivery_policy import RetryPolicy
from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.outbox_dispatcher import OutboxDispatcher
from alerts.payloads import install_log_redaction
from alerts.webhook_admin import create_endpoint
from alerts.webhook_guard import AddressGuard
from alerts.webhook_secrets import SecretBox
from common import topics
from common.mqtt import BoundedPublisher, Subscriber
from common.settings import Settings
from store.db import connect
from tests.helpers import wait_until
from tests.security.webhook_receiver import Receiver

PERSONAL = ["Wang Fang", "13800138000", "138 0013 8000", "Li Ming", "cardiology", "daughter"]


def _draft(site: str) -> AlertDraft:
    return AlertDraft(
        type="elderly_not_out", severity="major", dedup_key="elderly_not_out:r-77", site=site,
        title="Resident r-77 (A-1201) has not gone out for 24 h; call +86 138 0013 8000",
        occurred_at=datetime.now(UTC),
        subject={"resident": "r-77", "unit": "A-1201", "building": "A", "floor": 12, "name": "Wang Fang",
                 "phone": "13800138000"},
        details={"hours": 25.5, "away_reason": "hospital: cardiology",
                 "contacts": [{"name": "Li Ming", "relation": "daughter", "phone": "13800138000"}],
                 "explanation": "no exit since the gate at 08:10; ring 13800138000"})


def test_webhooks_and_mqtt_alerts_carry_no_personal_data(settings: Settings) -> None:
    db_url = settings.require_database_url()
    box = SecretBox.from_settings(settings)
    receiver = Receiver()
    got: queue.Queue[bytes] = queue.Queue()
    subscriber = Subscriber(settings.mqtt, [topics.alerts(settings.site)], lambda m: got.put(m.payload), qos=1,
                            persistent=False, manual_ack=False)
    subscriber.start()
    assert subscriber.wait_connected(10)
    publisher = BoundedPublisher(settings.mqtt).start()
    try:
        with connect(db_url, autocommit=True) as conn:
            with conn.transaction():
                create_endpoint(conn, receiver.url("/hook"), guard=AddressGuard(["127.0.0.0/8"]), box=box)
            with conn.transaction():
                raise_alert(conn, _draft(settings.site))
            dispatcher = OutboxDispatcher(db_url, publisher, guard=AddressGuard(["127.0.0.0/8"]), box=box,
                                          policy=RetryPolicy(lease_s=10))
            dispatcher.drain_once(conn)
        wait_until(lambda: got.qsize() == 1, what="the MQTT alert")
        bodies = [receiver.paths("/hook")[0].body.decode(), got.get().decode()]
    finally:
        publisher.close()
        subscriber.stop()
        receiver.stop()
    for body in bodies:
        for text in PERSONAL:
            assert text not in body, text
        data = json.loads(body)
        alert = data["data"]["alert"] if "data" in data else data["alert"]
        assert alert["subject"]["resident"] == "r-77"
        assert alert["subject"]["unit"] == "A-1201"
        assert alert["details"]["hours"] == 25.5
        assert alert["subject"]["name"] == "[redacted]"
        assert alert["details"]["contacts"] == "[redacted]"
        assert "A-1201" in alert["title"]


def test_logs_carry_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    log = logging.getLogger("alerts.test")
    with caplog.at_level(logging.INFO):
        log.info("resident %s in %s: phone=%s, name: %r", "r-77", "A-1201", "13800138000", "Wang Fang")
        log.warning('import row {"resident": "r-78", "away_reason": "hospital"} from +86 138 0013 8000')
    text = caplog.text
    assert "r-77" in text
    assert "A-1201" in text
    for personal in ("13800138000", "Wang Fang", "hospital", "138 0013 8000"):
        assert personal not in text, personal
