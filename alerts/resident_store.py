"""SQL for residents, their away periods and their persisted presence / rule state."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alerts.presence import PresenceState, Resident

_COLUMNS = "resident_id, site, unit, building, floor, elderly, lives_alone, not_out_hours, no_sign_hours, contacts," \
           " consent"
_RULE_COLUMNS = "resident_id, unit, building, floor, elderly, lives_alone, not_out_hours, no_sign_hours"


def upsert_residents(conn: psycopg.Connection[Any], site: str, residents: Iterable[Resident],
                     contacts: dict[str, list[Any]] | None = None) -> int:
    rows = [(r.resident_id, site, r.unit, r.building, r.floor, r.elderly, r.lives_alone, r.not_out_hours,
             r.no_sign_hours, Jsonb((contacts or {}).get(r.resident_id, []))) for r in residents]
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO residents ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, true)"
            " ON CONFLICT (resident_id) DO UPDATE SET site = excluded.site, unit = excluded.unit,"
            " building = excluded.building, floor = excluded.floor, elderly = excluded.elderly,"
            " lives_alone = excluded.lives_alone, not_out_hours = excluded.not_out_hours,"
            " no_sign_hours = excluded.no_sign_hours, updated_at = clock_timestamp()", rows)
    return len(rows)


def _resident(row: dict[str, Any], away: tuple[tuple[datetime, datetime], ...]) -> Resident:
    return Resident(row["resident_id"], row["unit"], building=row["building"], floor=row["floor"],
                    elderly=row["elderly"], lives_alone=row["lives_alone"], not_out_hours=row["not_out_hours"],
                    no_sign_hours=row["no_sign_hours"], away=away)


def _away(conn: psycopg.Connection[Any], ids: list[str], since: datetime | None) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = conn.execute("SELECT resident_id, starts_at, ends_at FROM resident_away WHERE resident_id = ANY(%s)"
                        " AND (%s::timestamptz IS NULL OR ends_at > %s) ORDER BY starts_at",
                        (ids, since, since)).fetchall()
    for row in rows:
        found[row["resident_id"]].append((row["starts_at"], row["ends_at"]))
    return found


def load_residents(conn: psycopg.Connection[Any], *, ids: list[str] | None = None, site: str | None = None,
                   unit: str | None = None, consenting_only: bool = True,
                   away_since: datetime | None = None) -> list[Resident]:
    where: list[str] = ["true"]
    params: list[object] = []
    if ids is not None:
        where.append("resident_id = ANY(%s)")
        params.append(ids)
    if site is not None:
        where.append("site = %s")
        params.append(site)
    if unit is not None:
        where.append("unit = %s")
        params.append(unit)
    if consenting_only:
        where.append("consent")
    rows = conn.execute(f"SELECT {_RULE_COLUMNS} FROM residents WHERE {' AND '.join(where)} ORDER BY resident_id",
                        params).fetchall()
    away = _away(conn, [r["resident_id"] for r in rows], away_since)
    return [_resident(r, tuple(away[r["resident_id"]])) for r in rows]


def page_residents(conn: psycopg.Connection[Any], site: str, *, after: str | None, limit: int,
                   elderly: bool | None = None, presence: str | None = None,
                   now: datetime | None = None) -> list[tuple[Resident, PresenceState]]:
    """A page of residents with their states, in id order, filtered in SQL (the estate may hold 100,000)."""
    rows = conn.execute(
        "SELECT r.resident_id, r.unit, r.building, r.floor, r.elderly, r.lives_alone, r.not_out_hours,"
        " r.no_sign_hours, s.state FROM residents r LEFT JOIN resident_state s USING (resident_id)"
        " WHERE r.site = %s AND (%s::text IS NULL OR r.resident_id > %s) AND (%s::boolean IS NULL OR r.elderly = %s)"
        " AND (%s::text IS NULL OR coalesce(s.state->>'presence', 'unknown') = %s)"
        " ORDER BY r.resident_id LIMIT %s",
        (site, after, after, elderly, elderly, presence, presence, limit)).fetchall()
    away = _away(conn, [r["resident_id"] for r in rows], now)
    return [(_resident(r, tuple(away[r["resident_id"]])), PresenceState.from_json(r["state"] or {})) for r in rows]


def load_states(conn: psycopg.Connection[Any], ids: list[str], *, lock: bool) -> dict[str, PresenceState]:
    """States of these residents (fresh ones for those without a row); locked for the caller's transaction.

    Rows are created and locked in id order, so two processes handling overlapping batches never deadlock."""
    if not ids:
        return {}
    ordered = sorted(set(ids))
    if lock:
        conn.execute("INSERT INTO resident_state (resident_id, state) SELECT id, '{}' FROM unnest(%s::text[]) AS id"
                     " ORDER BY id ON CONFLICT DO NOTHING", (ordered,))
    rows = conn.execute("SELECT resident_id, state FROM resident_state WHERE resident_id = ANY(%s)"
                        " ORDER BY resident_id" + (" FOR UPDATE" if lock else ""), (ordered,)).fetchall()
    states = {r["resident_id"]: PresenceState.from_json(r["state"] or {}) for r in rows}
    return {rid: states.get(rid, PresenceState()) for rid in ordered}


def save_states(conn: psycopg.Connection[Any], items: list[tuple[str, PresenceState, datetime | None]]) -> None:
    """Store many states and due times in one statement (one JSON document: cheaper to send than arrays)."""
    if not items:
        return
    doc = json.dumps([{"id": rid, "state": state.to_json(), "due": due.isoformat() if due else None}
                      for rid, state, due in items])
    conn.execute(
        "UPDATE resident_state s SET state = v.state, next_due_at = v.due, updated_at = now()"
        " FROM jsonb_to_recordset(%s::jsonb) AS v(id text, state jsonb, due timestamptz) WHERE s.resident_id = v.id",
        (doc,))


def save_state(conn: psycopg.Connection[Any], resident_id: str, state: PresenceState,
               next_due_at: datetime | None) -> None:
    save_states(conn, [(resident_id, state, next_due_at)])


def claim_due(conn: psycopg.Connection[Any], site: str, now: datetime, limit: int = 500) -> list[str]:
    """Residents of ``site`` whose next evaluation is due, locked (other service processes skip them)."""
    rows = conn.execute("SELECT s.resident_id FROM resident_state s JOIN residents r USING (resident_id)"
                        " WHERE s.next_due_at <= %s AND r.site = %s ORDER BY s.next_due_at"
                        " LIMIT %s FOR UPDATE OF s SKIP LOCKED", (now, site, limit)).fetchall()
    return [str(r["resident_id"]) for r in rows]


def add_away(conn: psycopg.Connection[Any], resident_id: str, starts_at: datetime, ends_at: datetime,
             reason: str) -> int:
    row = conn.execute("INSERT INTO resident_away (resident_id, starts_at, ends_at, reason) VALUES (%s, %s, %s, %s)"
                       " RETURNING id", (resident_id, starts_at, ends_at, reason)).fetchone()
    assert row is not None
    # the due time may move: let the next tick recompute it
    conn.execute("UPDATE resident_state SET next_due_at = least(next_due_at, %s) WHERE resident_id = %s",
                 (starts_at, resident_id))
    return int(row["id"])


def resident_status(resident: Resident, state: PresenceState, now: datetime) -> dict[str, Any]:
    """What the console shows: presence, hours since last out, last signals and why we think so."""

    def hours_since(value: datetime | None) -> float | None:
        return round((now - value).total_seconds() / 3600, 2) if value is not None else None

    return {
        "resident_id": resident.resident_id, "unit": resident.unit, "building": resident.building,
        "floor": resident.floor, "elderly": resident.elderly, "lives_alone": resident.lives_alone,
        "not_out_hours": resident.not_out_hours, "no_sign_hours": resident.no_sign_hours,
        "presence": state.presence,
        "since": state.since.isoformat() if state.since else None,
        "last_out_at": state.last_out_at.isoformat() if state.last_out_at else None,
        "hours_since_last_out": hours_since(state.last_out_at),
        "hours_at_home": hours_since(state.since) if state.presence == "home" else None,
        "last_activity_at": state.last_activity_at.isoformat() if state.last_activity_at else None,
        "explanation": state.reason,
        "last_signals": state.signals,
        "away": [{"from": a.isoformat(), "to": b.isoformat()} for a, b in resident.away],
    }
