"""SQL for alerts, their history and comments, and the sensor rules' per-device state.

Plain values in, row dataclasses out: the alerts area decides (dedup, lifecycle, SLA) and this module only stores.
Every statement is static text or composed with ``psycopg.sql``; dynamic filters and SET lists use ``store.filters``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from store.db import Conn
from store.filters import Where, assignments


@dataclass(frozen=True)
class AlertRow:
    """One row of ``alerts`` as stored."""

    id: str
    site: str
    type: str
    severity: str
    status: str
    dedup_key: str
    count: int
    title: str
    subject: dict[str, Any]
    building: str | None
    floor: int | None
    details: dict[str, Any]
    evidence: dict[str, Any]
    first_occurred_at: datetime
    last_occurred_at: datetime
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    assignee: str | None
    sla_class: str
    ack_due_at: datetime
    resolve_due_at: datetime
    ack_breached: bool
    resolve_breached: bool
    escalation_level: int
    recipient_group: str


@dataclass(frozen=True)
class NewAlert:
    """The values of a new alert row (status open, count 1, no breach yet)."""

    id: str
    site: str
    type: str
    severity: str
    dedup_key: str
    title: str
    subject: Mapping[str, object]
    building: str | None
    floor: int | None
    details: Mapping[str, object]
    evidence: Mapping[str, object]
    occurred_at: datetime
    created_at: datetime
    sla_class: str
    ack_due_at: datetime
    resolve_due_at: datetime
    recipient_group: str


@dataclass(frozen=True)
class HistoryRow:
    """One entry of an alert's history."""

    at: datetime
    kind: str
    actor: str
    data: dict[str, Any]


@dataclass(frozen=True)
class CommentRow:
    """One staff comment on an alert."""

    id: int
    at: datetime
    author: str
    body: str


_COLUMNS = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(AlertRow))
_ROWS = class_row(AlertRow)


def _one(conn: Conn, query: sql.Composed, params: Sequence[object]) -> AlertRow | None:
    with conn.cursor(row_factory=_ROWS) as cur:
        return cur.execute(query, params).fetchone()


def _all(conn: Conn, query: sql.Composed, params: Sequence[object]) -> list[AlertRow]:
    with conn.cursor(row_factory=_ROWS) as cur:
        return cur.execute(query, params).fetchall()


def get_alert(conn: Conn, alert_id: str, *, lock: bool = False) -> AlertRow | None:
    """One alert by id; ``lock`` holds it for the caller's transaction."""
    query = sql.SQL("SELECT {} FROM alerts WHERE id = %s {}").format(
        _COLUMNS, sql.SQL("FOR UPDATE" if lock else ""))
    return _one(conn, query, (alert_id,))


def find_active(conn: Conn, site: str, dedup_key: str) -> AlertRow | None:
    """The active (not resolved) alert with this dedup key, locked; None when there is none."""
    query = sql.SQL("SELECT {} FROM alerts WHERE site = %s AND dedup_key = %s AND status <> 'resolved'"
                    " FOR UPDATE").format(_COLUMNS)
    return _one(conn, query, (site, dedup_key))


def active_id(conn: Conn, site: str, dedup_key: str) -> str | None:
    """The id of the active alert with this dedup key, without locking it."""
    row = conn.execute("SELECT id FROM alerts WHERE site = %s AND dedup_key = %s AND status <> 'resolved'",
                       (site, dedup_key)).fetchone()
    return str(row["id"]) if row is not None else None


