"""SQL for alerts: dedup on raise, lifecycle changes, SLA escalation, history and comments.

Every change goes through ``_record`` so that history, outbox rows and the ``ew_alerts`` notification are written
in the same transaction as the change itself.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alerts.intake import AlertDraft
from alerts.model import SEVERITIES, SlaPolicy, SlaView, check_transition, due_breaches
from alerts.outbox import enqueue_change

NOTIFY_CHANNEL = "ew_alerts"
_ALERT_COLUMNS = (
    "id, site, type, severity, status, dedup_key, count, title, subject, building, floor, details, evidence,"
    " first_occurred_at, last_occurred_at, created_at, updated_at, acknowledged_at, resolved_at, resolution,"
    " assignee, sla_class, ack_due_at, resolve_due_at, ack_breached, resolve_breached, escalation_level,"
    " recipient_group"
)


@dataclass(frozen=True)
class RaiseResult:
    alert_id: str
    created: bool
    count: int


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def alert_json(row: dict[str, Any]) -> dict[str, Any]:
    """The alert as integrators, the console and webhooks see it (a promise: keys are only ever added)."""
    alert_id = str(row["id"])
    evidence = dict(row["evidence"] or {})
    return {
        "id": alert_id,
        "site": row["site"],
        "type": row["type"],
        "severity": row["severity"],
        "status": row["status"],
        "dedup_key": row["dedup_key"],
        "count": row["count"],
        "title": row["title"],
        "subject": dict(row["subject"] or {}),
        "details": dict(row["details"] or {}),
        "evidence": evidence,
        "links": {
            "self": f"/api/v1/alerts/{alert_id}",
            "evidence": {name: value for name, value in evidence.items() if isinstance(value, str)},
        },
        "first_occurred_at": _iso(row["first_occurred_at"]),
        "last_occurred_at": _iso(row["last_occurred_at"]),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "acknowledged_at": _iso(row["acknowledged_at"]),
        "resolved_at": _iso(row["resolved_at"]),
        "resolution": row["resolution"],
        "assignee": row["assignee"],
        "sla": {
            "class": row["sla_class"],
            "ack_due_at": _iso(row["ack_due_at"]),
            "resolve_due_at": _iso(row["resolve_due_at"]),
            "ack_breached": row["ack_breached"],
            "resolve_breached": row["resolve_breached"],
            "escalation_level": row["escalation_level"],
            "recipient_group": row["recipient_group"],
        },
    }


def get_alert(conn: psycopg.Connection[Any], alert_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = %s" + (" FOR UPDATE" if lock else "")
    row: dict[str, Any] | None = conn.execute(sql, (alert_id,)).fetchone()
    return row


def _record(conn: psycopg.Connection[Any], row: dict[str, Any], kind: str, actor: str, data: dict[str, Any],
            now: datetime) -> None:
    """History + outbox + notification for one change of ``row`` (already updated)."""
    conn.execute("INSERT INTO alert_history (alert_id, at, kind, actor, data) VALUES (%s, %s, %s, %s, %s)",
                 (row["id"], now, kind, actor, Jsonb(data)))
    body = alert_json(row)
    enqueue_change(conn, body, kind, now)
    note = {"id": row["id"], "change": kind, "status": row["status"], "type": row["type"],
            "severity": row["severity"], "site": row["site"]}
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(note)))


def upsert_alert(conn: psycopg.Connection[Any], draft: AlertDraft, *, now: datetime | None = None,
                 policy: SlaPolicy | None = None) -> RaiseResult:
    """Insert a new alert, or bump the count of the active one with the same dedup key."""
    now = now or datetime.now(UTC)
    policy = policy or SlaPolicy()
    for _ in range(3):  # a concurrent raise of the same key may win the insert: then we update theirs
        existing = conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE site = %s AND dedup_key = %s AND status <> 'resolved'"
            " FOR UPDATE", (draft.site, draft.dedup_key)).fetchone()
        if existing is not None:
            return _repeat(conn, existing, draft, now)
        ack_due, resolve_due = policy.deadlines(draft.type, now)
        subject = dict(draft.subject)
        floor = subject.get("floor")
        row = conn.execute(
            f"INSERT INTO alerts ({_ALERT_COLUMNS}) VALUES (%s, %s, %s, %s, 'open', %s, 1, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s, NULL, NULL, NULL, NULL, %s, %s, %s, false, false, 0, %s)"
            " ON CONFLICT (site, dedup_key) WHERE status <> 'resolved' DO NOTHING"
            f" RETURNING {_ALERT_COLUMNS}",
            ("al_" + uuid.uuid4().hex[:20], draft.site, draft.type, draft.severity, draft.dedup_key, draft.title,
             Jsonb(subject), subject.get("building"), int(floor) if isinstance(floor, int | float) else None,
             Jsonb(draft.details), Jsonb(draft.evidence), draft.occurred_at, draft.occurred_at, now, now,
             policy.class_of(draft.type), ack_due, resolve_due, policy.group(0)),
        ).fetchone()
        if row is not None:
            _record(conn, row, "created", "system", {"occurred_at": draft.occurred_at.isoformat()}, now)
            return RaiseResult(str(row["id"]), True, 1)
    raise RuntimeError(f"could not raise alert with dedup key {draft.dedup_key!r}")


def _repeat(conn: psycopg.Connection[Any], existing: dict[str, Any], draft: AlertDraft, now: datetime) -> RaiseResult:
    severity = max(existing["severity"], draft.severity, key=SEVERITIES.index)
    row = conn.execute(
        "UPDATE alerts SET count = count + 1, severity = %s, last_occurred_at = greatest(last_occurred_at, %s),"
        " details = details || %s, evidence = evidence || %s, updated_at = %s WHERE id = %s"
        f" RETURNING {_ALERT_COLUMNS}",
        (severity, draft.occurred_at, Jsonb(draft.details), Jsonb(draft.evidence), now, existing["id"]),
    ).fetchone()
    assert row is not None
    _record(conn, row, "repeated", "system", {"count": row["count"], "occurred_at": draft.occurred_at.isoformat()},
            now)
    return RaiseResult(str(row["id"]), False, int(row["count"]))


def _update(conn: psycopg.Connection[Any], alert_id: str, sets: str, params: tuple[Any, ...]) -> dict[str, Any]:
    row: dict[str, Any] | None = conn.execute(
        f"UPDATE alerts SET {sets} WHERE id = %s RETURNING {_ALERT_COLUMNS}", (*params, alert_id)).fetchone()
    assert row is not None
    return row


def _locked(conn: psycopg.Connection[Any], alert_id: str) -> dict[str, Any]:
    row = get_alert(conn, alert_id, lock=True)
    if row is None:
        raise KeyError(alert_id)
    return row


def acknowledge(conn: psycopg.Connection[Any], alert_id: str, actor: str, now: datetime) -> dict[str, Any]:
    current = _locked(conn, alert_id)
    check_transition(current["status"], "acknowledged")
    row = _update(conn, alert_id, "status = 'acknowledged', acknowledged_at = %s, updated_at = %s, "
                  "assignee = coalesce(assignee, %s)", (now, now, actor))
    _record(conn, row, "acknowledged", actor, {}, now)
    return row


def assign(conn: psycopg.Connection[Any], alert_id: str, assignee: str, actor: str, now: datetime) -> dict[str, Any]:
    current = _locked(conn, alert_id)
    if current["status"] == "resolved":
        check_transition("resolved", "acknowledged")
    row = _update(conn, alert_id, "assignee = %s, updated_at = %s", (assignee, now))
    _record(conn, row, "assigned", actor, {"assignee": assignee, "previous": current["assignee"]}, now)
    return row


def comment(conn: psycopg.Connection[Any], alert_id: str, author: str, body: str, now: datetime) -> dict[str, Any]:
    _locked(conn, alert_id)
    conn.execute("INSERT INTO alert_comments (alert_id, at, author, body) VALUES (%s, %s, %s, %s)",
                 (alert_id, now, author, body))
    row = _update(conn, alert_id, "updated_at = %s", (now,))
    _record(conn, row, "commented", author, {"body": body}, now)
    return row


def resolve(conn: psycopg.Connection[Any], alert_id: str, resolution: str, actor: str, now: datetime,
            note: str | None = None) -> dict[str, Any]:
    current = _locked(conn, alert_id)
    check_transition(current["status"], "resolved")
    row = _update(conn, alert_id, "status = 'resolved', resolution = %s, resolved_at = %s, updated_at = %s",
                  (resolution, now, now))
    _record(conn, row, "resolved", actor, {"resolution": resolution, "note": note}, now)
    return row


def escalate_due(conn: psycopg.Connection[Any], now: datetime, policy: SlaPolicy, limit: int = 500,
                 site: str | None = None) -> int:
    """Escalate alerts whose acknowledge or resolve deadline has passed; the partial indexes keep this cheap."""
    rows = conn.execute(
        f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id IN ("
        " SELECT id FROM alerts WHERE status = 'open' AND NOT ack_breached AND ack_due_at <= %s"
        " UNION SELECT id FROM alerts WHERE status <> 'resolved' AND NOT resolve_breached AND resolve_due_at <= %s)"
        " AND (%s::text IS NULL OR site = %s) ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, now, site, site, limit)).fetchall()
    for current in rows:
        view = SlaView(current["status"], current["severity"], current["ack_due_at"], current["resolve_due_at"],
                       current["ack_breached"], current["resolve_breached"], current["escalation_level"])
        for breach in due_breaches(view, now, policy):
            flag = "ack_breached" if breach.which == "ack" else "resolve_breached"
            row = _update(conn, current["id"], f"{flag} = true, severity = %s, escalation_level = %s,"
                          " recipient_group = %s, updated_at = %s",
                          (breach.new_severity, breach.new_level, breach.new_group, now))
            _record(conn, row, "escalated", "system", {"breach": breach.which, "due_at": breach.due_at.isoformat(),
                                                       "severity": breach.new_severity,
                                                       "recipient_group": breach.new_group}, now)
    return len(rows)


def history(conn: psycopg.Connection[Any], alert_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT at, kind, actor, data FROM alert_history WHERE alert_id = %s ORDER BY id",
                        (alert_id,)).fetchall()
    return [{"at": r["at"].isoformat(), "kind": r["kind"], "actor": r["actor"], "data": r["data"]} for r in rows]


def comments(conn: psycopg.Connection[Any], alert_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, at, author, body FROM alert_comments WHERE alert_id = %s ORDER BY id",
                        (alert_id,)).fetchall()
    return [{"id": r["id"], "at": r["at"].isoformat(), "author": r["author"], "body": r["body"]} for r in rows]


def deliveries(conn: psycopg.Connection[Any], alert_id: str) -> list[dict[str, Any]]:
    """Where each change of the alert went (MQTT and each webhook endpoint) and how that went."""
    rows = conn.execute("SELECT id, channel, endpoint_id, msg_id, event_type, status, attempts, delivered_at"
                        " FROM outbox WHERE alert_id = %s ORDER BY id", (alert_id,)).fetchall()
    return [{**r, "delivered_at": r["delivered_at"].isoformat() if r["delivered_at"] else None} for r in rows]


def list_alerts(conn: psycopg.Connection[Any], *, site: str | None = None, status: str | None = None,
                type_: str | None = None, severity: str | None = None, resident: str | None = None,
                building: str | None = None, before: datetime | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
    """Newest first, filtered; ``before`` (a created_at) pages further back."""
    where: list[str] = ["true"]
    params: list[object] = []
    for column, value in (("site", site), ("status", status), ("type", type_), ("severity", severity),
                          ("building", building)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if resident is not None:
        where.append("subject->>'resident' = %s")
        params.append(resident)
    if before is not None:
        where.append("created_at < %s")
        params.append(before)
    rows = conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE {' AND '.join(where)}"
                        " ORDER BY created_at DESC, id LIMIT %s", (*params, limit)).fetchall()
    return [alert_json(r) for r in rows]
