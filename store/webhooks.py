"""SQL for webhook endpoints and their deliveries (the outbox rows of the webhook channel) with every attempt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import class_row

from store.db import Conn
from store.filters import Where


@dataclass(frozen=True)
class EndpointRow:
    """One registered webhook endpoint, its secret as stored (sealed) included; callers decide what to show."""

    id: str
    url: str
    secret: str
    events: list[str]
    alert_types: list[str]
    enabled: bool
    disabled_reason: str | None
    description: str
    created_at: datetime
    previous_secret: str | None = None  # still signs until previous_secret_until (a rotation's overlap)
    previous_secret_until: datetime | None = None


@dataclass(frozen=True)
class DeliveryRow:
    """One outbox row of the webhook channel, without its payload."""

    id: int
    channel: str
    endpoint_id: str | None
    msg_id: str
    event_type: str
    alert_id: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class AttemptRow:
    """One delivery attempt."""

    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


_ENDPOINT = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(EndpointRow))
_DELIVERY = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(DeliveryRow))


def _endpoint(conn: Conn, query: sql.Composed, params: Sequence[object]) -> EndpointRow | None:
    with conn.cursor(row_factory=class_row(EndpointRow)) as cur:
        return cur.execute(query, params).fetchone()


def create_endpoint(conn: Conn, endpoint_id: str, url: str, secret: str, *, events: Sequence[str],
                    alert_types: Sequence[str], description: str) -> EndpointRow:
    """Register an endpoint."""
    row = _endpoint(conn, sql.SQL(
        "INSERT INTO webhook_endpoints (id, url, secret, events, alert_types, description)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING {}").format(_ENDPOINT),
        (endpoint_id, url, secret, list(events), list(alert_types), description))
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return row


def list_endpoints(conn: Conn) -> list[EndpointRow]:
    """Every endpoint, oldest first."""
    with conn.cursor(row_factory=class_row(EndpointRow)) as cur:
        return cur.execute(sql.SQL("SELECT {} FROM webhook_endpoints ORDER BY created_at").format(_ENDPOINT)).fetchall()


def get_endpoint(conn: Conn, endpoint_id: str) -> EndpointRow | None:
    """One endpoint by id."""
    return _endpoint(conn, sql.SQL("SELECT {} FROM webhook_endpoints WHERE id = %s").format(_ENDPOINT),
                     (endpoint_id,))


def update_endpoint(conn: Conn, endpoint_id: str, *, enabled: bool | None, url: str | None,
                    events: Sequence[str] | None, alert_types: Sequence[str] | None) -> EndpointRow | None:
    """Change what is given (None keeps the value); enabling again clears the reason it was disabled."""
    return _endpoint(conn, sql.SQL(
        "UPDATE webhook_endpoints SET enabled = coalesce(%s, enabled), url = coalesce(%s, url),"
        " events = coalesce(%s, events), alert_types = coalesce(%s, alert_types),"
        " disabled_reason = CASE WHEN coalesce(%s, enabled) THEN NULL ELSE disabled_reason END"
        " WHERE id = %s RETURNING {}").format(_ENDPOINT),
        (enabled, url, list(events) if events is not None else None,
         list(alert_types) if alert_types is not None else None, enabled, endpoint_id))


def delete_endpoint(conn: Conn, endpoint_id: str) -> bool:
    """Remove an endpoint and (by cascade) its deliveries; False when there was none."""
    row = conn.execute("DELETE FROM webhook_endpoints WHERE id = %s RETURNING id", (endpoint_id,)).fetchone()
    return row is not None


def rotate_secret(conn: Conn, endpoint_id: str, new_secret: str, previous_until: datetime) -> EndpointRow | None:
    """Make ``new_secret`` (sealed) current; the old one keeps signing until ``previous_until``."""
    return _endpoint(conn, sql.SQL(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = %s, secret = %s"
        " WHERE id = %s RETURNING {}").format(_ENDPOINT), (previous_until, new_secret, endpoint_id))


def sealed_secrets(conn: Conn) -> list[tuple[str, str, str | None]]:
    """(endpoint id, stored secret, stored previous secret) of every endpoint, for re-sealing under a new key."""
    rows = conn.execute("SELECT id, secret, previous_secret FROM webhook_endpoints ORDER BY id").fetchall()
    return [(str(r["id"]), str(r["secret"]), r["previous_secret"]) for r in rows]


def store_sealed(conn: Conn, endpoint_id: str, secret: str, previous_secret: str | None) -> None:
    """Replace the stored forms of an endpoint's secrets (same secrets, sealed again)."""
    conn.execute("UPDATE webhook_endpoints SET secret = %s, previous_secret = %s WHERE id = %s",
                 (secret, previous_secret, endpoint_id))


def list_deliveries(conn: Conn, *, status: str | None = None, endpoint_id: str | None = None,
                    alert_id: str | None = None, limit: int = 100) -> list[DeliveryRow]:
    """Webhook deliveries, newest first, filtered by what is given."""
    where = (Where().add("channel = 'webhook'").add_if(status, "status = %s")
             .add_if(endpoint_id, "endpoint_id = %s").add_if(alert_id, "alert_id = %s"))
    with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        return cur.execute(sql.SQL("SELECT {} FROM outbox {} ORDER BY id DESC LIMIT %s").format(
            _DELIVERY, where.clause()), (*where.params, limit)).fetchall()


def get_delivery(conn: Conn, delivery_id: int) -> tuple[DeliveryRow, dict[str, Any]] | None:
    """One webhook delivery and its payload."""
    row = conn.execute(sql.SQL("SELECT {}, payload FROM outbox WHERE id = %s AND channel = 'webhook'").format(
        _DELIVERY), (delivery_id,)).fetchone()
    if row is None:
        return None
    payload = dict(row.pop("payload"))
    return DeliveryRow(**row), payload


def attempts(conn: Conn, outbox_id: int) -> list[AttemptRow]:
    """Every attempt of one delivery, oldest first."""
    with conn.cursor(row_factory=class_row(AttemptRow)) as cur:
        return cur.execute("SELECT at, status_code, error, duration_ms FROM delivery_attempts WHERE outbox_id = %s"
                           " ORDER BY id", (outbox_id,)).fetchall()
