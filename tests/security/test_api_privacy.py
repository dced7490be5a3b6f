"""Privacy by role on the Elders panel, through the real API: a viewer sees presence only, never the relatives'
phone numbers, a hospital stay or the hours someone has been at home; an operator sees what they need to phone;
an admin sees contacts as entered. The same holds for alerts about a resident, in the list, the detail and the
resident's page: a viewer gets the type, the subject and the state, never the hours at home, the explanation
naming the reasons, the signals or staff comments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from alerts.drafts import AlertDraft
from api.app import create_app
from api.models.stream import AlertChange
from api.security import token_hash
from common.settings import Settings
from store.accounts import add_token
from store.db import connect
from tests.helpers import ADMIN_TOKEN, raise_committed

PHONE = "13912345678"
NOTE = "insulin at 08:00, key with neighbour 1202"
TOKENS = {"viewer": "viewer-token-0123456789", "operator": "operator-token-0123456789"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    now = datetime.now(UTC)
    with connect(settings.require_database_url()) as conn:
        conn.execute(
            "INSERT INTO residents (resident_id, site, unit, building, floor, elderly, lives_alone, contacts, consent)"
            " VALUES ('R-1', %s, '3-1201', '3', 12, true, true, %s, true),"
            " ('R-2', %s, '3-1202', '3', 12, true, true, %s, true)",
            (settings.site, Jsonb([{"role": "daughter", "name": "Mei", "phone": PHONE, "notes": NOTE}]),
             settings.site, Jsonb([{"role": "son", "phone": "13700000000"}])))
        conn.execute("INSERT INTO resident_away (resident_id, starts_at, ends_at, reason) VALUES"
                     " ('R-2', %s, %s, 'hospital')", (now - timedelta(days=1), now + timedelta(days=3)))
        for role, token in TOKENS.items():
            add_token(conn, token_hash(token), f"desk-{role}", role)
        conn.commit()
    with TestClient(create_app(settings)) as opened:
        yield opened


def _elders(client: TestClient, token: str) -> tuple[str, dict[str, dict[str, object]]]:
    response = client.get("/api/v1/overview/elders", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.text, {e["resident_id"]: e for e in response.json()}


def test_a_viewer_sees_presence_only(client: TestClient) -> None:
    text, elders = _elders(client, TOKENS["viewer"])
    assert set(elders) == {"R-1", "R-2"}
    for phone in (PHONE, "13700000000"):
        assert phone not in text
    assert "hospital" not in text
    assert "insulin" not in text
    for elder in elders.values():
        assert elder["presence"] in ("home", "out", "unknown")
        assert elder["contacts"] == []
        assert elder["away_reason"] is None
        assert elder["hours_at_home"] is None
        assert elder["hours_since_last_out"] is None
        assert elder["since"] is None
        assert elder["last_signals"] == {}
        assert elder["explanation"] is None
        assert elder["redacted"] is True
    one = client.get("/api/v1/overview/elders", params={"resident": "R-1"},
                     headers={"Authorization": f"Bearer {TOKENS['viewer']}"})
    assert PHONE not in one.text


def test_an_operator_sees_what_is_needed_to_phone(client: TestClient) -> None:
    text, elders = _elders(client, TOKENS["operator"])
    assert elders["R-1"]["contacts"] == [{"role": "daughter", "name": "Mei", "phone": PHONE}]
    assert NOTE not in text
    assert elders["R-1"]["redacted"] is True  # the note was withheld
    assert elders["R-2"]["away_reason"] == "hospital"  # so nobody phones a family about an empty flat
    assert elders["R-2"]["redacted"] is False


def test_an_admin_sees_contacts_as_entered(client: TestClient) -> None:
    _, elders = _elders(client, ADMIN_TOKEN)
    assert elders["R-1"]["contacts"] == [{"role": "daughter", "name": "Mei", "phone": PHONE, "notes": NOTE}]
    assert elders["R-1"]["redacted"] is False


def _elderly_alert(settings: Settings) -> str:
    draft = AlertDraft(type="elderly_not_out", severity="major", dedup_key="elderly_not_out:R-1:x",
                       title="Resident R-1 (3-1201) has not gone out for 24 h", site=settings.site,
                       occurred_at=datetime.now(UTC),
                       subject={"resident": "R-1", "unit": "3-1201", "building": "3", "floor": 12},
                       details={"hours_at_home": 31.5, "reminder": 0, "explanation": "back from hospital at 09:12",
                                "signals": {"access": {"at": "2026-03-02T09:12:00+00:00", "detail": "gate in"}}})
    return raise_committed(settings, draft)


def test_a_viewer_sees_an_elderly_alert_without_what_lies_behind_it(client: TestClient, settings: Settings) -> None:
    alert_id = _elderly_alert(settings)
    operator = {"Authorization": f"Bearer {TOKENS['operator']}"}
    viewer = {"Authorization": f"Bearer {TOKENS['viewer']}"}
    assert client.post(f"/api/v1/alerts/{alert_id}/comments", headers=operator,
                       json={"body": f"called the daughter on {PHONE}: she says hospital again"}).status_code == 201
    for path in (f"/api/v1/alerts/{alert_id}", "/api/v1/alerts", "/api/v1/residents/R-1",
                 "/api/v1/alerts?resident=R-1&sort=triage"):
        seen = client.get(path, headers=viewer)
        assert seen.status_code == 200, path
        for secret in ("31.5", "hospital", PHONE, "09:12", "gate in"):
            assert secret not in seen.text, (path, secret)
    one = client.get(f"/api/v1/alerts/{alert_id}", headers=viewer).json()
    assert (one["type"], one["status"], one["subject"]["resident"]) == ("elderly_not_out", "open", "R-1")
    assert one["details"] == {"reminder": 0}
    assert one["comments"] == []
    assert [h["kind"] for h in one["history"]] == ["created", "commented"]
    assert all(h["data"] == {} for h in one["history"])
    full = client.get(f"/api/v1/alerts/{alert_id}", headers=operator).json()  # operators make the call
    assert full["details"]["hours_at_home"] == 31.5
    assert "hospital" in full["details"]["explanation"]
    assert PHONE in full["comments"][0]["body"]


def test_the_live_stream_carries_no_resident_data() -> None:
    # the stream sends which alert changed and how; the client then fetches the alert through the redacting routes
    assert set(AlertChange.model_fields) == {"id", "change", "status", "type", "severity", "site"}