def insert_alert(conn: Conn, new: NewAlert) -> AlertRow | None:
    """Insert an open alert; None when a concurrent raise of the same key won (the caller updates theirs)."""
    query = sql.SQL(
        "INSERT INTO alerts (id, site, type, severity, status, dedup_key, count, title, subject, building, floor,"
        " details, evidence, first_occurred_at, last_occurred_at, created_at, updated_at, sla_class, ack_due_at,"
        " resolve_due_at, recipient_group)"
        " VALUES (%s, %s, %s, %s, 'open', %s, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (site, dedup_key) WHERE status <> 'resolved' DO NOTHING RETURNING {}").format(_COLUMNS)
    return _one(conn, query, (
        new.id, new.site, new.type, new.severity, new.dedup_key, new.title, Jsonb(dict(new.subject)), new.building,
        new.floor, Jsonb(dict(new.details)), Jsonb(dict(new.evidence)), new.occurred_at, new.occurred_at,
        new.created_at, new.created_at, new.sla_class, new.ack_due_at, new.resolve_due_at, new.recipient_group))


def repeat_alert(conn: Conn, alert_id: str, *, severity: str, occurred_at: datetime, details: Mapping[str, object],
                 evidence: Mapping[str, object], now: datetime, title: str | None = None) -> AlertRow:
    """Count one more occurrence on an active alert, merging details and evidence (and a newer ``title``)."""
    query = sql.SQL(
        "UPDATE alerts SET count = count + 1, severity = %s, last_occurred_at = greatest(last_occurred_at, %s),"
        " details = details || %s, evidence = evidence || %s, updated_at = %s, title = coalesce(%s, title)"
        " WHERE id = %s RETURNING {}",
    ).format(_COLUMNS)
    row = _one(conn, query, (severity, occurred_at, Jsonb(dict(details)), Jsonb(dict(evidence)), now, title,
                             alert_id))
    if row is None:
        raise KeyError(alert_id)
    return row


def update_alert(conn: Conn, alert_id: str, values: Mapping[str, object]) -> AlertRow:
    """Set these columns of one alert and return the row as it now is.

    Raises:
        KeyError: when there is no such alert.
    """
    sets, params = assignments(values)
    row = _one(conn, sql.SQL("UPDATE alerts SET {} WHERE id = %s RETURNING {}").format(sets, _COLUMNS),
               (*params, alert_id))
    if row is None:
        raise KeyError(alert_id)
    return row


def due_for_escalation(conn: Conn, now: datetime, *, site: str | None, limit: int) -> list[AlertRow]:
    """Alerts whose acknowledge or resolve deadline has passed, locked (other processes skip them)."""
    query = sql.SQL(
        "SELECT {} FROM alerts WHERE id IN ("
        " SELECT id FROM alerts WHERE status = 'open' AND NOT ack_breached AND ack_due_at <= %s"
        " UNION SELECT id FROM alerts WHERE status <> 'resolved' AND NOT resolve_breached AND resolve_due_at <= %s)"
        " AND (%s::text IS NULL OR site = %s) ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED").format(_COLUMNS)
    return _all(conn, query, (now, now, site, site, limit))


@dataclass(frozen=True)
class AlertFilter:
    """What a list of alerts is narrowed to; None means any."""

    site: str | None = None
    status: str | None = None
    type: str | None = None
    severity: str | None = None
    building: str | None = None
    resident: str | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class TriageOrder:
    """The queue's order: the rank of each listed type (others get ``default_rank``), lowest first; then severity,
    then the deadline that matters now (acknowledge while open, resolve after) nearest first.
    """

    ranked_types: Sequence[tuple[int, Sequence[str]]]
    default_rank: int


def _filter_where(flt: AlertFilter) -> Where:
    return (Where().add_if(flt.site, "site = %s").add_if(flt.status, "status = %s").add_if(flt.type, "type = %s")
            .add_if(flt.severity, "severity = %s").add_if(flt.building, "building = %s")
            .add_if(flt.resident, "subject->>'resident' = %s").add_if(flt.before, "created_at < %s"))


