"""Residents and their rule state between the database (``store.residents``) and the rules' own types.

The store keeps plain records and JSON documents; here they become ``Resident`` and ``PresenceState`` and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from alerts.inactivity.rule import InactivityState
from alerts.presence import PresenceState, Resident
from alerts.resident_csv import ResidentRow
from store import residents as resident_rows
from store import routines as routine_rows
from store.db import Conn
from store.residents import ResidentPage, ResidentRecord


def to_record(r: Resident, name: str | None = None, age: int | None = None) -> ResidentRecord:
    """A resident's settings as the store keeps them, with the name and age the rules never read."""
    return ResidentRecord(r.resident_id, r.unit, r.building, r.floor, r.elderly, r.lives_alone, r.not_out_hours,
                          r.no_sign_hours, r.away, name, age)


def from_record(rec: ResidentRecord) -> Resident:
    """A stored resident as the rules see it."""
    return Resident(rec.resident_id, rec.unit, building=rec.building, floor=rec.floor, elderly=rec.elderly,
                    lives_alone=rec.lives_alone, not_out_hours=rec.not_out_hours, no_sign_hours=rec.no_sign_hours,
                    away=rec.away)


def upsert_residents(conn: Conn, site: str, residents: Iterable[Resident],
                     contacts: Mapping[str, Sequence[object]] | None = None, *,
                     consent: bool | Mapping[str, bool]) -> int:
    """Load or update residents with the consent the caller states (for all, or per id: missing means no);
    returns how many. Only consenting residents are watched by the rules.
    """
    return resident_rows.upsert_residents(conn, site, (to_record(r) for r in residents), contacts, consent=consent)


def import_residents(conn: Conn, site: str, rows: Iterable[ResidentRow]) -> int:
    """Load or update the residents of a CSV import (``parse_import``), each with the consent its row states, its
    name and age when given, and its contacts: a row that names some replaces the stored ones, one that names
    none keeps them.
    """
    listed = list(rows)
    contacts = {row.resident.resident_id: list(row.contacts) for row in listed if row.contacts is not None}
    return resident_rows.upsert_residents(
        conn, site, [to_record(row.resident, row.name, row.age) for row in listed], contacts,
        consent={row.resident.resident_id: row.consent for row in listed})


def load_residents(conn: Conn, *, ids: Sequence[str] | None = None, site: str | None = None,
                   unit: str | None = None, consenting_only: bool = True,
                   away_since: datetime | None = None) -> list[Resident]:
    """Residents by id, site or unit, with their away periods ending after ``away_since``."""
    return [from_record(rec) for rec in resident_rows.load_residents(
        conn, ids=ids, site=site, unit=unit, consenting_only=consenting_only, away_since=away_since)]


def page_residents(conn: Conn, site: str, *, after: str | None, limit: int, elderly: bool | None = None,
                   presence: str | None = None, now: datetime | None = None) -> list[tuple[Resident, PresenceState]]:
    """A page of residents with their states, in id order, filtered in SQL (the estate may hold 100,000)."""
    page = ResidentPage(site, after, limit, elderly, presence)
    return [(from_record(rec), PresenceState.from_json(doc))
            for rec, doc in resident_rows.page_residents(conn, page, now)]


def load_states(conn: Conn, ids: Sequence[str], *, lock: bool) -> dict[str, PresenceState]:
    """States of these residents (fresh ones for those without a row); ``lock`` holds them for the transaction."""
    docs = resident_rows.load_state_docs(conn, ids, lock=lock)
    return {rid: PresenceState.from_json(docs[rid]) if rid in docs else PresenceState() for rid in sorted(set(ids))}


def save_states(conn: Conn, items: Sequence[tuple[str, PresenceState, datetime | None]]) -> None:
    """Store many states with their next due times in one statement."""
    resident_rows.save_state_docs(conn, [(rid, state.to_json(), due) for rid, state, due in items])


def load_routines(conn: Conn, ids: Sequence[str]) -> dict[str, InactivityState]:
    """Learnt routines of these residents (absent: never learnt, start cold). Read in the transaction that holds
    their state rows locked (``load_states(lock=True)``), so no other process changes them meanwhile.
    """
    rows = routine_rows.load_routines(conn, sorted(set(ids)))
    return {rid: InactivityState.from_record(model, progress) for rid, (model, progress) in rows.items()}


def save_routines(conn: Conn, routines: Mapping[str, InactivityState]) -> None:
    """Store these routines in one statement, in the caller's transaction (with the states)."""
    routine_rows.save_routines(conn, [(rid, *state.to_record()) for rid, state in sorted(routines.items())])
