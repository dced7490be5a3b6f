"""Sessions and tokens through the real API (PostgreSQL, Mosquitto): a session lives no longer than the credential
that opened it, no session outlives its absolute lifetime, the admin token stops being a password once a real
admin exists, and integrator tokens are issued, listed and revoked by API and command line."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from api.security import create_user, token_hash
from common.settings import Settings
from estatewatch.cli import app as cli
from store.accounts import add_token
from store.db import connect
from tests.helpers import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PASSWORD = "correct horse battery"


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url="http://console.test")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with _client(settings) as opened:
        yield opened


def _issue(client: TestClient, name: str, role: str) -> tuple[int, str]:
    response = client.post("/api/v1/tokens", json={"name": name, "role": role}, headers=ADMIN)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["token"]


def _sql(settings: Settings, query: str, params: tuple[object, ...] = ()) -> None:
    with connect(settings.require_database_url()) as conn:
        conn.execute(query.encode(), params)
        conn.commit()


def test_a_session_opened_with_a_token_ends_when_the_token_is_revoked(client: TestClient,
                                                                    settings: Settings) -> None:
    token = "wall-display-token-0123456789"
    with connect(settings.require_database_url()) as conn:
        add_token(conn, token_hash(token), "wall-display", "viewer")
        conn.commit()
    assert client.post("/api/v1/auth/login", json={"token": token}).status_code == 200
    assert client.get("/api/v1/auth/me").json()["via"] == "session"
    # revoked behind the API's back, straight in the table: the session must still notice
    _sql(settings, "UPDATE api_tokens SET revoked_at = now() WHERE token_sha256 IS NOT NULL")
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/alerts").status_code == 401


def test_revoking_through_the_api_ends_bearer_use_and_sessions(client: TestClient) -> None:
    token_id, token = _issue(client, "bms-building-3", "operator")
    other = TestClient(client.app, base_url="http://console.test")
    assert other.post("/api/v1/auth/login", json={"token": token}).status_code == 200
    assert client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=ADMIN).status_code == 204
    assert client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert other.get("/api/v1/auth/me").status_code == 401
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=ADMIN).status_code == 404


def test_rotating_the_admin_token_ends_its_sessions(settings: Settings) -> None:
    with _client(settings) as before:
        assert before.post("/api/v1/auth/login", json={"token": ADMIN_TOKEN}).status_code == 200
        assert before.get("/api/v1/users").status_code == 200
        cookies = dict(before.cookies)
    rotated = settings.model_copy(update={"admin_token": SecretStr("a-brand-new-admin-token-9876543210")})
    with _client(rotated) as after:
        after.cookies.update(cookies)
        assert after.get("/api/v1/auth/me").status_code == 401
        assert after.get("/api/v1/users").status_code == 401


def test_every_session_has_an_absolute_lifetime(client: TestClient, settings: Settings) -> None:
    with connect(settings.require_database_url()) as conn:
        create_user(conn, "oscar", PASSWORD, "operator")
        conn.commit()
    assert client.post("/api/v1/auth/login", json={"username": "oscar", "password": PASSWORD}).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200
    # busy all along (seen a moment ago, idle expiry far ahead) but signed in longer than session_max_hours
    _sql(settings, "UPDATE sessions SET created_at = now() - %s * interval '1 hour', last_seen = now(),"
         " expires_at = now() + interval '1 hour'", (settings.session_max_hours + 1,))
    assert client.get("/api/v1/auth/me").status_code == 401
    # and the sliding idle expiry never reaches past the absolute end
    assert client.post("/api/v1/auth/login", json={"username": "oscar", "password": PASSWORD}).status_code == 200
    _sql(settings, "UPDATE sessions SET last_seen = now() - interval '2 minutes'")
    assert client.get("/api/v1/auth/me").status_code == 200
    with connect(settings.require_database_url()) as conn:
        row = conn.execute(b"SELECT expires_at <= created_at + %s * interval '1 hour' AS bounded FROM sessions",
                           (settings.session_max_hours,)).fetchone()
    assert row is not None
    assert row["bounded"] is True


def test_the_admin_token_only_bootstraps_the_first_admin(client: TestClient, settings: Settings) -> None:
    first = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_TOKEN})
    assert first.status_code == 200
    csrf = {"X-CSRF-Token": first.json()["csrf_token"]}
    created = client.post("/api/v1/users", headers=csrf,
                          json={"username": "ada", "password": PASSWORD, "role": "admin"})
    assert created.status_code == 201
    # a real admin exists: the token's session is over, and it opens no new one, by either form
    assert client.get("/api/v1/auth/me").status_code == 401
    client.cookies.clear()
    assert client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_TOKEN}).status_code == 401
    assert client.post("/api/v1/auth/login", json={"token": ADMIN_TOKEN}).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD}).status_code == 200
    # the admin token still works as a bearer token for automation (rotate it with EW_ADMIN_TOKEN)
    assert client.get("/api/v1/users", headers=ADMIN).status_code == 200


def test_admin_token_login_never_and_always(settings: Settings) -> None:
    with _client(settings.model_copy(update={"admin_token_login": "never"})) as never:
        assert never.post("/api/v1/auth/login", json={"token": ADMIN_TOKEN}).status_code == 401
    with connect(settings.require_database_url()) as conn:
        create_user(conn, "ada", PASSWORD, "admin")
        conn.commit()
    with _client(settings.model_copy(update={"admin_token_login": "always"})) as always:
        assert always.post("/api/v1/auth/login", json={"token": ADMIN_TOKEN}).status_code == 200
        assert always.get("/api/v1/users").status_code == 200


def test_integrator_tokens_carry_their_role_and_are_listed_without_secrets(client: TestClient) -> None:
    viewer_id, viewer = _issue(client, "wall-display", "viewer")
    _, operator = _issue(client, "night-desk", "operator")
    listed = client.get("/api/v1/tokens", headers=ADMIN)
    assert listed.status_code == 200
    assert {(t["name"], t["role"]) for t in listed.json()} == {("wall-display", "viewer"), ("night-desk", "operator")}
    assert viewer not in listed.text
    assert operator not in listed.text
    assert all(t["created_by"] == "admin" for t in listed.json())
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    as_operator = {"Authorization": f"Bearer {operator}"}
    assert client.get("/api/v1/alerts", headers=as_viewer).status_code == 200
    assert client.post("/api/v1/alerts/no-such/ack", headers=as_viewer).status_code == 403
    # nobody but an admin issues, lists or revokes tokens
    for headers in (as_viewer, as_operator):
        assert client.post("/api/v1/tokens", json={"name": "x", "role": "admin"}, headers=headers).status_code == 403
        assert client.get("/api/v1/tokens", headers=headers).status_code == 403
        assert client.delete(f"/api/v1/tokens/{viewer_id}", headers=headers).status_code == 403
    assert client.post("/api/v1/tokens", json={"name": "x", "role": "root"}, headers=ADMIN).status_code == 422
    assert client.delete(f"/api/v1/tokens/{viewer_id}", headers=ADMIN).status_code == 204
    assert [t["name"] for t in client.get("/api/v1/tokens", headers=ADMIN).json()] == ["night-desk"]
    revoked = client.get("/api/v1/tokens", params={"include_revoked": True}, headers=ADMIN).json()
    assert {t["name"] for t in revoked if t["revoked_at"]} == {"wall-display"}


def test_an_expired_token_stops_working(client: TestClient, settings: Settings) -> None:
    _, token = _issue(client, "contractor", "viewer")
    assert client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    _sql(settings, "UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    assert client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_tokens_on_the_command_line(client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EW_DATABASE_URL", settings.require_database_url())
    runner = CliRunner()
    issued = runner.invoke(cli, ["tokens", "issue", "bms-building-3", "--role", "operator"])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert re.fullmatch(r"ewt_[A-Za-z0-9_-]{40,}", token)
    token_id = int(re.findall(r"issued token (\d+)", issued.output)[0])
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "operator"
    listed = runner.invoke(cli, ["tokens", "list"])
    assert listed.exit_code == 0
    assert "bms-building-3" in listed.output
    assert token not in listed.output
    assert runner.invoke(cli, ["tokens", "issue", "x", "--role", "root"]).exit_code != 0
    assert runner.invoke(cli, ["tokens", "revoke", str(token_id)]).exit_code == 0
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert runner.invoke(cli, ["tokens", "revoke", str(token_id)]).exit_code != 0
