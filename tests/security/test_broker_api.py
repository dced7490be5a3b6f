"""The admin API for broker accounts: only admins use it, secrets appear once and uncached, errors keep their
meaning (409, 404, 422, 503), and issued devices are registered devices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import issue_token
from common.settings import Settings
from estatewatch.broker_accounts import BrokerAccounts, BrokerReloadError, Kind, verify_password
from estatewatch.wiring import ApiBrokerAccounts
from store.db import connect
from tests.helpers import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BASE = "/api/v1/broker/accounts"


class FailingReloader:
    """A broker that cannot be reached: the reload is the boundary this test fakes."""

    def reload(self) -> None:
        raise BrokerReloadError("cannot signal the broker (pid 1): Operation not permitted")


@pytest.fixture
def registry(tmp_path: Path) -> BrokerAccounts:
    return BrokerAccounts(tmp_path / "broker-auth")


@pytest.fixture
def client(settings: Settings, registry: BrokerAccounts) -> Iterator[TestClient]:
    app = create_app(settings, broker_accounts=ApiBrokerAccounts(registry))
    with TestClient(app) as test_client:
        yield test_client


def _token(settings: Settings, role: str) -> dict[str, str]:
    with connect(settings.require_database_url()) as conn:
        _, token = issue_token(conn, f"{role}-integration", role)
        conn.commit()
    return {"Authorization": f"Bearer {token}"}


def test_issue_shows_the_secret_once_uncached_and_registers_the_device(
        client: TestClient, settings: Settings, registry: BrokerAccounts) -> None:
    body = {"kind": "unit", "device_id": "door-t1-0101", "unit": "t1-0101", "leaves": ["door"]}
    made = client.post(BASE, json=body, headers=ADMIN)
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    data = made.json()
    assert data["account"]["topics"] == [
        {"access": "write", "topic": f"estate/{settings.site}/unit/t1-0101/door"},
        {"access": "write", "topic": f"estate/{settings.site}/device/door-t1-0101/status"}]
    stored = registry.accounts()[0]
    assert verify_password(data["password"], stored.password_hash)
    assert data["password"] not in registry.registry_file.read_text()
    assert data["mqtt_url"].startswith(f"mqtt://door-t1-0101:{data['password']}@")
    listed = client.get(BASE, headers=ADMIN)
    assert listed.status_code == 200
    assert "password" not in listed.text
    assert [a["username"] for a in listed.json()["accounts"]] == ["door-t1-0101"]
    with connect(settings.require_database_url()) as conn:
        row = conn.execute("SELECT kind, registered FROM devices WHERE device_id = 'door-t1-0101'").fetchone()
    assert row == {"kind": "unit", "registered": True}


def test_rotate_and_revoke(client: TestClient, registry: BrokerAccounts) -> None:
    first = client.post(BASE, json={"kind": "camera", "device_id": "cam-9"}, headers=ADMIN).json()["password"]
    rotated = client.post(f"{BASE}/cam-9/rotate", headers=ADMIN)
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    second = rotated.json()["password"]
    assert second != first
    assert verify_password(second, registry.accounts()[0].password_hash)
    assert not verify_password(first, registry.accounts()[0].password_hash)
    assert client.delete(f"{BASE}/cam-9", headers=ADMIN).status_code == 204
    assert registry.accounts() == []
    assert "cam-9" not in registry.password_file.read_text()


def test_errors_keep_their_meaning(client: TestClient, registry: BrokerAccounts) -> None:
    assert client.post(BASE, json={"kind": "sensor", "device_id": "s-1"}, headers=ADMIN).status_code == 201
    again = client.post(BASE, json={"kind": "sensor", "device_id": "s-1"}, headers=ADMIN)
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]
    bad = client.post(BASE, json={"kind": "sensor", "device_id": "ew.ingest.x"}, headers=ADMIN)
    assert bad.status_code == 422
    assert "reserved" in bad.json()["detail"]
    assert client.post(f"{BASE}/nobody/rotate", headers=ADMIN).status_code == 404
    assert client.delete(f"{BASE}/nobody", headers=ADMIN).status_code == 404
    registry.reloader = FailingReloader()
    down = client.post(f"{BASE}/s-1/rotate", headers=ADMIN)
    assert down.status_code == 503
    assert "cannot signal the broker" in down.json()["detail"]


def test_accounts_of_another_site_are_out_of_reach(client: TestClient, registry: BrokerAccounts) -> None:
    registry.issue(Kind.SENSOR, "other-estate", "s-other")
    assert client.get(BASE, headers=ADMIN).json() == {"accounts": []}
    assert client.post(f"{BASE}/s-other/rotate", headers=ADMIN).status_code == 404
    assert client.delete(f"{BASE}/s-other", headers=ADMIN).status_code == 404
    assert [a.username for a in registry.accounts()] == ["s-other"]


def test_only_admins(client: TestClient, settings: Settings, registry: BrokerAccounts) -> None:
    routes = [("get", BASE, None), ("post", BASE, {"kind": "sensor", "device_id": "s-x"}),
              ("post", f"{BASE}/s-x/rotate", None), ("delete", f"{BASE}/s-x", None)]
    callers = {"anonymous": ({}, 401), "viewer": (_token(settings, "viewer"), 403),
               "operator": (_token(settings, "operator"), 403)}
    for who, (headers, expected) in callers.items():
        for method, path, body in routes:
            response = client.request(method.upper(), path, json=body, headers=headers)
            assert response.status_code == expected, (who, method, path, response.text)
    assert registry.accounts() == []


def test_without_a_registry_the_routes_say_so(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get(BASE, headers=ADMIN)
    assert response.status_code == 503
    assert "not managed" in response.json()["detail"]
