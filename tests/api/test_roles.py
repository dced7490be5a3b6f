"""Roles and sessions through the real API (PostgreSQL, Mosquitto): a viewer cannot act, an operator cannot
configure, cookie sessions need the CSRF token on unsafe methods, and role changes take effect at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from alerts.drafts import AlertDraft
from api.app import create_app
from api.security import create_user, token_hash
from common.settings import Settings
from store.accounts import add_token
from store.db import connect
from tests.helpers import ADMIN_TOKEN, raise_committed

PASSWORD = "correct horse battery"


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://console.test") as client:
        yield client


@pytest.fixture
def accounts(settings: Settings) -> dict[str, str]:
    """A console user per role, plus a viewer API token; maps role to user name."""
    names = {"viewer": "vera", "operator": "oscar", "admin": "ada"}
    with connect(settings.require_database_url()) as conn:
        for role, name in names.items():
            create_user(conn, name, PASSWORD, role)
        add_token(conn, token_hash("viewer-token-0123456789"), "wall-display", "viewer")
        conn.commit()
    return names


@pytest.fixture
def alert_id(settings: Settings) -> str:
    draft = AlertDraft(type="smoke", severity="critical", dedup_key="smoke:b3-12", title="Smoke in 3-1201",
                       site=settings.site, occurred_at=datetime.now(UTC), subject={"building": "3", "floor": 12})
    return raise_committed(settings, draft)


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign in with a cookie session; returns the headers an unsafe request must carry (the CSRF token)."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _status(settings: Settings, alert: str) -> str:
    with connect(settings.require_database_url()) as conn:
        row = conn.execute("SELECT status FROM alerts WHERE id = %s", (alert,)).fetchone()
    assert row is not None
    return str(row["status"])


def test_viewer_reads_but_cannot_act(app_client: TestClient, accounts: dict[str, str], alert_id: str,
                                     settings: Settings) -> None:
    csrf = _login(app_client, accounts["viewer"])
    listed = app_client.get("/api/v1/alerts")
    assert listed.status_code == 200
    assert alert_id in listed.text
    assert app_client.post(f"/api/v1/alerts/{alert_id}/ack", headers=csrf).status_code == 403
    assert app_client.post(f"/api/v1/alerts/{alert_id}/resolve", headers=csrf,
                           json={"resolution": "false_positive"}).status_code == 403
    bearer = {"Authorization": "Bearer viewer-token-0123456789"}
    app_client.cookies.clear()
    assert app_client.post(f"/api/v1/alerts/{alert_id}/ack", headers=bearer).status_code == 403
    assert _status(settings, alert_id) == "open"


def test_operator_acts_but_cannot_configure(app_client: TestClient, accounts: dict[str, str], alert_id: str,
                                            settings: Settings) -> None:
    csrf = _login(app_client, accounts["operator"])
    assert app_client.post(f"/api/v1/alerts/{alert_id}/ack", headers=csrf).status_code == 200
    assert _status(settings, alert_id) == "acknowledged"
    new_user = {"username": "mallory", "password": PASSWORD, "role": "admin"}
    assert app_client.post("/api/v1/users", json=new_user, headers=csrf).status_code == 403
    assert app_client.patch("/api/v1/users/oscar", json={"role": "admin"}, headers=csrf).status_code == 403
    assert app_client.get("/api/v1/users").status_code == 403
    assert app_client.get("/api/v1/auth/me").json()["role"] == "operator"

    app_client.cookies.clear()
    admin = _login(app_client, accounts["admin"])
    assert app_client.post("/api/v1/users", json=new_user, headers=admin).status_code == 201
    assert "mallory" in [u["username"] for u in app_client.get("/api/v1/users").json()]


def test_cookie_session_needs_the_csrf_token(app_client: TestClient, accounts: dict[str, str],
                                             alert_id: str, settings: Settings) -> None:
    csrf = _login(app_client, accounts["operator"])
    url = f"/api/v1/alerts/{alert_id}/ack"
    missing = app_client.post(url)
    assert missing.status_code == 403
    assert "CSRF" in missing.json()["detail"]
    assert app_client.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert _status(settings, alert_id) == "open"
    assert app_client.post(url, headers=csrf).status_code == 200
    # a bearer token is not ambient: no CSRF token needed
    app_client.cookies.clear()
    other = _login(app_client, accounts["admin"])
    logout_without_token = app_client.post("/api/v1/auth/logout")
    assert logout_without_token.status_code == 403
    assert app_client.post("/api/v1/auth/logout", headers=other).status_code == 204
    assert app_client.get("/api/v1/auth/me").status_code == 401
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert app_client.post("/api/v1/users", headers=bearer,
                           json={"username": "sam", "password": PASSWORD, "role": "viewer"}).status_code == 201


def test_login_sets_a_strict_httponly_cookie(app_client: TestClient, accounts: dict[str, str]) -> None:
    assert app_client.post("/api/v1/auth/login", json={"username": "oscar", "password": "wrong"}).status_code == 401
    assert app_client.post("/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    hostile = app_client.post("/api/v1/auth/login", json={"username": "oscar", "password": PASSWORD},
                              headers={"Origin": "https://evil.example"})
    assert hostile.status_code == 403
    response = app_client.post("/api/v1/auth/login", json={"username": "oscar", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "ew_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    me = app_client.get("/api/v1/auth/me").json()
    assert (me["name"], me["role"], me["via"]) == ("oscar", "operator", "session")
    assert me["csrf_token"] == response.json()["csrf_token"]
    # an enabled admin user exists (ada), so the admin token's bootstrap is over: it opens no session any more
    app_client.cookies.clear()
    assert app_client.post("/api/v1/auth/login", json={"token": ADMIN_TOKEN}).status_code == 401
    as_admin = app_client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_TOKEN})
    assert as_admin.status_code == 401
    refused = app_client.post("/api/v1/auth/login", json={"username": "oscar", "password": ADMIN_TOKEN})
    assert refused.status_code == 401


def test_role_change_and_disabling_end_sessions(app_client: TestClient, accounts: dict[str, str]) -> None:
    operator = TestClient(app_client.app, base_url="http://console.test")
    _login(operator, accounts["operator"])
    assert operator.get("/api/v1/auth/me").json()["role"] == "operator"
    admin = _login(app_client, accounts["admin"])
    assert app_client.patch("/api/v1/users/oscar", json={"role": "viewer"}, headers=admin).status_code == 200
    assert operator.get("/api/v1/auth/me").status_code == 401  # the old session ended with the change
    _login(operator, accounts["operator"])
    assert operator.get("/api/v1/auth/me").json()["role"] == "viewer"
    assert app_client.patch("/api/v1/users/oscar", json={"disabled": True}, headers=admin).status_code == 200
    assert operator.get("/api/v1/auth/me").status_code == 401
    refused = operator.post("/api/v1/auth/login", json={"username": "oscar", "password": PASSWORD})
    assert refused.status_code == 401
    assert app_client.patch("/api/v1/users/nobody", json={"disabled": True}, headers=admin).status_code == 404
    assert app_client.patch("/api/v1/users/ada", json={"role": "viewer"}, headers=admin).status_code == 409
