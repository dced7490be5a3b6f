"""Webhook endpoints and deliveries as the API returns them (the secret only once, on creation)."""

from __future__ import annotations

from typing import Literal

from pydantic import JsonValue

from api.models.alerts import Timestamp
from api.models.base import ApiModel

DeliveryStatus = Literal["pending", "delivered", "dead"]


class Endpoint(ApiModel):
    """A registered receiver with its event and alert-type filters (empty = all)."""

    id: str
    url: str
    events: list[str]
    alert_types: list[str]
    enabled: bool
    disabled_reason: str | None
    description: str
    created_at: Timestamp
    previous_secret_until: Timestamp | None = None  # during a rotation: the old secret still signs until then


class EndpointCreated(Endpoint):
    """A new endpoint with its ``whsec_`` secret, shown this once."""

    secret: str


class EndpointList(ApiModel):
    """Every endpoint, oldest first, without secrets."""

    endpoints: list[Endpoint]


class Delivery(ApiModel):
    """One message to one endpoint: its status, attempts so far and the last error."""

    id: int
    channel: Literal["webhook"]
    endpoint_id: str | None
    msg_id: str
    event_type: Literal["alert.new", "alert.update", "alert.resolved"]
    alert_id: str
    status: DeliveryStatus
    attempts: int
    created_at: Timestamp
    next_attempt_at: Timestamp
    last_error: str | None
    delivered_at: Timestamp | None


class DeliveryList(ApiModel):
    """Deliveries, newest first."""

    deliveries: list[Delivery]


class Attempt(ApiModel):
    """One delivery attempt: when, the HTTP status (null: no answer), the error, how long it took."""

    at: Timestamp
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryDetail(Delivery):
    """One delivery with the exact payload sent and every attempt."""

    payload: dict[str, JsonValue]
    attempt_log: list[Attempt]


class Redelivery(ApiModel):
    """A delivery queued again (same webhook-id)."""

    id: int
    status: Literal["pending"]
