"""The alerts, residents and webhooks API over the real app (PostgreSQL, Mosquitto), with role checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from alerts.db_driver import Processor
from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.presence import PresenceEvent
from common.settings import Settings
from store.db import connect
from tests.helpers import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The webhook receivers registered here are on this machine: allow-listed explicitly, like on-site ones."""
    return settings.model_copy(update={"webhook_allow_networks": "127.0.0.0/8"})
VIEWER = {"Authorization": "Bearer viewer-token-0123456789"}
OPERATOR = {"Authorization": "Bearer operator-token-0123456789"}


def test_alert_lifecycle_through_the_api(client: TestClient, settings: Settings) -> None:
    draft = AlertDraft(type="littering", severity="major", dedup_key="littering:cam-3:A", title="Object thrown",
                       site=settings.site, occurred_at=datetime.now(UTC),
                       subject={"camera": "cam-3", "building": "A", "floor": 14},
                       evidence={"snapshot": "/evidence/cam-3/1.jpg", "clip": "/evidence/cam-3/1.mp4"})
    with connect(settings.require_database_url()) as conn:
        alert_id = raise_alert(conn, draft)
        conn.commit()
    listed = client.get("/api/v1/alerts", params={"status": "open", "building": "A"}, headers=VIEWER).json()
    assert [a["id"] for a in listed["alerts"]] == [alert_id]
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=VIEWER).status_code == 403
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=OPERATOR).json()["status"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=OPERATOR).status_code == 409
    assigned = client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "zhang.min"}, headers=OPERATOR)
    assert assigned.json()["assignee"] == "zhang.min"
    assert client.post(f"/api/v1/alerts/{alert_id}/comments", json={"body": "caught on floor 14"},
                       headers=OPERATOR).status_code == 201
    resolved = client.post(f"/api/v1/alerts/{alert_id}/resolve", json={"resolution": "true_positive"},
                           headers=OPERATOR).json()
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "true_positive")
    one = client.get(f"/api/v1/alerts/{alert_id}", headers=VIEWER).json()
    assert [h["kind"] for h in one["history"]] == ["created", "acknowledged", "assigned", "commented", "resolved"]
    assert one["comments"][0]["author"] == "operator-bot"
    assert one["links"]["evidence"]["clip"] == "/evidence/cam-3/1.mp4"
    assert {d["event_type"] for d in one["deliveries"]} == {"alert.new", "alert.update", "alert.resolved"}
    assert client.get("/api/v1/alerts/al_nope", headers=VIEWER).status_code == 404


def test_residents_import_status_and_away(client: TestClient, settings: Settings) -> None:
    bad = client.post("/api/v1/residents/import",
                      content="resident_id,unit,elderly,lives_alone,consent\nr1,A-1201,maybe,1,yes\n",
                      headers={**ADMIN, "content-type": "text/csv"})
    assert bad.status_code == 422
    assert "line 2" in bad.text
    csv_text = ("resident_id,unit,elderly,lives_alone,consent,not_out_hours\n"
                "r1,A-1201,true,true,yes,24\nr2,B-0301,false,false,yes,\n")
    assert client.post("/api/v1/residents/import", content=csv_text,
                       headers={**OPERATOR, "content-type": "text/csv"}).status_code == 403
    done = client.post("/api/v1/residents/import", content=csv_text, headers={**ADMIN, "content-type": "text/csv"})
    assert done.json() == {"imported": 2}
    went_out = datetime.now(UTC) - timedelta(hours=5)
    with connect(settings.require_database_url()) as conn:
        proc = Processor(settings.site)
        proc.on_presence_event(conn, PresenceEvent(went_out, "access", resident="r1", direction="out",
                                                   gate="north", method="card"), went_out)
        back = went_out + timedelta(hours=2)
        proc.on_presence_event(conn, PresenceEvent(back, "access", resident="r1", direction="in", gate="north",
                                                   method="face"), back)
        conn.commit()
    status = client.get("/api/v1/residents/r1", headers=OPERATOR).json()
    assert status["presence"] == "home"
    assert 4.9 < status["hours_since_last_out"] < 5.1
    assert status["last_signals"]["access"]["detail"] == "gate north (face) in"
    assert "gate north (face) in" in status["explanation"]
    seen_by_viewer = client.get("/api/v1/residents/r1", headers=VIEWER).json()
    assert seen_by_viewer["presence"] == "home"  # a viewer sees the state, never the times, signals or why
    assert seen_by_viewer["hours_since_last_out"] is None
    assert seen_by_viewer["explanation"] is None
    assert seen_by_viewer["last_signals"] == {}
    away = client.post("/api/v1/residents/r1/away", headers=ADMIN, json={
        "from": datetime.now(UTC).isoformat(), "to": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "reason": "hospital"})
    assert away.status_code == 201
    assert len(client.get("/api/v1/residents/r1", headers=OPERATOR).json()["away"]) == 1
    home = client.get("/api/v1/residents", params={"presence": "home"}, headers=VIEWER).json()
    assert [r["resident_id"] for r in home["residents"]] == ["r1"]


def test_webhook_endpoints_and_deliveries(client: TestClient, settings: Settings) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["alert.new"], "alert_types": ["smoke"]}
    assert client.post("/api/v1/webhooks/endpoints", json=body, headers=OPERATOR).status_code == 403
    created = client.post("/api/v1/webhooks/endpoints", json=body, headers=ADMIN).json()
    assert created["secret"].startswith("whsec_")
    assert "secret" not in client.get("/api/v1/webhooks/endpoints", headers=ADMIN).json()["endpoints"][0]
    with connect(settings.require_database_url()) as conn:
        for type_ in ("smoke", "littering"):
            raise_alert(conn, AlertDraft(type=type_, severity="major", dedup_key=f"{type_}:x", title=type_,
                                         site=settings.site, occurred_at=datetime.now(UTC)))
        conn.commit()
    rows = client.get("/api/v1/webhooks/deliveries", headers=ADMIN).json()["deliveries"]
    assert [r["event_type"] for r in rows] == ["alert.new"]  # the filter kept the littering alert out
    one = client.get(f"/api/v1/webhooks/deliveries/{rows[0]['id']}", headers=ADMIN).json()
    assert one["payload"]["data"]["alert"]["type"] == "smoke"
    assert client.post(f"/api/v1/webhooks/deliveries/{rows[0]['id']}/redeliver", headers=ADMIN).status_code == 202
    patched = client.patch(f"/api/v1/webhooks/endpoints/{created['id']}", json={"enabled": False}, headers=ADMIN)
    assert patched.json()["enabled"] is False
    assert client.delete(f"/api/v1/webhooks/endpoints/{created['id']}", headers=ADMIN).status_code == 204
