"""Webhook secrets through the real API and PostgreSQL: empty ones are refused, they are stored encrypted
(AES-GCM, key from the settings), and a rotation signs every delivery with both secrets during its overlap."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from standardwebhooks import Webhook

from alerts.delivery_policy import RetryPolicy
from alerts.intake import raise_alert
from alerts.outbox_dispatcher import OutboxDispatcher
from alerts.webhook_admin import create_endpoint
from alerts.webhook_guard import AddressGuard
from alerts.webhook_secrets import SecretBox, SecretKeyError
from alerts.webhook_signing import verify
from api.app import create_app
from common.settings import Settings
from store.db import connect
from tests.helpers import ADMIN_TOKEN
from tests.security.webhook_receiver import Receiver, smoke

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
KEY = base64.b64encode(bytes(range(32))).decode()
PUBLIC = "https://93.184.215.14/x"  # a public address, so the URL passes the guard without a DNS lookup
POLICY = RetryPolicy(base_s=60, cap_s=60, max_attempts=3, lease_s=10)


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    # the receivers of these tests run on this machine: allow-listed explicitly, like an on-site receiver
    return settings.model_copy(update={"webhook_secret_key": SecretStr(KEY), "webhook_allow_networks": "127.0.0.0/8"})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def test_empty_and_malformed_secrets_are_refused(keyed: Settings) -> None:
    with TestClient(create_app(keyed)) as client:
        for secret in ("whsec_", "whsec_AAAA", "whsec_not base64!", "plain"):
            answer = client.post("/api/v1/webhooks/endpoints", headers=AUTH,
                                 json={"url": PUBLIC, "secret": secret})
            assert answer.status_code == 422, secret
    with connect(keyed.require_database_url()) as conn:
        with pytest.raises(ValueError, match="at least 24 bytes"):
            create_endpoint(conn, PUBLIC, guard=AddressGuard(), secret="whsec_", box=SecretBox.from_settings(keyed))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO webhook_endpoints (id, url, secret) VALUES ('ep_x', 'https://x', '')")


def test_secrets_are_encrypted_at_rest(keyed: Settings) -> None:
    with TestClient(create_app(keyed)) as client:
        created = client.post("/api/v1/webhooks/endpoints", headers=AUTH,
                              json={"url": PUBLIC}).json()
    secret = created["secret"]
    assert secret.startswith("whsec_")
    with connect(keyed.require_database_url()) as conn:
        row = conn.execute("SELECT secret FROM webhook_endpoints WHERE id = %s", (created["id"],)).fetchone()
    assert row is not None
    stored = str(row["secret"])
    assert stored.startswith("enc:v1:")
    assert secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    assert SecretBox.from_settings(keyed).open(created["id"], stored) == secret
    other = SecretBox(bytes(32))
    with pytest.raises(SecretKeyError):
        other.open(created["id"], stored)
    with pytest.raises(SecretKeyError):  # sealed for one endpoint, useless on another
        SecretBox.from_settings(keyed).open("ep_other", stored)


def test_a_rotation_signs_with_both_secrets_during_the_overlap(keyed: Settings, receiver: Receiver) -> None:
    db_url = keyed.require_database_url()
    box = SecretBox.from_settings(keyed)
    with TestClient(create_app(keyed)) as client:
        created = client.post("/api/v1/webhooks/endpoints", headers=AUTH, json={"url": receiver.url("/hook")}).json()
        rotated = client.post(f"/api/v1/webhooks/endpoints/{created['id']}/rotate-secret", headers=AUTH,
                              json={"overlap_s": 3600}).json()
        assert rotated["secret"] != created["secret"]
        assert rotated["previous_secret_until"] is not None
        listed = client.get("/api/v1/webhooks/endpoints", headers=AUTH).json()["endpoints"]
        assert all("secret" not in e for e in listed)
    dispatcher = OutboxDispatcher(db_url, None, policy=POLICY, guard=AddressGuard(["127.0.0.0/8"]), box=box)
    with connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            raise_alert(conn, smoke())
        dispatcher.drain_once(conn)
    first = receiver.paths("/hook")[0]
    signatures = first.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    ts = int(first.headers["webhook-timestamp"])
    body = first.body.decode()
    for secret in (created["secret"], rotated["secret"]):  # receivers on either secret verify
        assert verify(secret, first.headers["webhook-id"], ts, body, first.headers["webhook-signature"])
        Webhook(secret).verify(first.body, first.headers)
    with TestClient(create_app(keyed)) as client:
        client.post(f"/api/v1/webhooks/endpoints/{created['id']}/rotate-secret", headers=AUTH,
                    json={"overlap_s": 0})
    with connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            raise_alert(conn, smoke(2))
        dispatcher.drain_once(conn)
    second = receiver.paths("/hook")[-1]
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    assert not verify(created["secret"], second.headers["webhook-id"], int(second.headers["webhook-timestamp"]),
                      second.body.decode(), second.headers["webhook-signature"])