def _triage_order(order: TriageOrder) -> tuple[sql.Composable, list[object]]:
    whens = [sql.SQL("WHEN type = ANY(%s) THEN {}").format(sql.Literal(rank)) for rank, _ in order.ranked_types]
    params: list[object] = [list(types) for _, types in order.ranked_types]
    rank = sql.SQL("CASE {} ELSE {} END").format(sql.SQL(" ").join(whens), sql.Literal(order.default_rank))
    clause = sql.SQL(
        "ORDER BY status = 'resolved', {}, CASE severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1"
        " WHEN 'minor' THEN 2 ELSE 3 END, CASE WHEN status = 'open' THEN ack_due_at ELSE resolve_due_at END,"
        " created_at, id").format(rank)
    return clause, params


def list_alerts(conn: Conn, flt: AlertFilter, limit: int, triage: TriageOrder | None = None) -> list[AlertRow]:
    """Filtered; newest first (``before``, a created_at, pages further back), or in ``triage`` order."""
    where = _filter_where(flt)
    if triage is None:
        query = sql.SQL("SELECT {} FROM alerts {} ORDER BY created_at DESC, id LIMIT %s").format(
            _COLUMNS, where.clause())
        return _all(conn, query, (*where.params, limit))
    order, order_params = _triage_order(triage)
    query = sql.SQL("SELECT {} FROM alerts {} {} LIMIT %s").format(_COLUMNS, where.clause(), order)
    return _all(conn, query, (*where.params, *order_params, limit))


def lock_matching(conn: Conn, flt: AlertFilter, limit: int) -> list[str]:
    """Ids of the alerts matching ``flt`` (oldest first), locked for the caller's transaction; others skip them."""
    where = _filter_where(flt)
    query = sql.SQL("SELECT id FROM alerts {} ORDER BY created_at, id LIMIT %s FOR UPDATE SKIP LOCKED").format(
        where.clause())
    return [str(r["id"]) for r in conn.execute(query, (*where.params, limit)).fetchall()]


# ---- silences: a matcher (type, optionally a building) that mutes alerts until an end time


@dataclass(frozen=True)
class SilenceRow:
    """One silence as stored."""

    id: int
    site: str
    type: str
    building: str | None
    reason: str
    created_by: str
    created_at: datetime
    ends_at: datetime
    ended_at: datetime | None


_SILENCE_COLUMNS = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(SilenceRow))


def add_silence(conn: Conn, *, site: str, type_: str, building: str | None, reason: str, created_by: str,
                now: datetime, ends_at: datetime) -> SilenceRow:
    """Store a new silence."""
    query = sql.SQL("INSERT INTO alert_silences (site, type, building, reason, created_by, created_at, ends_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {}").format(_SILENCE_COLUMNS)
    with conn.cursor(row_factory=class_row(SilenceRow)) as cur:
        row = cur.execute(query, (site, type_, building, reason, created_by, now, ends_at)).fetchone()
    if row is None:  # INSERT ... RETURNING always returns the row
        raise LookupError("silence not stored")
    return row


def active_silences(conn: Conn, site: str, now: datetime) -> list[SilenceRow]:
    """Silences in force at ``now`` (not ended early, end time not reached), soonest end first."""
    query = sql.SQL("SELECT {} FROM alert_silences WHERE site = %s AND ended_at IS NULL AND ends_at > %s"
                    " ORDER BY ends_at, id").format(_SILENCE_COLUMNS)
    with conn.cursor(row_factory=class_row(SilenceRow)) as cur:
        return cur.execute(query, (site, now)).fetchall()


def end_silence(conn: Conn, site: str, silence_id: int, now: datetime) -> SilenceRow | None:
    """End a silence early; None when there is no such silence in force."""
    query = sql.SQL("UPDATE alert_silences SET ended_at = %s WHERE id = %s AND site = %s AND ended_at IS NULL"
                    " AND ends_at > %s RETURNING {}").format(_SILENCE_COLUMNS)
    with conn.cursor(row_factory=class_row(SilenceRow)) as cur:
        return cur.execute(query, (now, silence_id, site, now)).fetchone()


