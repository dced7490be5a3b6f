"""The durable outbox: rows written with each alert change, claimed by dispatchers, retried with backoff.

Rows are claimed with a lease (``next_attempt_at`` pushed into the future) instead of a held lock, so HTTP calls
never run inside a database transaction and a crashed dispatcher's rows come back by themselves.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

WEBHOOK_EVENTS = ("alert.new", "alert.update", "alert.resolved")


def event_type_for(change: str) -> str:
    """Webhook event type of one alert change (created, repeated, acknowledged, ..., resolved)."""
    if change == "created":
        return "alert.new"
    if change == "resolved":
        return "alert.resolved"
    return "alert.update"


def mqtt_kind_for(change: str) -> str:
    """The ``kind`` of a lifecycle message on ``estate/{site}/alerts``: new, update or resolved."""
    return event_type_for(change).removeprefix("alert.")


def new_msg_id() -> str:
    return "msg_" + uuid.uuid4().hex


def enqueue_change(conn: psycopg.Connection[Any], alert: dict[str, Any], change: str, now: datetime) -> int:
    """One MQTT row and one row per matching enabled webhook endpoint; returns how many rows were written."""
    event_type = event_type_for(change)
    webhook_payload = {"type": event_type, "timestamp": now.isoformat(), "data": {"change": change, "alert": alert}}
    mqtt_payload = {"kind": mqtt_kind_for(change), "change": change, "at": now.isoformat(), "alert": alert}
    conn.execute(
        "INSERT INTO outbox (created_at, channel, endpoint_id, msg_id, event_type, alert_id, payload, next_attempt_at)"
        " VALUES (%s, 'mqtt', NULL, %s, %s, %s, %s, %s)",
        (now, new_msg_id(), event_type, alert["id"], Jsonb(mqtt_payload), now))
    endpoints = conn.execute(
        "SELECT id FROM webhook_endpoints WHERE enabled AND (cardinality(events) = 0 OR %s = ANY(events))"
        " AND (cardinality(alert_types) = 0 OR %s = ANY(alert_types))", (event_type, alert["type"])).fetchall()
    for endpoint in endpoints:
        conn.execute(
            "INSERT INTO outbox (created_at, channel, endpoint_id, msg_id, event_type, alert_id, payload,"
            " next_attempt_at) VALUES (%s, 'webhook', %s, %s, %s, %s, %s, %s)",
            (now, endpoint["id"], new_msg_id(), event_type, alert["id"], Jsonb(webhook_payload), now))
    return 1 + len(endpoints)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; Retry-After from the receiver wins when it asks for longer."""

    base_s: float = 2.0
    cap_s: float = 3600.0
    max_attempts: int = 15
    lease_s: float = 60.0

    def delay(self, attempt: int, retry_after_s: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        exp = min(self.cap_s, self.base_s * (2.0 ** max(0, attempt - 1)))
        draw = rng.random() if rng is not None else random.random()
        jittered = exp * (0.5 + 0.5 * draw)  # "equal jitter": spreads retries of many rows
        if retry_after_s is not None:  # the receiver knows best, even past our cap (bounded to a day)
            return max(jittered, min(retry_after_s, 86400.0))
        return jittered


@dataclass(frozen=True)
class Claimed:
    """One outbox row claimed for delivery."""

    id: int
    channel: str
    endpoint_id: str | None
    msg_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int
    url: str | None
    secret: str | None


def claim(conn: psycopg.Connection[Any], channel: str, now: datetime, policy: RetryPolicy,
          limit: int = 50) -> list[Claimed]:
    """Take due rows of one channel for ``policy.lease_s``; commits at once so other dispatchers skip them."""
    with conn.transaction():
        rows = conn.execute(
            "UPDATE outbox o SET next_attempt_at = %s, attempts = o.attempts + 1 WHERE o.id IN ("
            " SELECT id FROM outbox WHERE status = 'pending' AND channel = %s AND next_attempt_at <= %s"
            " ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING o.id, o.channel, o.endpoint_id, o.msg_id, o.event_type, o.payload, o.attempts",
            (now + timedelta(seconds=policy.lease_s), channel, now, limit)).fetchall()
        endpoints: dict[str, dict[str, Any]] = {}
        ids = sorted({r["endpoint_id"] for r in rows if r["endpoint_id"]})
        if ids:
            for e in conn.execute("SELECT id, url, secret FROM webhook_endpoints WHERE id = ANY(%s)",
                                  (ids,)).fetchall():
                endpoints[e["id"]] = e
    out = []
    for r in sorted(rows, key=lambda r: int(r["id"])):
        endpoint = endpoints.get(r["endpoint_id"] or "", {})
        out.append(Claimed(int(r["id"]), r["channel"], r["endpoint_id"], r["msg_id"], r["event_type"],
                           r["payload"], int(r["attempts"]), endpoint.get("url"), endpoint.get("secret")))
    return out


def record_attempt(conn: psycopg.Connection[Any], outbox_id: int, at: datetime, status_code: int | None,
                   error: str | None, duration_ms: float) -> None:
    conn.execute("INSERT INTO delivery_attempts (outbox_id, at, status_code, error, duration_ms)"
                 " VALUES (%s, %s, %s, %s, %s)", (outbox_id, at, status_code, error, duration_ms))


def mark_delivered(conn: psycopg.Connection[Any], outbox_id: int, at: datetime) -> None:
    conn.execute("UPDATE outbox SET status = 'delivered', delivered_at = %s, last_error = NULL WHERE id = %s",
                 (at, outbox_id))


def mark_retry(conn: psycopg.Connection[Any], row: Claimed, at: datetime, error: str, policy: RetryPolicy,
               retry_after_s: float | None) -> None:
    """Schedule the next attempt, or move the row to the dead letters after ``max_attempts``."""
    if row.attempts >= policy.max_attempts:
        conn.execute("UPDATE outbox SET status = 'dead', last_error = %s WHERE id = %s", (error, row.id))
        return
    wait = policy.delay(row.attempts, retry_after_s)
    conn.execute("UPDATE outbox SET next_attempt_at = %s, last_error = %s WHERE id = %s",
                 (at + timedelta(seconds=wait), error, row.id))


def disable_endpoint(conn: psycopg.Connection[Any], endpoint_id: str, reason: str) -> None:
    """A 410 Gone: stop sending there; its pending rows become dead letters (redeliverable once re-enabled)."""
    conn.execute("UPDATE webhook_endpoints SET enabled = false, disabled_reason = %s WHERE id = %s",
                 (reason, endpoint_id))
    conn.execute("UPDATE outbox SET status = 'dead', last_error = %s WHERE endpoint_id = %s AND status = 'pending'",
                 (reason, endpoint_id))


def redeliver(conn: psycopg.Connection[Any], outbox_id: int, now: datetime) -> bool:
    """Put a dead (or delivered) row back in the queue with the same webhook-id; False when there is no such row."""
    row = conn.execute("UPDATE outbox SET status = 'pending', next_attempt_at = %s, attempts = 0 WHERE id = %s"
                       " RETURNING id", (now, outbox_id)).fetchone()
    return row is not None


def delivery_json(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row for the API (payload left out of lists: fetch one delivery for it)."""
    return {
        "id": row["id"], "channel": row["channel"], "endpoint_id": row["endpoint_id"], "msg_id": row["msg_id"],
        "event_type": row["event_type"], "alert_id": row["alert_id"], "status": row["status"],
        "attempts": row["attempts"], "created_at": row["created_at"].isoformat(),
        "next_attempt_at": row["next_attempt_at"].isoformat(), "last_error": row["last_error"],
        "delivered_at": row["delivered_at"].isoformat() if row["delivered_at"] else None,
    }


def dumps(payload: dict[str, Any]) -> str:
    """The exact body that is signed and sent: compact, key order kept."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
