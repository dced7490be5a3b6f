"""Alerts as the API returns them: the alert body (the same one webhooks and MQTT carry), lists, and the detail
view with history, comments and deliveries. Times are ISO 8601 text exactly as the other channels send them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue

from api.models.base import ApiModel

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Severity = Literal["info", "minor", "major", "critical"]
Status = Literal["open", "acknowledged", "resolved"]
Resolution = Literal["true_positive", "false_positive", "duplicate", "other"]
Change = Literal["created", "repeated", "acknowledged", "assigned", "commented", "escalated", "resolved"]


class Sla(ApiModel):
    """The alert's "54321" deadlines and how far it has escalated."""

    sla_class: str = Field(alias="class", description="simple, general or complex")
    ack_due_at: Timestamp
    resolve_due_at: Timestamp
    ack_breached: bool
    resolve_breached: bool
    escalation_level: int
    recipient_group: str


class Links(ApiModel):
    """Where to fetch the alert and its evidence files."""

    self: str
    evidence: dict[str, str]


class Alert(ApiModel):
    """One alert, as integrators, the console and webhooks see it (keys are only ever added)."""

    id: str
    site: str
    type: str
    severity: Severity
    status: Status
    dedup_key: str
    count: int
    title: str
    subject: dict[str, JsonValue]
    details: dict[str, JsonValue]
    evidence: dict[str, JsonValue]
    links: Links
    first_occurred_at: Timestamp
    last_occurred_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    acknowledged_at: Timestamp | None
    resolved_at: Timestamp | None
    resolution: Resolution | None
    assignee: str | None
    sla: Sla


class AlertPage(ApiModel):
    """A page of alerts, newest first; pass ``next_before`` as ``before`` for the next page (null: no more)."""

    alerts: list[Alert]
    next_before: Timestamp | None


class HistoryEntry(ApiModel):
    """One change of an alert: when, what, by whom, with what data."""

    at: Timestamp
    kind: Change
    actor: str
    data: dict[str, JsonValue]


class Comment(ApiModel):
    """A staff comment."""

    id: int
    at: Timestamp
    author: str
    body: str


class AlertDelivery(ApiModel):
    """Where one change of the alert was sent (MQTT, or a webhook endpoint) and how that went."""

    id: int
    channel: Literal["mqtt", "webhook"]
    endpoint_id: str | None
    msg_id: str
    event_type: Literal["alert.new", "alert.update", "alert.resolved"]
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    delivered_at: Timestamp | None


class AlertDetail(Alert):
    """One alert with its full history, comments and deliveries."""

    history: list[HistoryEntry]
    comments: list[Comment]
    deliveries: list[AlertDelivery]


class Silence(ApiModel):
    """Alerts of ``type`` (in ``building``, or in every building when null) are muted until ``ends_at``: still
    stored and listed (the console greys them), but they neither sound nor pin.
    """

    id: int
    type: str
    building: str | None
    reason: str
    created_by: str
    created_at: Timestamp
    ends_at: Timestamp


class BulkAck(ApiModel):
    """What one bulk acknowledge did: the ids acknowledged, oldest first."""

    acknowledged: list[str]
    count: int
