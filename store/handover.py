"""SQL for shift handover notes and who has read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from store.db import Conn


@dataclass(frozen=True)
class HandoverRow:
    """One handover note, with whether the asking principal has read it."""

    id: int
    author: str
    body: str
    created_at: datetime
    read_at: datetime | None


def add_note(conn: Conn, site: str, author: str, body: str, now: datetime) -> HandoverRow:
    """Store a note (its author has read it, by writing it)."""
    row = conn.execute("INSERT INTO handover_notes (site, author, body, created_at) VALUES (%s, %s, %s, %s)"
                       " RETURNING id", (site, author, body, now)).fetchone()
    if row is None:  # INSERT ... RETURNING always returns the row
        raise LookupError("note not stored")
    conn.execute("INSERT INTO handover_reads (note_id, principal, read_at) VALUES (%s, %s, %s)",
                 (row["id"], author, now))
    return HandoverRow(int(row["id"]), author, body, now, now)


def notes_for(conn: Conn, site: str, principal: str, since: datetime, *, unread_only: bool,
              limit: int) -> list[HandoverRow]:
    """The site's notes since ``since``, newest first, each with when ``principal`` read it."""
    query = ("SELECT n.id, n.author, n.body, n.created_at, r.read_at FROM handover_notes n"
             " LEFT JOIN handover_reads r ON r.note_id = n.id AND r.principal = %s"
             " WHERE n.site = %s AND n.created_at >= %s AND (r.read_at IS NULL OR NOT %s)"
             " ORDER BY n.created_at DESC, n.id DESC LIMIT %s")
    with conn.cursor(row_factory=class_row(HandoverRow)) as cur:
        return cur.execute(query, (principal, site, since, unread_only, limit)).fetchall()


def get_note(conn: Conn, site: str, note_id: int, principal: str) -> HandoverRow | None:
    """One note of the site, with when ``principal`` read it."""
    query = ("SELECT n.id, n.author, n.body, n.created_at, r.read_at FROM handover_notes n"
             " LEFT JOIN handover_reads r ON r.note_id = n.id AND r.principal = %s WHERE n.site = %s AND n.id = %s")
    with conn.cursor(row_factory=class_row(HandoverRow)) as cur:
        return cur.execute(query, (principal, site, note_id)).fetchone()


def mark_read(conn: Conn, site: str, note_id: int, principal: str, now: datetime) -> bool:
    """Record that ``principal`` read the note (reading twice keeps the first time); False for no such note."""
    found = conn.execute("SELECT 1 AS ok FROM handover_notes WHERE id = %s AND site = %s", (note_id, site)).fetchone()
    if found is None:
        return False
    conn.execute("INSERT INTO handover_reads (note_id, principal, read_at) VALUES (%s, %s, %s)"
                 " ON CONFLICT DO NOTHING", (note_id, principal, now))
    return True
