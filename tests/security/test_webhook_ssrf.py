"""The SSRF guard against a real receiver and PostgreSQL: loopback, the cloud metadata address, private and CGNAT
addresses and names that resolve to them are refused before any connection, and the attempt log says which rule
refused, never what answered; on-site receivers pass through the allow-list, pinned to the checked address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from alerts.delivery_policy import RetryPolicy
from alerts.intake import raise_alert
from alerts.outbox_dispatcher import OutboxDispatcher
from alerts.webhook_admin import create_endpoint, get_delivery, list_deliveries
from alerts.webhook_guard import AddressGuard, RefusedAddressError
from alerts.webhook_secrets import SecretBox
from api.app import create_app
from common.settings import Settings
from store.db import connect
from tests.helpers import ADMIN_TOKEN
from tests.security.webhook_receiver import Receiver, smoke

POLICY = RetryPolicy(base_s=60, cap_s=60, max_attempts=3, lease_s=10)
# How these URLs got past registration: an allow-list that has since been narrowed, and names that answered with a
# public address then. Delivery checks every URL again, whatever registration said.
AS_REGISTERED = AddressGuard(["0.0.0.0/0", "::/0"], resolver=lambda _host, _port: ["93.184.215.14"])
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def _attempt_log(db_url: str, endpoint_id: str) -> list[dict[str, object]]:
    with connect(db_url, autocommit=True) as conn:
        rows = list_deliveries(conn, endpoint_id=endpoint_id)
        log: list[dict[str, object]] = []
        for row in rows:
            detail = get_delivery(conn, row["id"])
            assert detail is not None
            log.extend(dict(a) for a in detail["attempt_log"])
        return log


def test_internal_receivers_are_refused_before_connecting(settings: Settings, receiver: Receiver) -> None:
    db_url = settings.require_database_url()
    box = SecretBox.from_settings(settings)
    names = {"loopback.test": ["127.0.0.1"], "rebind.test": ["93.184.215.14", "127.0.0.1"]}
    guard = AddressGuard.from_text(settings.webhook_allow_networks)
    guard.resolver = lambda host, _port: names[host]
    hostile = [receiver.url("/loopback"), f"http://localhost:{receiver.port}/by-name",
               "http://169.254.169.254/latest/meta-data/", "http://10.20.30.40/hook", "http://192.168.1.1/",
               "http://100.64.0.1/cgnat", f"http://[::ffff:127.0.0.1]:{receiver.port}/mapped",
               f"http://loopback.test:{receiver.port}/dns", f"http://rebind.test:{receiver.port}/rebind"]
    guard_for_localhost = AddressGuard()  # the system resolver: localhost is loopback
    with pytest.raises(RefusedAddressError, match="loopback"):
        guard_for_localhost.check(hostile[1])
    with connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            endpoints = [create_endpoint(conn, url, guard=AS_REGISTERED, box=box)["id"]
                         for url in hostile if "localhost" not in url]
        with conn.transaction():
            raise_alert(conn, smoke())
    dispatcher = OutboxDispatcher(db_url, None, policy=POLICY, guard=guard, box=box)
    with connect(db_url, autocommit=True) as conn:
        assert dispatcher.drain_once(conn) == len(endpoints)
    assert receiver.seen == []  # nothing reached the loopback receiver
    for endpoint_id in endpoints:
        log = _attempt_log(db_url, endpoint_id)
        assert len(log) == 1
        assert log[0]["status_code"] is None
        error = str(log[0]["error"])
        assert error.startswith("refused:"), error
        assert "4711" not in error
    metadata = _attempt_log(db_url, endpoints[1])[0]
    assert "link-local address 169.254.169.254" in str(metadata["error"])
    assert "private address 10.20.30.40" in str(_attempt_log(db_url, endpoints[2])[0]["error"])


def test_an_allow_listed_on_site_receiver_is_reached_at_the_checked_address(settings: Settings,
                                                                            receiver: Receiver) -> None:
    settings = settings.model_copy(update={"webhook_allow_networks": "127.0.0.0/8"})
    db_url = settings.require_database_url()
    box = SecretBox.from_settings(settings)
    guard = AddressGuard.from_text(settings.webhook_allow_networks)
    resolved: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    guard.resolver = resolver
    receiver.answers["/moved"] = lambda _n: (302, {"location": "http://169.254.169.254/latest/"}, 0.0)
    with connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            onsite = create_endpoint(conn, f"http://guard-room.estate.test:{receiver.port}/hook", guard=guard,
                                     box=box)["id"]
            moved = create_endpoint(conn, receiver.url("/moved"), guard=guard, box=box)["id"]
        resolved.clear()  # registration resolved the name too; what follows is delivery's own lookup
        with conn.transaction():
            raise_alert(conn, smoke())
    dispatcher = OutboxDispatcher(db_url, None, policy=POLICY, guard=guard, box=box)
    with connect(db_url, autocommit=True) as conn:
        dispatcher.drain_once(conn)
    hook = receiver.paths("/hook")
    assert len(hook) == 1
    assert hook[0].headers["host"] == f"guard-room.estate.test:{receiver.port}"  # pinned, with the original Host
    assert resolved == ["guard-room.estate.test"]  # resolved once, by the guard
    assert _attempt_log(db_url, onsite)[0]["status_code"] == 200
    assert len(receiver.paths("/moved")) == 1  # the redirect was not followed
    redirect = _attempt_log(db_url, moved)[0]
    assert redirect["error"] == "HTTP 302: redirects are not followed"


INTERNAL = {"http://127.0.0.1/": "loopback address 127.0.0.1", "http://169.254.169.254/latest/meta-data/":
            "link-local address 169.254.169.254", "http://10.1.2.3:8080/hook": "private address 10.1.2.3"}


def test_registration_refuses_internal_receivers_with_the_reason(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        for url, reason in INTERNAL.items():
            answer = client.post("/api/v1/webhooks/endpoints", headers=ADMIN, json={"url": url})
            assert answer.status_code == 422, url
            assert reason in answer.json()["detail"]
            assert "EW_WEBHOOK_ALLOW_NETWORKS" in answer.json()["detail"]
        unknown = client.post("/api/v1/webhooks/endpoints", headers=ADMIN, json={"url": "https://nowhere.invalid/"})
        assert unknown.status_code == 422
        assert "does not resolve" in unknown.json()["detail"]
        public = client.post("/api/v1/webhooks/endpoints", headers=ADMIN, json={"url": "https://93.184.215.14/h"})
        assert public.status_code == 201
        moved = client.patch(f"/api/v1/webhooks/endpoints/{public.json()['id']}", headers=ADMIN,
                             json={"url": "http://169.254.169.254/latest/"})
        assert moved.status_code == 422  # a change of URL is checked like a registration
        assert "link-local" in moved.json()["detail"]
        listed = client.get("/api/v1/webhooks/endpoints", headers=ADMIN).json()["endpoints"]
    assert [e["url"] for e in listed] == ["https://93.184.215.14/h"]  # nothing refused was stored


def test_registration_accepts_internal_receivers_inside_the_allow_list(settings: Settings) -> None:
    onsite = settings.model_copy(update={"webhook_allow_networks": "127.0.0.0/8, 169.254.169.254/32, 10.0.0.0/8"})
    with TestClient(create_app(onsite)) as client:
        for url in INTERNAL:
            answer = client.post("/api/v1/webhooks/endpoints", headers=ADMIN, json={"url": url})
            assert answer.status_code == 201, answer.text
        outside = client.post("/api/v1/webhooks/endpoints", headers=ADMIN, json={"url": "http://192.168.1.1/"})
        assert outside.status_code == 422  # the allow-list opens only what it names
        assert "private address 192.168.1.1" in outside.json()["detail"]
