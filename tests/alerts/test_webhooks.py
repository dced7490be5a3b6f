"""Webhook delivery to a real local HTTP receiver: down, then failing, then up; signatures checked with the
``standardwebhooks`` library; 410 disables the endpoint; dead letters redelivered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from alerts import actions
from alerts.delivery_policy import RetryPolicy
from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.outbox_dispatcher import OutboxDispatcher
from alerts.webhook_admin import create_endpoint, get_delivery, get_endpoint, list_deliveries, update_endpoint
from alerts.webhook_guard import AddressGuard
from alerts.webhook_signing import retry_after_seconds, sign
from estatewatch.embedded import free_port
from store import outbox
from store.db import Conn, connect

LOOPBACK = AddressGuard(["127.0.0.0/8"])  # the test receivers run on this machine: allow-listed like an on-site one

FAST = RetryPolicy(base_s=0.05, cap_s=0.3, max_attempts=30, lease_s=5)


class Receiver:
    """A webhook receiver on loopback: answers from a script of status codes, then 200."""

    def __init__(self, port: int, script: list[tuple[int, dict[str, str]]]) -> None:
        self.port, self.script = port, list(script)
        self.requests: list[tuple[dict[str, str], str, float]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body.decode(), time.monotonic()))
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def port() -> int:
    return free_port()


def _draft(n: int = 1) -> AlertDraft:
    return AlertDraft(type="smoke", severity="critical", dedup_key=f"smoke:dev-{n}", title="Smoke", site="s1",
                      occurred_at=datetime.now(UTC), subject={"device": f"dev-{n}", "building": "A", "floor": 3})


def _drain_until(db_url: str, done: Callable[[Conn], bool], timeout: float = 20.0) -> None:
    dispatcher = OutboxDispatcher(db_url, None, policy=FAST, guard=LOOPBACK)
    deadline = time.monotonic() + timeout
    with connect(db_url, autocommit=True) as conn, httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            dispatcher.drain_once(conn, client)
            if done(conn):
                return
            time.sleep(0.02)
    raise AssertionError("outbox did not drain in time")


def test_receiver_down_then_up_gets_every_change_signed_and_deduplicable(db_url: str, port: int) -> None:
    with connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            endpoint = create_endpoint(conn, f"http://127.0.0.1:{port}/hook", guard=LOOPBACK,
                                       description="control room")
        with conn.transaction():
            alert_id = raise_alert(conn, _draft())
        with conn.transaction():
            actions.acknowledge(conn, alert_id, "li.wei", datetime.now(UTC))
            actions.resolve(conn, alert_id, "true_positive", "li.wei", datetime.now(UTC))
    # the receiver is down (nothing listens) for a while
    deadline = time.monotonic() + 0.6
    with connect(db_url, autocommit=True) as conn, httpx.Client(timeout=1) as client:
        dispatcher = OutboxDispatcher(db_url, None, policy=FAST, guard=LOOPBACK)
        while time.monotonic() < deadline:
            dispatcher.drain_once(conn, client)
            time.sleep(0.02)
        refused: dict[str, Any] | None = conn.execute(
            "SELECT count(*) AS n FROM delivery_attempts WHERE status_code IS NULL").fetchone()
        assert refused is not None
        assert refused["n"] >= 3
    receiver = Receiver(port, [(503, {"retry-after": "1"}), (500, {}), (429, {"retry-after": "1"})]).start()
    try:
        _drain_until(db_url, lambda c: not list_deliveries(c, status="pending"))
    finally:
        receiver.stop()

    verifier = Webhook(endpoint["secret"])
    seen: dict[str, str] = {}
    for headers, body, _ in receiver.requests:
        verifier.verify(body, headers)  # raises when the signature or timestamp is wrong
        msg_id = headers["webhook-id"]
        assert seen.setdefault(msg_id, body) == body, "a retry carries the same id and body"
    events = [json.loads(b) for b in seen.values()]
    assert sorted(e["type"] for e in events) == ["alert.new", "alert.resolved", "alert.update"]
    assert {e["data"]["alert"]["id"] for e in events} == {alert_id}
    assert len(receiver.requests) == 6  # three changes + three answered with errors
    with connect(db_url, autocommit=True) as conn:
        rows = list_deliveries(conn)
        assert {r["status"] for r in rows} == {"delivered"}
        assert {r["msg_id"] for r in rows} == set(seen)
        retried = [get_delivery(conn, r["id"]) for r in rows if r["attempts"] > 1]
        assert retried
        for delivery in retried:  # every attempt is recorded
            assert delivery is not None
            assert len(delivery["attempt_log"]) == delivery["attempts"]


def test_retry_after_is_honoured(db_url: str, port: int) -> None:
    receiver = Receiver(port, [(503, {"retry-after": "1"})]).start()
    try:
        with connect(db_url, autocommit=True) as conn, conn.transaction():
            create_endpoint(conn, f"http://127.0.0.1:{port}/hook", guard=LOOPBACK)
            raise_alert(conn, _draft())
        _drain_until(db_url, lambda c: not list_deliveries(c, status="pending"))
    finally:
        receiver.stop()
    assert len(receiver.requests) == 2
    assert receiver.requests[1][2] - receiver.requests[0][2] >= 0.95


def test_gone_disables_the_endpoint_and_dead_letters_can_be_redelivered(db_url: str, port: int) -> None:
    receiver = Receiver(port, [(410, {})]).start()
    try:
        with connect(db_url, autocommit=True) as conn:
            with conn.transaction():
                endpoint = create_endpoint(conn, f"http://127.0.0.1:{port}/hook", guard=LOOPBACK)
                raise_alert(conn, _draft(1))
                raise_alert(conn, _draft(2))
            _drain_until(db_url, lambda c: not list_deliveries(c, status="pending"))
            dead = list_deliveries(conn, status="dead")
            assert len(dead) == 2
            with conn.transaction():
                ep = get_endpoint(conn, endpoint["id"])
                assert ep is not None
                assert ep["enabled"] is False
                assert "410" in str(ep["disabled_reason"])
                raise_alert(conn, _draft(3))  # a disabled endpoint gets no new rows
            assert len(list_deliveries(conn)) == 2
            with conn.transaction():
                update_endpoint(conn, endpoint["id"], guard=LOOPBACK, enabled=True)
                for row in dead:
                    assert outbox.redeliver(conn, row["id"], datetime.now(UTC))
            _drain_until(db_url, lambda c: not list_deliveries(c, status="pending"))
            assert {r["status"] for r in list_deliveries(conn)} == {"delivered"}
    finally:
        receiver.stop()
    ids = [h["webhook-id"] for h, _, _ in receiver.requests]
    assert len(ids) == 3
    assert ids[0] in ids[1:]


def test_signature_matches_the_specification_example() -> None:
    # the example of the Standard Webhooks specification: a fixed secret, id, timestamp and body
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert retry_after_seconds("120", datetime.now(UTC)) == 120.0
    assert retry_after_seconds("soon", datetime.now(UTC)) is None
