"""SQL for the responder directory: the grid workers, security guards and maintenance staff an alert can be
dispatched to, each with a phone and (optionally) the supervisor a late stage escalates to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from psycopg import sql
from psycopg.rows import class_row

from store.db import Conn
from store.filters import assignments


@dataclass(frozen=True)
class ResponderRow:
    """One responder as stored."""

    id: str
    site: str
    name: str
    team: str
    phone: str
    supervisor_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


_COLUMNS = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(ResponderRow))


def list_responders(conn: Conn, site: str, *, team: str | None = None, active_only: bool = True) -> list[ResponderRow]:
    """The site's responders by team and name."""
    query = sql.SQL("SELECT {} FROM responders WHERE site = %s AND (%s::text IS NULL OR team = %s)"
                    " AND (active OR NOT %s) ORDER BY team, name, id").format(_COLUMNS)
    with conn.cursor(row_factory=class_row(ResponderRow)) as cur:
        return cur.execute(query, (site, team, team, active_only)).fetchall()


def get_responder(conn: Conn, site: str, responder_id: str) -> ResponderRow | None:
    """One responder of the site, or None."""
    query = sql.SQL("SELECT {} FROM responders WHERE site = %s AND id = %s").format(_COLUMNS)
    with conn.cursor(row_factory=class_row(ResponderRow)) as cur:
        return cur.execute(query, (site, responder_id)).fetchone()


def add_responder(conn: Conn, *, site: str, responder_id: str, name: str, team: str, phone: str,
                  supervisor_id: str | None) -> ResponderRow | None:
    """Store a new responder; None when the id is taken."""
    query = sql.SQL("INSERT INTO responders (id, site, name, team, phone, supervisor_id) VALUES (%s, %s, %s, %s, %s,"
                    " %s) ON CONFLICT (id) DO NOTHING RETURNING {}").format(_COLUMNS)
    with conn.cursor(row_factory=class_row(ResponderRow)) as cur:
        return cur.execute(query, (responder_id, site, name, team, phone, supervisor_id)).fetchone()


def update_responder(conn: Conn, site: str, responder_id: str, values: Mapping[str, object],
                     now: datetime) -> ResponderRow | None:
    """Change these columns of one responder; None when there is no such responder."""
    sets, params = assignments({**values, "updated_at": now})
    query = sql.SQL("UPDATE responders SET {} WHERE site = %s AND id = %s RETURNING {}").format(sets, _COLUMNS)
    with conn.cursor(row_factory=class_row(ResponderRow)) as cur:
        return cur.execute(query, (*params, site, responder_id)).fetchone()


def team_supervisor(conn: Conn, site: str, team: str) -> ResponderRow | None:
    """The supervisor most of a team's active members name (the one a team-wide dispatch escalates to)."""
    query = sql.SQL(
        "SELECT {} FROM responders WHERE site = %s AND id = ("
        " SELECT supervisor_id FROM responders WHERE site = %s AND team = %s AND active AND supervisor_id IS NOT NULL"
        " GROUP BY supervisor_id ORDER BY count(*) DESC, supervisor_id LIMIT 1)").format(_COLUMNS)
    with conn.cursor(row_factory=class_row(ResponderRow)) as cur:
        return cur.execute(query, (site, site, team)).fetchone()
