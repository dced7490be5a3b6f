"""The JSON every channel sends, built from stored rows without a database: alert body, notification, webhook and
MQTT envelopes, endpoints and resident status."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alerts.payloads import (
    alert_json,
    change_note,
    dumps,
    endpoint_json,
    event_type_for,
    mqtt_body,
    mqtt_kind_for,
    resident_status,
    webhook_body,
)
from alerts.presence import PresenceState, Resident
from store.alerts import AlertRow
from store.webhooks import EndpointRow

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ALERT_KEYS = {"id", "site", "type", "severity", "status", "dedup_key", "count", "title", "subject", "details",
              "evidence", "links", "first_occurred_at", "last_occurred_at", "created_at", "updated_at",
              "acknowledged_at", "resolved_at", "resolution", "assignee", "sla"}


BASE = AlertRow(
    id="al_1", site="s1", type="littering", severity="major", status="open", dedup_key="littering:cam-3:ev1",
    count=1, title="Object thrown", subject={"camera": "cam-3"}, building="3", floor=12, details={"score": 0.9},
    evidence={"snapshot": "/evidence/1.jpg", "frames": 12}, first_occurred_at=T0, last_occurred_at=T0,
    created_at=T0, updated_at=T0, acknowledged_at=None, resolved_at=None, resolution=None, assignee=None,
    sla_class="general", ack_due_at=T0 + timedelta(minutes=5), resolve_due_at=T0 + timedelta(hours=3),
    ack_breached=False, resolve_breached=False, escalation_level=0, recipient_group="duty")


def test_alert_body_keys_links_and_times() -> None:
    body = alert_json(replace(BASE, acknowledged_at=T0 + timedelta(minutes=2)))
    assert set(body) == ALERT_KEYS
    assert body["links"] == {"self": "/api/v1/alerts/al_1", "evidence": {"snapshot": "/evidence/1.jpg"}}
    assert body["acknowledged_at"] == (T0 + timedelta(minutes=2)).isoformat()
    assert body["resolved_at"] is None
    assert body["sla"] == {"class": "general", "ack_due_at": "2026-03-01T08:05:00+00:00",
                           "resolve_due_at": "2026-03-01T11:00:00+00:00", "ack_breached": False,
                           "resolve_breached": False, "escalation_level": 0, "recipient_group": "duty"}


def test_change_envelopes_for_webhooks_mqtt_and_listeners() -> None:
    body = alert_json(BASE)
    assert [event_type_for(c) for c in ("created", "repeated", "escalated", "resolved")] == [
        "alert.new", "alert.update", "alert.update", "alert.resolved"]
    assert mqtt_kind_for("resolved") == "resolved"
    hook = webhook_body(body, "acknowledged", T0)
    assert hook == {"type": "alert.update", "timestamp": T0.isoformat(),
                    "data": {"change": "acknowledged", "alert": body}}
    assert mqtt_body(body, "created", T0) == {"kind": "new", "change": "created", "at": T0.isoformat(),
                                              "alert": body}
    assert json.loads(change_note(replace(BASE, status="resolved"), "resolved")) == {
        "id": "al_1", "change": "resolved", "status": "resolved", "type": "littering", "severity": "major",
        "site": "s1"}
    assert dumps({"b": 1, "a": "é"}) == '{"b":1,"a":"é"}'


def test_endpoint_secret_only_on_creation() -> None:
    endpoint = EndpointRow("ep_1", "https://example.org/hook", "whsec_AAAA", ["alert.new"], [], True, None, "",
                           T0)
    assert "secret" not in endpoint_json(endpoint)
    assert endpoint_json(endpoint, with_secret=True)["secret"] == "whsec_AAAA"


def test_resident_status_explains_presence() -> None:
    resident = Resident("r1", "A-1201", building="A", floor=12, elderly=True, lives_alone=True,
                        away=((T0 + timedelta(days=1), T0 + timedelta(days=2)),))
    state = PresenceState(presence="home", since=T0, last_out_at=T0 - timedelta(hours=3), reason="gate north in")
    status = resident_status(resident, state, T0 + timedelta(hours=5))
    assert (status["hours_since_last_out"], status["hours_at_home"]) == (8.0, 5.0)
    assert status["last_activity_at"] is None
    assert status["explanation"] == "gate north in"
    away = {"from": (T0 + timedelta(days=1)).isoformat(), "to": (T0 + timedelta(days=2)).isoformat()}
    assert status["away"] == [away]
