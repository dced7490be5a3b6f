"""SQL for residents, their away periods and their persisted presence / rule state (as JSON documents).

Plain values in and out (``ResidentRecord``, state dicts): the alerts area turns them into its own types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from store.db import Conn
from store.filters import Where

Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class ResidentRecord:
    """A resident's rule settings as stored; ``away`` holds the away / hospital periods loaded with it. ``name``
    and ``age`` are personal data the rules never read (the API shows them to the roles that phone).
    """

    resident_id: str
    unit: str
    building: str | None = None
    floor: int | None = None
    elderly: bool = False
    lives_alone: bool = False
    not_out_hours: float = 24.0
    no_sign_hours: float = 12.0
    away: tuple[Period, ...] = field(default=())
    name: str | None = None
    age: int | None = None


_INSERT = (
    "INSERT INTO residents (resident_id, site, unit, building, floor, elderly, lives_alone, not_out_hours,"
    " no_sign_hours, contacts, consent, name, age) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# an import: contacts are replaced only when the row gives some (the last parameter), name and age only when given
_UPSERT = (
    _INSERT + " ON CONFLICT (resident_id) DO UPDATE SET site = excluded.site, unit = excluded.unit,"
    " building = excluded.building, floor = excluded.floor, elderly = excluded.elderly,"
    " lives_alone = excluded.lives_alone, not_out_hours = excluded.not_out_hours,"
    " no_sign_hours = excluded.no_sign_hours, consent = excluded.consent,"
    " name = coalesce(excluded.name, residents.name), age = coalesce(excluded.age, residents.age),"
    " contacts = CASE WHEN %s THEN excluded.contacts ELSE residents.contacts END, updated_at = clock_timestamp()"
)


def _values(site: str, r: ResidentRecord, contacts: Sequence[object], consent: bool) -> tuple[object, ...]:
    return (r.resident_id, site, r.unit, r.building, r.floor, r.elderly, r.lives_alone, r.not_out_hours,
            r.no_sign_hours, Jsonb(list(contacts)), consent, r.name, r.age)


def upsert_residents(conn: Conn, site: str, residents: Iterable[ResidentRecord],
                     contacts: Mapping[str, Sequence[object]] | None = None, *,
                     consent: bool | Mapping[str, bool]) -> int:
    """Load or update residents (a CSV import) with the consent the caller states, for all or per id (an id
    missing from the mapping: no consent). Contacts of known residents are kept unless ``contacts`` names theirs,
    which then replace them; name and age are kept unless given. Their consent is what is stated.
    """
    def agreed(rid: str) -> bool:
        return consent if isinstance(consent, bool) else consent.get(rid, False)

    given = contacts or {}
    rows = [(*_values(site, r, given.get(r.resident_id, []), agreed(r.resident_id)), r.resident_id in given)
            for r in residents]
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, rows)
    return len(rows)


def put_resident(conn: Conn, site: str, resident: ResidentRecord, *, contacts: Sequence[object],
                 consent: bool) -> None:
    """Create or replace one resident (name and age included) with contacts and consent; the next tick recomputes
    its due time.
    """
    conn.execute(
        _INSERT + " ON CONFLICT (resident_id) DO UPDATE SET unit = excluded.unit, building = excluded.building,"
        " floor = excluded.floor, elderly = excluded.elderly, lives_alone = excluded.lives_alone,"
        " not_out_hours = excluded.not_out_hours, no_sign_hours = excluded.no_sign_hours,"
        " contacts = excluded.contacts, consent = excluded.consent, name = excluded.name, age = excluded.age,"
        " updated_at = clock_timestamp()",
        _values(site, resident, contacts, consent))
    conn.execute("UPDATE resident_state SET next_due_at = now() WHERE resident_id = %s", (resident.resident_id,))


def _away(conn: Conn, ids: list[str], since: datetime | None) -> dict[str, list[Period]]:
    found: dict[str, list[Period]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = conn.execute("SELECT resident_id, starts_at, ends_at FROM resident_away WHERE resident_id = ANY(%s)"
                        " AND (%s::timestamptz IS NULL OR ends_at > %s) ORDER BY starts_at",
                        (ids, since, since)).fetchall()
    for row in rows:
        found[row["resident_id"]].append((row["starts_at"], row["ends_at"]))
    return found


def _records(conn: Conn, rows: Sequence[Mapping[str, Any]], away_since: datetime | None) -> list[ResidentRecord]:
    away = _away(conn, [r["resident_id"] for r in rows], away_since)
    return [ResidentRecord(r["resident_id"], r["unit"], r["building"], r["floor"], r["elderly"], r["lives_alone"],
                           r["not_out_hours"], r["no_sign_hours"], tuple(away[r["resident_id"]])) for r in rows]


# what the rules read: never the name or age (``load_people`` fetches those for the routes that show people)
_RULE_COLUMNS = sql.SQL(
    "r.resident_id, r.unit, r.building, r.floor, r.elderly, r.lives_alone, r.not_out_hours, r.no_sign_hours")


def load_residents(conn: Conn, *, ids: Sequence[str] | None = None, site: str | None = None,
                   unit: str | None = None, consenting_only: bool = True,
                   away_since: datetime | None = None) -> list[ResidentRecord]:
    """Residents by id, site or unit, in id order, with their away periods ending after ``away_since``."""
    where = (Where().add_if(list(ids) if ids is not None else None, "r.resident_id = ANY(%s)")
             .add_if(site, "r.site = %s").add_if(unit, "r.unit = %s"))
    if consenting_only:
        where.add("r.consent")
    rows = conn.execute(sql.SQL("SELECT {} FROM residents r {} ORDER BY r.resident_id").format(
        _RULE_COLUMNS, where.clause()), where.params).fetchall()
    return _records(conn, rows, away_since)


@dataclass(frozen=True)
class ResidentPage:
    """Which residents a page of the residents list shows (the site's estate may hold 100,000)."""

    site: str
    after: str | None
    limit: int
    elderly: bool | None = None
    presence: str | None = None


def page_residents(conn: Conn, page: ResidentPage,
                   now: datetime | None = None) -> list[tuple[ResidentRecord, dict[str, Any]]]:
    """A page of residents with their state documents, in id order, filtered in SQL."""
    rows = conn.execute(sql.SQL(
        "SELECT {}, s.state FROM residents r LEFT JOIN resident_state s USING (resident_id)"
        " WHERE r.site = %s AND (%s::text IS NULL OR r.resident_id > %s) AND (%s::boolean IS NULL OR r.elderly = %s)"
        " AND (%s::text IS NULL OR coalesce(s.state->>'presence', 'unknown') = %s)"
        " ORDER BY r.resident_id LIMIT %s").format(_RULE_COLUMNS),
        (page.site, page.after, page.after, page.elderly, page.elderly, page.presence, page.presence,
         page.limit)).fetchall()
    records = _records(conn, rows, now)
    return [(rec, dict(row["state"] or {})) for rec, row in zip(records, rows, strict=True)]


def load_state_docs(conn: Conn, ids: Sequence[str], *, lock: bool) -> dict[str, dict[str, Any]]:
    """State documents of these residents (missing ones absent); ``lock`` creates and locks rows in id order,
    so two processes handling overlapping batches never deadlock.
    """
    ordered = sorted(set(ids))
    if not ordered:
        return {}
    if lock:
        conn.execute("INSERT INTO resident_state (resident_id, state) SELECT id, '{}' FROM unnest(%s::text[]) AS id"
                     " ORDER BY id ON CONFLICT DO NOTHING", (ordered,))
    rows = conn.execute(sql.SQL("SELECT resident_id, state FROM resident_state WHERE resident_id = ANY(%s)"
                                " ORDER BY resident_id {}").format(sql.SQL("FOR UPDATE" if lock else "")),
                        (ordered,)).fetchall()
    return {str(r["resident_id"]): dict(r["state"] or {}) for r in rows}


def save_state_docs(conn: Conn, items: Sequence[tuple[str, Mapping[str, object], datetime | None]]) -> None:
    """Store many states and due times in one statement (one JSON document: cheaper to send than arrays)."""
    if not items:
        return
    doc = json.dumps([{"id": rid, "state": state, "due": due.isoformat() if due else None}
                      for rid, state, due in items])
    conn.execute(
        "UPDATE resident_state s SET state = v.state, next_due_at = v.due, updated_at = now()"
        " FROM jsonb_to_recordset(%s::jsonb) AS v(id text, state jsonb, due timestamptz) WHERE s.resident_id = v.id",
        (doc,))


def claim_due(conn: Conn, site: str, now: datetime, limit: int = 500) -> list[str]:
    """Residents of ``site`` whose next evaluation is due, locked (other service processes skip them)."""
    rows = conn.execute("SELECT s.resident_id FROM resident_state s JOIN residents r USING (resident_id)"
                        " WHERE s.next_due_at <= %s AND r.site = %s ORDER BY s.next_due_at"
                        " LIMIT %s FOR UPDATE OF s SKIP LOCKED", (now, site, limit)).fetchall()
    return [str(r["resident_id"]) for r in rows]


def add_away(conn: Conn, resident_id: str, starts_at: datetime, ends_at: datetime, reason: str) -> int:
    """Store an away / hospital period; the resident's due time may move, so the next tick recomputes it."""
    row = conn.execute("INSERT INTO resident_away (resident_id, starts_at, ends_at, reason) VALUES (%s, %s, %s, %s)"
                       " RETURNING id", (resident_id, starts_at, ends_at, reason)).fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    conn.execute("UPDATE resident_state SET next_due_at = least(next_due_at, %s) WHERE resident_id = %s",
                 (starts_at, resident_id))
    return int(row["id"])


def load_people(conn: Conn, ids: Sequence[str]) -> dict[str, tuple[str | None, int | None]]:
    """Name and age of these residents, by id (those without a row absent): personal data, read apart from the
    rule settings so that only the routes that show people fetch it.
    """
    if not ids:
        return {}
    rows = conn.execute("SELECT resident_id, name, age FROM residents WHERE resident_id = ANY(%s)",
                        (sorted(set(ids)),)).fetchall()
    return {str(r["resident_id"]): (r["name"], r["age"]) for r in rows}


def directory_version(conn: Conn, site: str) -> tuple[object, ...]:
    """What changes whenever a site's residents, any away period or the site's inactivity settings change (a
    removed override changes the count): a few index lookups.
    """
    row = conn.execute("SELECT (SELECT max(updated_at) FROM residents WHERE site = %s) AS r,"
                       " (SELECT max(id) FROM resident_away) AS a,"
                       " (SELECT max(updated_at) FROM inactivity_settings WHERE site = %s) AS s,"
                       " (SELECT count(*) FROM inactivity_settings WHERE site = %s) AS n",
                       (site, site, site)).fetchone()
    return (row["r"], row["a"], row["s"], row["n"]) if row is not None else (None, None, None, None)
