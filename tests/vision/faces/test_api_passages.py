"""A resident's gate passages through the real app and database: operators only, no face data in the answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import token_hash
from common.settings import Settings
from store.accounts import add_token
from store.db import connect
from store.events import EventRow, copy_events
from tests.helpers import ADMIN_TOKEN

OPERATOR = {"Authorization": "Bearer operator-token-0123456789"}
VIEWER = {"Authorization": "Bearer viewer-token-0123456789"}
NOW = datetime.now(UTC).replace(microsecond=0)


def _access(site: str, at: datetime, person: str, direction: str, method: str,
            confidence: float | None = None) -> EventRow:
    data: dict[str, object] = {"person": person, "direction": direction, "method": method}
    if confidence is not None:
        data |= {"confidence": confidence, "camera": "gate-n-out"}
    return (at, site, "access", "north", person, data, f"{person}:{at.isoformat()}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    site = settings.site
    with connect(settings.require_database_url()) as conn:
        conn.execute("INSERT INTO residents (resident_id, site, unit, consent) VALUES ('R-A', %s, '1-101', true)",
                     (site,))
        add_token(conn, token_hash("operator-token-0123456789"), "desk", "operator")
        add_token(conn, token_hash("viewer-token-0123456789"), "wall", "viewer")
        copy_events(conn, [
            _access(site, NOW - timedelta(days=9), "R-A", "out", "card"),
            _access(site, NOW - timedelta(hours=30), "R-A", "in", "card"),
            _access(site, NOW - timedelta(hours=5), "R-A", "out", "face", 0.91),
            _access(site, NOW - timedelta(hours=6), "unknown", "out", "face", 0.12),
            _access(site, NOW - timedelta(hours=2), "unknown", "out", "face", 0.31),
            _access(site, NOW - timedelta(hours=1), "R-B", "in", "face", 0.88),
        ])
        conn.commit()
    with TestClient(create_app(settings), base_url="http://console.test") as c:
        yield c


def test_passages_newest_first_with_confidence_and_unknown_since(client: TestClient) -> None:
    r = client.get("/api/v1/residents/R-A/passages", headers=OPERATOR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(p["direction"], p["method"], p["confidence"]) for p in body["passages"]] == [
        ("out", "face", 0.91), ("in", "card", None)]  # the 9-day-old one is before the default 7 days
    assert body["passages"][0]["gate"] == "north"
    assert body["passages"][0]["camera"] == "gate-n-out"
    assert body["last_recognised"]["confidence"] == 0.91
    assert [p["confidence"] for p in body["unknown_since"]] == [0.31]  # unknown after the last passage only
    assert "embedding" not in r.text
    since = (NOW - timedelta(days=10)).isoformat()
    older = client.get("/api/v1/residents/R-A/passages", params={"since": since}, headers=OPERATOR).json()
    assert len(older["passages"]) == 3


def test_operators_only_and_unknown_residents(client: TestClient) -> None:
    assert client.get("/api/v1/residents/R-A/passages", headers=VIEWER).status_code == 403
    assert client.get("/api/v1/residents/R-A/passages").status_code == 401
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert client.get("/api/v1/residents/R-A/passages", headers=admin).status_code == 200
    assert client.get("/api/v1/residents/R-none/passages", headers=OPERATOR).status_code == 404
