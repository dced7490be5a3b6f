"""SQL for the durable outbox: rows written with each alert change, claimed by dispatchers with a lease.

Rows are claimed by pushing ``next_attempt_at`` into the future instead of holding a lock, so HTTP calls never run
inside a database transaction and a crashed dispatcher's rows come back by themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from store.db import Conn


@dataclass(frozen=True)
class OutboxMessage:
    """One message to deliver: on the MQTT alerts topic (no endpoint) or to one webhook endpoint."""

    channel: str  # mqtt or webhook
    endpoint_id: str | None
    msg_id: str
    event_type: str
    alert_id: str
    payload: Mapping[str, object]


@dataclass(frozen=True)
class Claimed:
    """One outbox row claimed for delivery, with its endpoint's URL and secret (None once deleted)."""

    id: int
    channel: str
    endpoint_id: str | None
    msg_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int
    url: str | None
    secret: str | None  # as stored (sealed); webhook_secrets opens it
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None


@dataclass(frozen=True)
class AlertDelivery:
    """Where one change of an alert went and how that went."""

    id: int
    channel: str
    endpoint_id: str | None
    msg_id: str
    event_type: str
    status: str
    attempts: int
    delivered_at: datetime | None


def matching_endpoints(conn: Conn, event_type: str, alert_type: str) -> list[str]:
    """Enabled webhook endpoints whose event and alert-type filters accept this change (empty filter = all)."""
    rows = conn.execute("SELECT id FROM webhook_endpoints WHERE enabled"
                        " AND (cardinality(events) = 0 OR %s = ANY(events))"
                        " AND (cardinality(alert_types) = 0 OR %s = ANY(alert_types)) ORDER BY id",
                        (event_type, alert_type)).fetchall()
    return [str(r["id"]) for r in rows]


def enqueue(conn: Conn, messages: Sequence[OutboxMessage], now: datetime) -> int:
    """Write messages due at once, in the caller's transaction; returns how many were written."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO outbox (created_at, channel, endpoint_id, msg_id, event_type, alert_id, payload,"
            " next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(now, m.channel, m.endpoint_id, m.msg_id, m.event_type, m.alert_id, Jsonb(dict(m.payload)), now)
             for m in messages])
    return len(messages)


def claim(conn: Conn, channel: str, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
    """Take due rows of one channel until ``lease_until``; commits at once so other dispatchers skip them."""
    with conn.transaction(), conn.cursor(row_factory=class_row(Claimed)) as cur:
        return cur.execute(
            "WITH taken AS (UPDATE outbox o SET next_attempt_at = %s, attempts = o.attempts + 1 WHERE o.id IN ("
            " SELECT id FROM outbox WHERE status = 'pending' AND channel = %s AND next_attempt_at <= %s"
            " ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING o.id, o.channel, o.endpoint_id, o.msg_id, o.event_type, o.payload, o.attempts)"
            " SELECT t.id, t.channel, t.endpoint_id, t.msg_id, t.event_type, t.payload, t.attempts, e.url, e.secret,"
            " e.previous_secret, e.previous_secret_until"
            " FROM taken t LEFT JOIN webhook_endpoints e ON e.id = t.endpoint_id ORDER BY t.id",
            (lease_until, channel, now, limit)).fetchall()


def claim_webhooks(conn: Conn, now: datetime, lease_until: datetime, *, per_endpoint: int, limit: int,
                   busy: Sequence[str]) -> list[Claimed]:
    """Take due webhook rows, at most ``per_endpoint`` of each endpoint and none of the ``busy`` ones (still being
    delivered to), until ``lease_until``. The outer quals are checked again on rows another dispatcher took
    meanwhile, so a row is never claimed twice.
    """
    with conn.transaction(), conn.cursor(row_factory=class_row(Claimed)) as cur:
        return cur.execute(
            "WITH due AS (SELECT id FROM (SELECT id, next_attempt_at, row_number() OVER"
            " (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS n FROM outbox"
            " WHERE status = 'pending' AND channel = 'webhook' AND next_attempt_at <= %s"
            " AND NOT (endpoint_id = ANY(%s))) d WHERE n <= %s ORDER BY next_attempt_at, id LIMIT %s),"
            " taken AS (UPDATE outbox o SET next_attempt_at = %s, attempts = o.attempts + 1"
            " WHERE o.id IN (SELECT id FROM due) AND o.status = 'pending' AND o.next_attempt_at <= %s"
            " RETURNING o.id, o.channel, o.endpoint_id, o.msg_id, o.event_type, o.payload, o.attempts)"
            " SELECT t.id, t.channel, t.endpoint_id, t.msg_id, t.event_type, t.payload, t.attempts, e.url, e.secret,"
            " e.previous_secret, e.previous_secret_until"
            " FROM taken t LEFT JOIN webhook_endpoints e ON e.id = t.endpoint_id ORDER BY t.id",
            (now, list(busy), per_endpoint, limit, lease_until, now)).fetchall()


def record_attempt(conn: Conn, outbox_id: int, at: datetime, status_code: int | None, error: str | None,
                   duration_ms: float) -> None:
    """Keep one delivery attempt (time, HTTP status, error, duration) for the API and the console."""
    conn.execute("INSERT INTO delivery_attempts (outbox_id, at, status_code, error, duration_ms)"
                 " VALUES (%s, %s, %s, %s, %s)", (outbox_id, at, status_code, error, duration_ms))


def mark_delivered(conn: Conn, outbox_ids: Sequence[int], at: datetime) -> None:
    """These rows reached their receiver."""
    conn.execute("UPDATE outbox SET status = 'delivered', delivered_at = %s, last_error = NULL WHERE id = ANY(%s)",
                 (at, list(outbox_ids)))


def schedule_retry(conn: Conn, outbox_id: int, next_attempt_at: datetime, error: str) -> None:
    """Try this row again at ``next_attempt_at``."""
    conn.execute("UPDATE outbox SET next_attempt_at = %s, last_error = %s WHERE id = %s",
                 (next_attempt_at, error, outbox_id))


def mark_dead(conn: Conn, outbox_id: int, error: str) -> None:
    """Give up on this row: it becomes a dead letter an admin may redeliver."""
    conn.execute("UPDATE outbox SET status = 'dead', last_error = %s WHERE id = %s", (error, outbox_id))


def disable_endpoint(conn: Conn, endpoint_id: str, reason: str) -> None:
    """Stop sending to an endpoint; its pending rows become dead letters (redeliverable once re-enabled)."""
    conn.execute("UPDATE webhook_endpoints SET enabled = false, disabled_reason = %s WHERE id = %s",
                 (reason, endpoint_id))
    conn.execute("UPDATE outbox SET status = 'dead', last_error = %s WHERE endpoint_id = %s AND status = 'pending'",
                 (reason, endpoint_id))


def redeliver(conn: Conn, outbox_id: int, now: datetime) -> bool:
    """Put a dead (or delivered) row back in the queue with the same msg id; False when there is no such row."""
    row = conn.execute("UPDATE outbox SET status = 'pending', next_attempt_at = %s, attempts = 0 WHERE id = %s"
                       " RETURNING id", (now, outbox_id)).fetchone()
    return row is not None


def for_alert(conn: Conn, alert_id: str) -> list[AlertDelivery]:
    """Every outbox row of one alert, oldest first."""
    with conn.cursor(row_factory=class_row(AlertDelivery)) as cur:
        return cur.execute("SELECT id, channel, endpoint_id, msg_id, event_type, status, attempts, delivered_at"
                           " FROM outbox WHERE alert_id = %s ORDER BY id", (alert_id,)).fetchall()
