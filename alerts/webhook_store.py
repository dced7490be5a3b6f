"""SQL for webhook endpoints and their deliveries (the outbox rows of the webhook channel)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from alerts.outbox import delivery_json
from alerts.webhooks import new_secret, secret_bytes

_ENDPOINT = "id, url, secret, events, alert_types, enabled, disabled_reason, description, created_at"


def endpoint_json(row: dict[str, Any], *, with_secret: bool = False) -> dict[str, Any]:
    out = {"id": row["id"], "url": row["url"], "events": list(row["events"]), "alert_types": list(row["alert_types"]),
           "enabled": row["enabled"], "disabled_reason": row["disabled_reason"], "description": row["description"],
           "created_at": row["created_at"].isoformat()}
    if with_secret:
        out["secret"] = row["secret"]
    return out


def create_endpoint(conn: psycopg.Connection[Any], url: str, *, events: list[str] | None = None,
                    alert_types: list[str] | None = None, description: str = "",
                    secret: str | None = None) -> dict[str, Any]:
    """Register an endpoint; the secret (given, or made here) is returned once, on creation."""
    secret = secret or new_secret()
    secret_bytes(secret)  # refuse a malformed secret now rather than at the first delivery
    row = conn.execute(
        f"INSERT INTO webhook_endpoints (id, url, secret, events, alert_types, description)"
        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_ENDPOINT}",
        ("ep_" + uuid.uuid4().hex[:16], url, secret, events or [], alert_types or [], description)).fetchone()
    assert row is not None
    return endpoint_json(row, with_secret=True)


def list_endpoints(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [endpoint_json(r) for r in conn.execute(f"SELECT {_ENDPOINT} FROM webhook_endpoints ORDER BY created_at")]


def get_endpoint(conn: psycopg.Connection[Any], endpoint_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE id = %s", (endpoint_id,)).fetchone()
    return endpoint_json(row) if row else None


def update_endpoint(conn: psycopg.Connection[Any], endpoint_id: str, *, enabled: bool | None = None,
                    url: str | None = None, events: list[str] | None = None,
                    alert_types: list[str] | None = None) -> dict[str, Any] | None:
    row = conn.execute(
        "UPDATE webhook_endpoints SET enabled = coalesce(%s, enabled), url = coalesce(%s, url),"
        " events = coalesce(%s, events), alert_types = coalesce(%s, alert_types),"
        " disabled_reason = CASE WHEN coalesce(%s, enabled) THEN NULL ELSE disabled_reason END"
        f" WHERE id = %s RETURNING {_ENDPOINT}",
        (enabled, url, events, alert_types, enabled, endpoint_id)).fetchone()
    return endpoint_json(row) if row else None


def delete_endpoint(conn: psycopg.Connection[Any], endpoint_id: str) -> bool:
    return conn.execute("DELETE FROM webhook_endpoints WHERE id = %s RETURNING id", (endpoint_id,)).fetchone() \
        is not None


_DELIVERY = ("id, channel, endpoint_id, msg_id, event_type, alert_id, status, attempts, created_at, next_attempt_at,"
             " last_error, delivered_at")


def list_deliveries(conn: psycopg.Connection[Any], *, status: str | None = None, endpoint_id: str | None = None,
                    alert_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    where: list[str] = ["channel = 'webhook'"]
    params: list[object] = []
    for column, value in (("status", status), ("endpoint_id", endpoint_id), ("alert_id", alert_id)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    rows = conn.execute(f"SELECT {_DELIVERY} FROM outbox WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT %s",
                        (*params, limit)).fetchall()
    return [delivery_json(r) for r in rows]


def get_delivery(conn: psycopg.Connection[Any], delivery_id: int) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {_DELIVERY}, payload FROM outbox WHERE id = %s AND channel = 'webhook'",
                       (delivery_id,)).fetchone()
    if row is None:
        return None
    out = delivery_json(row)
    out["payload"] = row["payload"]
    attempts = conn.execute("SELECT at, status_code, error, duration_ms FROM delivery_attempts WHERE outbox_id = %s"
                            " ORDER BY id", (delivery_id,)).fetchall()
    out["attempt_log"] = [{"at": a["at"].isoformat(), "status_code": a["status_code"], "error": a["error"],
                           "duration_ms": round(a["duration_ms"], 1)} for a in attempts]
    return out
