"""Webhook delivery under hostile or slow receivers, against a real receiver, PostgreSQL and Mosquitto: a bad
``Retry-After`` does not crash the dispatcher, an HTTP date is honoured, one attempt has one total deadline even
when the receiver trickles its answer, and a receiver that sleeps delays neither a second one nor the MQTT alerts."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from alerts.delivery_policy import RetryPolicy
from alerts.intake import raise_alert
from alerts.outbox_dispatcher import OutboxDispatcher
from alerts.webhook_admin import create_endpoint, get_delivery, list_deliveries
from alerts.webhook_guard import AddressGuard
from alerts.webhook_secrets import SecretBox
from common import topics
from common.mqtt import BoundedPublisher, Message, Subscriber
from common.settings import Settings
from store.db import connect
from tests.helpers import wait_until
from tests.security.webhook_receiver import Receiver, smoke

FAST = RetryPolicy(base_s=0.05, cap_s=0.2, max_attempts=10, lease_s=20)
ONSITE = AddressGuard(["127.0.0.0/8"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def test_a_bad_retry_after_is_ignored_and_an_http_date_is_honoured(settings: Settings, receiver: Receiver) -> None:
    db_url = settings.require_database_url()
    box = SecretBox.from_settings(settings)
    later = datetime.now(UTC) + timedelta(minutes=10)
    receiver.answers["/sup"] = lambda n: (503, {"retry-after": "\u00b2"}, 0.0) if n == 0 else (200, {}, 0.0)
    receiver.answers["/date"] = lambda _n: (503, {"retry-after": format_datetime(later, usegmt=True)}, 0.0)
    with connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            sup = create_endpoint(conn, receiver.url("/sup"), guard=ONSITE, box=box)["id"]
            dated = create_endpoint(conn, receiver.url("/date"), guard=ONSITE, box=box)["id"]
        with conn.transaction():
            raise_alert(conn, smoke())
        dispatcher = OutboxDispatcher(db_url, None, policy=FAST, guard=ONSITE, box=box)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and list_deliveries(conn, endpoint_id=sup, status="pending"):
            dispatcher.drain_once(conn)  # raised ValueError on "²" before
            time.sleep(0.05)
        assert [d["status"] for d in list_deliveries(conn, endpoint_id=sup)] == ["delivered"]
        waiting = list_deliveries(conn, endpoint_id=dated)
    assert len(receiver.paths("/sup")) == 2
    assert len(receiver.paths("/date")) == 1  # not tried again before the receiver's date
    assert waiting[0]["status"] == "pending"
    next_at = datetime.fromisoformat(waiting[0]["next_attempt_at"])
    assert abs((next_at - later).total_seconds()) < 5


def _trickling_server(stop: threading.Event) -> int:
    """A receiver that starts an answer and then sends one header byte every 0.2 s (per-read timeouts never fire)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve() -> None:
        with listener:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nx-slow: ")
                    while not stop.is_set():
                        try:
                            conn.sendall(b"a")
                        except OSError:
                            break
                        time.sleep(0.2)

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1])


def test_one_attempt_has_one_total_deadline(settings: Settings) -> None:
    db_url = settings.require_database_url()
    box = SecretBox.from_settings(settings)
    stop = threading.Event()
    port = _trickling_server(stop)
    try:
        with connect(db_url, autocommit=True) as conn:
            with conn.transaction():
                endpoint = create_endpoint(conn, f"http://127.0.0.1:{port}/slow", guard=ONSITE, box=box)["id"]
            with conn.transaction():
                raise_alert(conn, smoke())
            dispatcher = OutboxDispatcher(db_url, None, policy=FAST, guard=ONSITE, box=box, http_timeout_s=1.5)
            started = time.monotonic()
            dispatcher.drain_once(conn)
            took = time.monotonic() - started
            row = list_deliveries(conn, endpoint_id=endpoint)[0]
            detail = get_delivery(conn, row["id"])
    finally:
        stop.set()
    assert took < 4, took
    assert detail is not None
    assert detail["attempt_log"][0]["error"] == "no answer within the 1.5 s deadline"
    assert row["status"] == "pending"


def test_a_sleeping_receiver_delays_neither_another_receiver_nor_mqtt(settings: Settings,
                                                                       receiver: Receiver) -> None:
    db_url = settings.require_database_url()
    box = SecretBox.from_settings(settings)
    receiver.answers["/asleep"] = lambda _n: (200, {}, 4.0)
    got: queue.Queue[tuple[float, bytes]] = queue.Queue()

    def on_alert(message: Message) -> None:
        got.put((time.monotonic(), message.payload))

    subscriber = Subscriber(settings.mqtt, [topics.alerts(settings.site)], on_alert, qos=1, persistent=False,
                            manual_ack=False)
    subscriber.start()
    assert subscriber.wait_connected(10)
    publisher = BoundedPublisher(settings.mqtt).start()
    dispatcher = OutboxDispatcher(db_url, publisher, policy=FAST, guard=ONSITE, box=box, idle_s=0.05,
                                  http_timeout_s=8.0)
    try:
        with connect(db_url, autocommit=True) as conn:
            with conn.transaction():
                create_endpoint(conn, receiver.url("/asleep"), guard=ONSITE, box=box)
                create_endpoint(conn, receiver.url("/awake"), guard=ONSITE, box=box)
            with conn.transaction():  # the sleeping receiver's rows come first in the outbox
                for n in range(3):
                    raise_alert(conn, smoke(n, site=settings.site))
        started = time.monotonic()
        dispatcher.start()
        wait_until(lambda: len(receiver.paths("/awake")) == 3, timeout=20, what="the awake receiver's three")
        awake_done = max(s.at for s in receiver.paths("/awake")) - started
        wait_until(lambda: got.qsize() == 3, timeout=20, what="three MQTT alerts")
        mqtt_done = max(at for at, _ in list(got.queue)) - started
        asleep = len(receiver.paths("/asleep"))
    finally:
        dispatcher.stop()
        publisher.close()
        subscriber.stop()
    assert awake_done < 2.0, awake_done  # the sleeping receiver takes 4 s per request
    assert mqtt_done < 2.0, mqtt_done
    assert asleep <= 1  # still on its first request when the others were done
    assert {json.loads(p)["alert"]["site"] for _, p in list(got.queue)} == {settings.site}
