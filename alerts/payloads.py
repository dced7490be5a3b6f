"""The JSON the alerts area sends: the alert body (API, webhooks, MQTT), the change notification, webhook and MQTT
envelopes, deliveries, endpoints and a resident's status.

Pure builders over stored rows, so every channel shows the same shape and the shapes are tested without a database.
Keys are only ever added: integrators and the console rely on them.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from alerts.presence import PresenceState, Resident
from store.alerts import AlertRow, CommentRow, HistoryRow
from store.outbox import AlertDelivery
from store.webhooks import AttemptRow, DeliveryRow, EndpointRow

EventType = Literal["alert.new", "alert.update", "alert.resolved"]
WEBHOOK_EVENTS: tuple[EventType, ...] = ("alert.new", "alert.update", "alert.resolved")

SlaJson = TypedDict("SlaJson", {
    "class": str, "ack_due_at": str, "resolve_due_at": str, "ack_breached": bool, "resolve_breached": bool,
    "escalation_level": int, "recipient_group": str,
})


class LinksJson(TypedDict):
    """Where to fetch the alert and its evidence."""

    self: str
    evidence: dict[str, str]


class AlertJson(TypedDict):
    """The alert as integrators, the console and webhooks see it."""

    id: str
    site: str
    type: str
    severity: str
    status: str
    dedup_key: str
    count: int
    title: str
    subject: dict[str, Any]
    details: dict[str, Any]
    evidence: dict[str, Any]
    links: LinksJson
    first_occurred_at: str
    last_occurred_at: str
    created_at: str
    updated_at: str
    acknowledged_at: str | None
    resolved_at: str | None
    resolution: str | None
    assignee: str | None
    sla: SlaJson


class ChangeNote(TypedDict):
    """The ``ew_alerts`` notification of one change: enough for a live view to decide whether to fetch it."""

    id: str
    change: str
    status: str
    type: str
    severity: str
    site: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def alert_json(row: AlertRow) -> AlertJson:
    """The alert body every channel sends (a promise: keys are only ever added)."""
    evidence = dict(row.evidence)
    return {
        "id": row.id, "site": row.site, "type": row.type, "severity": row.severity, "status": row.status,
        "dedup_key": row.dedup_key, "count": row.count, "title": row.title, "subject": dict(row.subject),
        "details": dict(row.details), "evidence": evidence,
        "links": {"self": f"/api/v1/alerts/{row.id}",
                  "evidence": {name: value for name, value in evidence.items() if isinstance(value, str)}},
        "first_occurred_at": row.first_occurred_at.isoformat(), "last_occurred_at": row.last_occurred_at.isoformat(),
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
        "acknowledged_at": _iso(row.acknowledged_at), "resolved_at": _iso(row.resolved_at),
        "resolution": row.resolution, "assignee": row.assignee,
        "sla": {"class": row.sla_class, "ack_due_at": row.ack_due_at.isoformat(),
                "resolve_due_at": row.resolve_due_at.isoformat(), "ack_breached": row.ack_breached,
                "resolve_breached": row.resolve_breached, "escalation_level": row.escalation_level,
                "recipient_group": row.recipient_group},
    }


def change_note(row: AlertRow, change: str) -> str:
    """The ``ew_alerts`` notification payload (JSON text) of one change."""
    note: ChangeNote = {"id": row.id, "change": change, "status": row.status, "type": row.type,
                        "severity": row.severity, "site": row.site}
    return json.dumps(note)


def event_type_for(change: str) -> EventType:
    """Webhook event type of one alert change (created, repeated, acknowledged, ..., resolved)."""
    if change == "created":
        return "alert.new"
    if change == "resolved":
        return "alert.resolved"
    return "alert.update"


def mqtt_kind_for(change: str) -> str:
    """The ``kind`` of a lifecycle message on ``estate/{site}/alerts``: new, update or resolved."""
    return event_type_for(change).removeprefix("alert.")


class WebhookBody(TypedDict):
    """What a webhook receiver gets for one change (Standard Webhooks envelope)."""

    type: EventType
    timestamp: str
    data: dict[str, object]


class MqttBody(TypedDict):
    """What ``estate/{site}/alerts`` carries for one change."""

    kind: str
    change: str
    at: str
    alert: AlertJson


REDACTED = "[redacted]"
# keys whose values are a resident's personal data: names, ways to reach them or their relatives, health and the
# reasons they are away. The pseudonymous resident id and the unit stay: a receiver needs them to act.
PERSONAL_KEYS = frozenset({
    "name", "full_name", "first_name", "last_name", "display_name", "phone", "phones", "mobile", "telephone", "tel",
    "contact", "contacts", "relative", "relatives", "emergency_contact", "email", "address", "reason",
    "away_reason", "medical", "medical_reason", "hospital", "diagnosis", "condition", "note", "notes",
})
_PHONE = re.compile(r"(?<![\w-])\+?\d(?:[ ().-]{0,2}\d){6,14}(?![\w-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEY_VALUE = re.compile(r"(?i)\b(" + "|".join(sorted(PERSONAL_KEYS, key=len, reverse=True))
                        + r")(\"?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^,;}\s]+)")


def redact_text(text: str) -> str:
    """Phone numbers and ``key=value`` / ``"key": "value"`` pairs of personal keys in free text, redacted."""
    text = _KEY_VALUE.sub(lambda m: m[1] + m[2] + REDACTED, text)
    return _PHONE.sub(lambda m: m[0] if _DATE.fullmatch(m[0]) else REDACTED, text)


def redact(value: object) -> Any:  # noqa: ANN401 - JSON in, the same JSON shape out
    """A JSON value with personal data redacted: values of personal keys, and phone numbers in any text."""
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in PERSONAL_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redacted_alert(alert: AlertJson) -> AlertJson:
    """The alert as it leaves the estate (webhooks, MQTT): subject, details and title without personal data."""
    out: AlertJson = {**alert}
    out["title"] = redact_text(alert["title"])
    out["subject"] = redact(alert["subject"])
    out["details"] = redact(alert["details"])
    return out


def webhook_body(alert: AlertJson, change: str, now: datetime) -> WebhookBody:
    """The webhook envelope of one change, personal data redacted."""
    return {"type": event_type_for(change), "timestamp": now.isoformat(),
            "data": {"change": change, "alert": redacted_alert(alert)}}


def mqtt_body(alert: AlertJson, change: str, now: datetime) -> MqttBody:
    """The MQTT lifecycle message of one change, personal data redacted."""
    return {"kind": mqtt_kind_for(change), "change": change, "at": now.isoformat(), "alert": redacted_alert(alert)}


class RedactingFilter(logging.Filter):
    """Redacts personal data (phone numbers, personal ``key=value`` pairs) from log messages before they are
    written; attach it to handlers, or use ``install_log_redaction`` for every record of the process.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the message by its redacted form (arguments merged in); never drops a record."""
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message (arguments merged in) redacted."""
    message = record.getMessage()
    cleaned = redact_text(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    return record


_installed: list[bool] = []


def install_log_redaction() -> None:
    """Redact every log record this process makes, whatever logger or handler (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:  # noqa: ANN401 - the factory's own signature
        return redact_record(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)


def new_msg_id() -> str:
    """A message id (``webhook-id``): kept on every retry, so receivers can deduplicate."""
    return "msg_" + uuid.uuid4().hex


def dumps(payload: Mapping[str, object]) -> str:
    """The exact body that is signed and sent: compact, key order kept."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class HistoryJson(TypedDict):
    """One change of an alert."""

    at: str
    kind: str
    actor: str
    data: dict[str, Any]


class CommentJson(TypedDict):
    """One staff comment."""

    id: int
    at: str
    author: str
    body: str


class AlertDeliveryJson(TypedDict):
    """Where one change of an alert went and how that went."""

    id: int
    channel: str
    endpoint_id: str | None
    msg_id: str
    event_type: str
    status: str
    attempts: int
    delivered_at: str | None


class DeliveryJson(TypedDict):
    """A webhook delivery without its payload."""

    id: int
    channel: str
    endpoint_id: str | None
    msg_id: str
    event_type: str
    alert_id: str
    status: str
    attempts: int
    created_at: str
    next_attempt_at: str
    last_error: str | None
    delivered_at: str | None


class AttemptJson(TypedDict):
    """One delivery attempt."""

    at: str
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryDetailJson(DeliveryJson):
    """A webhook delivery with the payload sent and every attempt."""

    payload: dict[str, Any]
    attempt_log: list[AttemptJson]


class EndpointJson(TypedDict):
    """A webhook endpoint; ``secret`` only in the answer that created it."""

    id: str
    url: str
    events: list[str]
    alert_types: list[str]
    enabled: bool
    disabled_reason: str | None
    description: str
    created_at: str
    previous_secret_until: str | None
    secret: NotRequired[str]


def history_json(row: HistoryRow) -> HistoryJson:
    """One history entry for the API."""
    return {"at": row.at.isoformat(), "kind": row.kind, "actor": row.actor, "data": row.data}


def comment_json(row: CommentRow) -> CommentJson:
    """One comment for the API."""
    return {"id": row.id, "at": row.at.isoformat(), "author": row.author, "body": row.body}


def alert_delivery_json(row: AlertDelivery) -> AlertDeliveryJson:
    """Where one change of an alert went (MQTT or a webhook endpoint) and how that went."""
    return {"id": row.id, "channel": row.channel, "endpoint_id": row.endpoint_id, "msg_id": row.msg_id,
            "event_type": row.event_type, "status": row.status, "attempts": row.attempts,
            "delivered_at": _iso(row.delivered_at)}


def delivery_json(row: DeliveryRow) -> DeliveryJson:
    """A webhook delivery for the API (payload left out of lists: fetch one delivery for it)."""
    return {
        "id": row.id, "channel": row.channel, "endpoint_id": row.endpoint_id, "msg_id": row.msg_id,
        "event_type": row.event_type, "alert_id": row.alert_id, "status": row.status, "attempts": row.attempts,
        "created_at": row.created_at.isoformat(), "next_attempt_at": row.next_attempt_at.isoformat(),
        "last_error": row.last_error, "delivered_at": _iso(row.delivered_at),
    }


def attempt_json(row: AttemptRow) -> AttemptJson:
    """One delivery attempt for the API."""
    return {"at": row.at.isoformat(), "status_code": row.status_code, "error": row.error,
            "duration_ms": round(row.duration_ms, 1)}


def endpoint_json(row: EndpointRow, *, with_secret: bool = False) -> EndpointJson:
    """An endpoint for the API; the secret only when just created."""
    out: EndpointJson = {
        "id": row.id, "url": row.url, "events": list(row.events), "alert_types": list(row.alert_types),
        "enabled": row.enabled, "disabled_reason": row.disabled_reason, "description": row.description,
        "created_at": row.created_at.isoformat(), "previous_secret_until": _iso(row.previous_secret_until)}
    if with_secret:
        out["secret"] = row.secret
    return out


def _hours_since(now: datetime, value: datetime | None) -> float | None:
    return round((now - value).total_seconds() / 3600, 2) if value is not None else None


def resident_status(resident: Resident, state: PresenceState, now: datetime) -> dict[str, object]:
    """What the console shows: presence, hours since last out, last signals and why we think so."""
    return {
        "resident_id": resident.resident_id, "unit": resident.unit, "building": resident.building,
        "floor": resident.floor, "elderly": resident.elderly, "lives_alone": resident.lives_alone,
        "not_out_hours": resident.not_out_hours, "no_sign_hours": resident.no_sign_hours,
        "presence": state.presence,
        "since": _iso(state.since),
        "last_out_at": _iso(state.last_out_at),
        "hours_since_last_out": _hours_since(now, state.last_out_at),
        "hours_at_home": _hours_since(now, state.since) if state.presence == "home" else None,
        "last_activity_at": _iso(state.last_activity_at),
        "explanation": state.reason,
        "last_signals": state.signals,
        "away": [{"from": a.isoformat(), "to": b.isoformat()} for a, b in resident.away],
    }
