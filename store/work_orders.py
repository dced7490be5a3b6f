"""SQL for work orders and their per-stage SLA clocks. The rules (which stages, when a stage is breached) live in
``alerts.dispatch``; this module only stores what they decide.
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
class WorkOrderValues:
    """What whoever creates a work order decides, stored as given and read back with every row."""

    id: str
    site: str
    alert_id: str
    team: str
    responder_id: str | None
    assignee_name: str
    assignee_phone: str | None
    supervisor_id: str | None
    supervisor_name: str | None
    complexity: str
    brief: Mapping[str, Any]
    token_expires_at: datetime
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class WorkOrderRow(WorkOrderValues):
    """One work order as stored: its values and what happened to it since (the token's hash stays in the database)."""

    status: str
    updated_at: datetime
    on_site_at: datetime | None
    solved_at: datetime | None
    plan_note: str | None
    solve_note: str | None


@dataclass(frozen=True)
class StageRow:
    """One stage clock of a work order."""

    work_order_id: str
    stage: str
    due_at: datetime
    met_at: datetime | None
    breached_at: datetime | None
    escalated_to: str | None


@dataclass(frozen=True)
class NewWorkOrder(WorkOrderValues):
    """The values of a new work order, with the hash of its link's token (the token itself is never stored)."""

    token_sha256: str


_COLUMNS = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(WorkOrderRow))
_NEW_COLUMNS = tuple(f.name for f in fields(NewWorkOrder))
_INSERT = sql.SQL("INSERT INTO work_orders ({}, updated_at) VALUES ({}, %s) RETURNING {}").format(
    sql.SQL(", ").join(map(sql.Identifier, _NEW_COLUMNS)), sql.SQL(", ").join(sql.Placeholder() * len(_NEW_COLUMNS)),
    _COLUMNS)
_ROWS = class_row(WorkOrderRow)
_STAGES = class_row(StageRow)


def insert(conn: Conn, new: NewWorkOrder, stages: Sequence[tuple[str, datetime]]) -> WorkOrderRow:
    """Store a work order and its stage clocks; it is last updated when it is created."""
    values = [Jsonb(dict(new.brief)) if name == "brief" else getattr(new, name) for name in _NEW_COLUMNS]
    with conn.cursor(row_factory=_ROWS) as cur:
        row = cur.execute(_INSERT, (*values, new.created_at)).fetchone()
    if row is None:  # INSERT ... RETURNING always returns the row
        raise LookupError("work order not stored")
    conn.execute("INSERT INTO work_order_stages (work_order_id, stage, due_at)"
                 " SELECT %s, s, d FROM unnest(%s::text[], %s::timestamptz[]) AS v(s, d)",
                 (new.id, [s for s, _ in stages], [d for _, d in stages]))
    return row


def get(conn: Conn, site: str, work_order_id: str, *, lock: bool = False) -> WorkOrderRow | None:
    """One work order of the site; ``lock`` holds it for the caller's transaction."""
    query = sql.SQL("SELECT {} FROM work_orders WHERE site = %s AND id = %s {}").format(
        _COLUMNS, sql.SQL("FOR UPDATE" if lock else ""))
    with conn.cursor(row_factory=_ROWS) as cur:
        return cur.execute(query, (site, work_order_id)).fetchone()


def get_any(conn: Conn, work_order_id: str) -> WorkOrderRow | None:
    """One work order by id, whatever its site (the SLA tick may run across sites)."""
    query = sql.SQL("SELECT {} FROM work_orders WHERE id = %s").format(_COLUMNS)
    with conn.cursor(row_factory=_ROWS) as cur:
        return cur.execute(query, (work_order_id,)).fetchone()


@dataclass(frozen=True)
class TokenMatch:
    """The work order a link's token opens, and when that link expires."""

    site: str
    id: str
    token_expires_at: datetime


def by_token(conn: Conn, token_sha256: str) -> TokenMatch | None:
    """The work order whose link token has this hash, or None."""
    row = conn.execute("SELECT site, id, token_expires_at FROM work_orders WHERE token_sha256 = %s",
                       (token_sha256,)).fetchone()
    return TokenMatch(str(row["site"]), str(row["id"]), row["token_expires_at"]) if row is not None else None


def list_orders(conn: Conn, site: str, *, alert_id: str | None, open_only: bool, limit: int) -> list[WorkOrderRow]:
    """The site's work orders, newest first, for one alert or all."""
    where = Where().add("site = %s", site).add_if(alert_id, "alert_id = %s")
    if open_only:
        where.add("status <> 'solved'")
    query = sql.SQL("SELECT {} FROM work_orders {} ORDER BY created_at DESC, id LIMIT %s").format(
        _COLUMNS, where.clause())
    with conn.cursor(row_factory=_ROWS) as cur:
        return cur.execute(query, (*where.params, limit)).fetchall()


def update(conn: Conn, work_order_id: str, values: Mapping[str, object]) -> WorkOrderRow:
    """Set these columns of one work order.

    Raises:
        KeyError: when there is no such work order.
    """
    sets, params = assignments(values)
    query = sql.SQL("UPDATE work_orders SET {} WHERE id = %s RETURNING {}").format(sets, _COLUMNS)
    with conn.cursor(row_factory=_ROWS) as cur:
        row = cur.execute(query, (*params, work_order_id)).fetchone()
    if row is None:
        raise KeyError(work_order_id)
    return row


def stages(conn: Conn, work_order_ids: Sequence[str]) -> dict[str, list[StageRow]]:
    """The stage clocks of these work orders, soonest due first."""
    with conn.cursor(row_factory=_STAGES) as cur:
        rows = cur.execute("SELECT work_order_id, stage, due_at, met_at, breached_at, escalated_to"
                           " FROM work_order_stages WHERE work_order_id = ANY(%s) ORDER BY due_at, stage",
                           (list(work_order_ids),)).fetchall()
    out: dict[str, list[StageRow]] = {i: [] for i in work_order_ids}
    for row in rows:
        out[row.work_order_id].append(row)
    return out


def save_stage(conn: Conn, stage: StageRow) -> None:
    """Store what happened to one stage clock (met, breached, escalated)."""
    conn.execute("UPDATE work_order_stages SET met_at = %s, breached_at = %s, escalated_to = %s"
                 " WHERE work_order_id = %s AND stage = %s",
                 (stage.met_at, stage.breached_at, stage.escalated_to, stage.work_order_id, stage.stage))


def due_orders(conn: Conn, site: str | None, now: datetime, limit: int) -> list[str]:
    """Ids of unsolved work orders with a stage past due and not yet escalated, whose alert is still unresolved;
    locked, so other processes skip them.
    """
    rows = conn.execute(
        "SELECT w.id FROM work_orders w JOIN alerts a ON a.id = w.alert_id"
        " WHERE w.status <> 'solved' AND a.status <> 'resolved' AND (%s::text IS NULL OR w.site = %s)"
        " AND EXISTS (SELECT 1 FROM work_order_stages s WHERE s.work_order_id = w.id AND s.met_at IS NULL"
        " AND s.breached_at IS NULL AND s.due_at <= %s)"
        " ORDER BY w.created_at LIMIT %s FOR UPDATE OF w SKIP LOCKED", (site, site, now, limit)).fetchall()
    return [str(r["id"]) for r in rows]