def add_history(conn: Conn, alert_id: str, at: datetime, kind: str, actor: str, data: Mapping[str, object]) -> None:
    """Append one entry to an alert's history."""
    conn.execute("INSERT INTO alert_history (alert_id, at, kind, actor, data) VALUES (%s, %s, %s, %s, %s)",
                 (alert_id, at, kind, actor, Jsonb(dict(data))))


def add_comment(conn: Conn, alert_id: str, at: datetime, author: str, body: str) -> None:
    """Store one staff comment."""
    conn.execute("INSERT INTO alert_comments (alert_id, at, author, body) VALUES (%s, %s, %s, %s)",
                 (alert_id, at, author, body))


def history(conn: Conn, alert_id: str) -> list[HistoryRow]:
    """An alert's history, oldest first."""
    with conn.cursor(row_factory=class_row(HistoryRow)) as cur:
        return cur.execute("SELECT at, kind, actor, data FROM alert_history WHERE alert_id = %s ORDER BY id",
                           (alert_id,)).fetchall()


def comments(conn: Conn, alert_id: str) -> list[CommentRow]:
    """An alert's comments, oldest first."""
    with conn.cursor(row_factory=class_row(CommentRow)) as cur:
        return cur.execute("SELECT id, at, author, body FROM alert_comments WHERE alert_id = %s ORDER BY id",
                           (alert_id,)).fetchall()


# ---- the sensor rules' per-device state


@dataclass(frozen=True)
class DeviceInfo:
    """What the device registry says about one device: where it is and how often it reports."""

    device_id: str
    interval_s: float | None
    meta: dict[str, Any]


def device_info(conn: Conn, ids: Sequence[str]) -> dict[str, DeviceInfo]:
    """Registered devices among ``ids`` (unregistered ones are simply absent)."""
    with conn.cursor(row_factory=class_row(DeviceInfo)) as cur:
        rows = cur.execute("SELECT device_id, interval_s, coalesce(meta, '{}'::jsonb) AS meta FROM devices"
                           " WHERE device_id = ANY(%s)", (list(ids),)).fetchall()
    return {r.device_id: r for r in rows}


def lock_device_states(conn: Conn, site: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The rule state of these devices (created empty when new), locked in id order so batches never deadlock."""
    ordered = sorted(set(ids))
    conn.execute("INSERT INTO sensor_rule_state (device_id, site, state) SELECT id, %s, '{}'"
                 " FROM unnest(%s::text[]) AS id ORDER BY id ON CONFLICT DO NOTHING", (site, ordered))
    rows = conn.execute("SELECT device_id, state FROM sensor_rule_state WHERE device_id = ANY(%s)"
                        " ORDER BY device_id FOR UPDATE", (ordered,)).fetchall()
    return {str(r["device_id"]): dict(r["state"] or {}) for r in rows}


def claim_due_devices(conn: Conn, site: str, now: datetime, limit: int) -> dict[str, dict[str, Any]]:
    """Devices whose offline limit has passed, locked (other processes skip them), with their state."""
    rows = conn.execute("SELECT device_id, state FROM sensor_rule_state WHERE site = %s AND next_due_at <= %s"
                        " ORDER BY next_due_at LIMIT %s FOR UPDATE SKIP LOCKED", (site, now, limit)).fetchall()
    return {str(r["device_id"]): dict(r["state"] or {}) for r in rows}


def save_device_states(conn: Conn, items: Sequence[tuple[str, str, datetime | None]]) -> None:
    """Store (device id, state JSON text, next due time) for many devices in one statement."""
    if not items:
        return
    conn.execute(
        "UPDATE sensor_rule_state s SET state = v.state::jsonb, next_due_at = v.due, updated_at = now()"
        " FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS v(id, state, due) WHERE s.device_id = v.id",
        ([i[0] for i in items], [i[1] for i in items], [i[2] for i in items]))
