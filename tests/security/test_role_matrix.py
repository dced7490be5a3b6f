"""Every route of the live OpenAPI document, called by an anonymous caller, a viewer, an operator and an admin
against the real services: each gets what the one table below says and nothing more.

The table is the single statement of who may call what. A route in the document that is missing from it fails the
test, so a new route cannot ship without someone deciding its minimum role. Callers below the minimum must get 401
(anonymous) or 403; callers at or above it must get past authentication (any answer but 401, 403 or a 500).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import token_hash
from common.settings import Settings
from store.accounts import add_token
from store.db import connect
from tests.helpers import ADMIN_TOKEN

Need = Literal["public", "viewer", "operator", "admin"]
Caller = Literal["anonymous", "viewer", "operator", "admin"]
RANK: dict[str, int] = {"anonymous": 0, "public": 0, "viewer": 1, "operator": 2, "admin": 3}

V1 = "/api/v1"
MINIMUM_ROLE: dict[tuple[str, str], Need] = {
    # health, the console's files, interactive docs' assets, and signing in
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    # dispatch: the responder's link is its own credential (404 wrong, 410 expired); shift handover
    ("GET", "/onsite/{token}"): "public",
    ("GET", f"{V1}/onsite/{{token}}"): "public",
    ("GET", f"{V1}/onsite/{{token}}/snapshot.jpg"): "public",
    ("POST", f"{V1}/onsite/{{token}}/arrived"): "public",
    ("POST", f"{V1}/onsite/{{token}}/plan"): "public",
    ("POST", f"{V1}/onsite/{{token}}/solved"): "public",
    ("GET", f"{V1}/work-orders"): "viewer",
    ("GET", f"{V1}/unknown-metrics"): "viewer",
    ("GET", f"{V1}/work-orders/{{work_order_id}}"): "viewer",
    ("POST", f"{V1}/work-orders"): "operator",
    ("POST", f"{V1}/work-orders/{{work_order_id}}/link"): "operator",
    ("GET", f"{V1}/responders"): "operator",
    ("POST", f"{V1}/responders"): "admin",
    ("PATCH", f"{V1}/responders/{{responder_id}}"): "admin",
    ("GET", f"{V1}/handover-notes"): "operator",
    ("POST", f"{V1}/handover-notes"): "operator",
    ("POST", f"{V1}/handover-notes/{{note_id}}/read"): "operator",
    ("GET", "/metrics"): "public",  # public while EW_METRICS_TOKEN is unset, as in these settings
    ("GET", "/"): "public",
    ("GET", "/console"): "public",
    ("GET", "/static/{path}"): "public",
    ("GET", "/docs/assets/LICENSE"): "public",
    ("GET", "/docs/assets/{name}"): "public",
    ("POST", f"{V1}/auth/login"): "public",
    ("POST", f"{V1}/auth/logout"): "public",
    ("GET", f"{V1}/auth/me"): "viewer",
    # users and integrator tokens
    ("GET", f"{V1}/users"): "admin",
    ("POST", f"{V1}/users"): "admin",
    ("PATCH", f"{V1}/users/{{username}}"): "admin",
    ("GET", f"{V1}/tokens"): "admin",
    ("POST", f"{V1}/tokens"): "admin",
    ("DELETE", f"{V1}/tokens/{{token_id}}"): "admin",
    # devices, telemetry, overview, stream, console settings
    ("GET", f"{V1}/devices"): "viewer",
    ("GET", f"{V1}/dead-letters"): "viewer",
    ("GET", f"{V1}/dead-letters/summary"): "viewer",
    ("GET", f"{V1}/telemetry"): "viewer",
    ("GET", f"{V1}/stream/alerts"): "viewer",
    ("GET", f"{V1}/overview"): "viewer",
    ("GET", f"{V1}/overview/alert-counts"): "viewer",
    ("GET", f"{V1}/overview/sparklines"): "viewer",
    ("GET", f"{V1}/overview/facets"): "viewer",
    ("GET", f"{V1}/overview/elders"): "viewer",
    ("GET", f"{V1}/estate"): "viewer",
    ("GET", f"{V1}/console/settings"): "viewer",
    ("GET", f"{V1}/console/preferences"): "viewer",
    ("PUT", f"{V1}/console/preferences"): "viewer",
    # alerts
    ("GET", f"{V1}/alerts"): "viewer",
    ("POST", f"{V1}/alerts/ack"): "operator",
    ("GET", f"{V1}/alerts/silences"): "viewer",
    ("POST", f"{V1}/alerts/silences"): "operator",
    ("POST", f"{V1}/alerts/silences/{{silence_id}}/end"): "operator",
    ("GET", f"{V1}/alerts/{{alert_id}}"): "viewer",
    ("POST", f"{V1}/alerts/{{alert_id}}/ack"): "operator",
    ("POST", f"{V1}/alerts/{{alert_id}}/assign"): "operator",
    ("POST", f"{V1}/alerts/{{alert_id}}/comments"): "operator",
    ("POST", f"{V1}/alerts/{{alert_id}}/resolve"): "operator",
    # residents and their faces
    ("GET", f"{V1}/residents"): "viewer",
    ("GET", f"{V1}/residents/{{resident_id}}"): "viewer",
    ("PUT", f"{V1}/residents/{{resident_id}}"): "admin",
    ("POST", f"{V1}/residents/import"): "admin",
    ("POST", f"{V1}/residents/{{resident_id}}/away"): "admin",
    ("POST", f"{V1}/residents/{{resident_id}}/face"): "admin",
    ("POST", f"{V1}/residents/{{resident_id}}/face/refusal"): "admin",
    ("DELETE", f"{V1}/residents/{{resident_id}}/face"): "admin",
    ("GET", f"{V1}/residents/{{resident_id}}/face"): "admin",
    ("GET", f"{V1}/residents/{{resident_id}}/routine"): "operator",
    ("PUT", f"{V1}/residents/{{resident_id}}/inactivity"): "operator",
    ("GET", f"{V1}/residents/{{resident_id}}/passages"): "operator",
    ("GET", f"{V1}/inactivity/settings"): "viewer",
    ("PUT", f"{V1}/inactivity/settings"): "admin",
    # webhooks
    ("GET", f"{V1}/webhooks/endpoints"): "admin",
    ("POST", f"{V1}/webhooks/endpoints"): "admin",
    ("PATCH", f"{V1}/webhooks/endpoints/{{endpoint_id}}"): "admin",
    ("DELETE", f"{V1}/webhooks/endpoints/{{endpoint_id}}"): "admin",
    ("POST", f"{V1}/webhooks/endpoints/{{endpoint_id}}/rotate-secret"): "admin",
    ("GET", f"{V1}/webhooks/deliveries"): "admin",
    ("GET", f"{V1}/webhooks/deliveries/{{delivery_id}}"): "admin",
    ("POST", f"{V1}/webhooks/deliveries/{{delivery_id}}/redeliver"): "admin",
    # cameras, littering events and evidence
    ("GET", f"{V1}/cameras"): "viewer",
    ("GET", f"{V1}/cameras/{{camera_id}}/latest.jpg"): "viewer",
    ("GET", f"{V1}/cameras/{{camera_id}}/calibration.jpg"): "viewer",
    ("GET", f"{V1}/cameras/{{camera_id}}/activity"): "viewer",  # the wall's overlay: no personal data in it
    ("GET", f"{V1}/littering-events"): "viewer",
    ("GET", f"{V1}/littering-events/{{event_id}}"): "viewer",
    ("GET", f"{V1}/evidence/{{event_id}}/snapshot.jpg"): "viewer",
    ("GET", f"{V1}/evidence/{{event_id}}/clip.mjpeg"): "viewer",
    ("GET", f"{V1}/evidence/{{event_id}}/clip.mp4"): "viewer",
    # device credentials on the broker
    ("GET", f"{V1}/broker/accounts"): "admin",
    ("POST", f"{V1}/broker/accounts"): "admin",
    ("POST", f"{V1}/broker/accounts/{{username}}/rotate"): "admin",
    ("DELETE", f"{V1}/broker/accounts/{{username}}"): "admin",
}

TOKENS: dict[Caller, str | None] = {
    "anonymous": None,
    "viewer": "matrix-viewer-token-0123456789",
    "operator": "matrix-operator-token-0123456789",
    "admin": ADMIN_TOKEN,
}
# Path parameters become values no row has (so an admin's DELETE removes nothing the callers after it rely on).
_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with connect(settings.require_database_url()) as conn:
        add_token(conn, token_hash(str(TOKENS["viewer"])), "matrix-viewer", "viewer")
        add_token(conn, token_hash(str(TOKENS["operator"])), "matrix-operator", "operator")
        conn.commit()
    with TestClient(create_app(settings), base_url="http://console.test") as opened:
        yield opened


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return [(method.upper(), path, op) for path, ops in paths.items() for method, op in ops.items()]


def _url(path: str, operation: dict[str, Any]) -> str:
    kinds = {p["name"]: p.get("schema", {}).get("type") for p in operation.get("parameters", [])
             if p.get("in") == "path"}
    return _PLACEHOLDER.sub(lambda m: "987654" if kinds.get(m.group(1)) == "integer" else "matrix-x1", path)


def _call(client: TestClient, method: str, url: str, caller: Caller) -> httpx.Response:
    headers = {"Last-Event-ID": "not-an-event-id"}  # the stream answers 400 past authentication, not forever
    token = TOKENS[caller]
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body: dict[str, object] | None = None if method in ("GET", "DELETE") else {}
    response: httpx.Response = client.request(method, url, headers=headers, json=body)
    return response


def test_every_route_has_a_declared_minimum_role(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    routes = {(method, path) for method, path, _ in _operations(document)}
    assert sorted(routes - set(MINIMUM_ROLE)) == [], "add these routes to MINIMUM_ROLE with their minimum role"


def test_each_caller_gets_exactly_what_its_role_allows(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    wrong: list[str] = []
    for method, path, operation in _operations(document):
        need = MINIMUM_ROLE.get((method, path))
        if need is None:
            continue  # reported by the test above
        url = _url(path, operation)
        for caller in TOKENS:
            client.cookies.clear()
            got = _call(client, method, url, caller).status_code
            if RANK[caller] < RANK[need]:
                expected = {401} if caller == "anonymous" else {403}
                if got not in expected:
                    wrong.append(f"{caller} {method} {path}: {got}, expected {sorted(expected)}")
            elif (got in (401, 403) and not (path.endswith("/auth/login") and got == 401)) or got == 500:
                wrong.append(f"{caller} {method} {path}: {got}, expected to pass authentication")
    assert wrong == [], "\n".join(wrong)


def test_a_cookie_session_carries_the_same_role_as_its_token(client: TestClient) -> None:
    login = client.post("/api/v1/auth/login", json={"token": TOKENS["viewer"]})
    assert login.status_code == 200
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    assert client.get("/api/v1/alerts").status_code == 200
    assert client.post("/api/v1/alerts/matrix-x1/ack", headers=csrf).status_code == 403
    assert client.get("/api/v1/tokens").status_code == 403
