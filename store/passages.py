"""Gate passages (access events) of one resident, and the unknown face passages since a time: for the Elders view
and the elderly-not-out detail. Reads ``events`` only; an access event carries no face data, so neither does this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.db import Conn

UNKNOWN = "unknown"  # the person of a face passage nobody was matched to


@dataclass(frozen=True)
class PassageRow:
    """One access event: when, which gate, which way, how the person was recognised and how surely."""

    ts: datetime
    gate: str
    direction: str | None
    method: str | None
    confidence: float | None
    camera: str | None


_COLUMNS = ("SELECT ts, source, data->>'direction' AS direction, data->>'method' AS method,"
            " (data->>'confidence')::float8 AS confidence, data->>'camera' AS camera FROM events")


def _rows(conn: Conn, where: str, params: tuple[object, ...], limit: int) -> list[PassageRow]:
    rows = conn.execute(f"{_COLUMNS} WHERE kind = 'access' AND site = %s AND {where} ORDER BY ts DESC LIMIT %s",
                        (*params, limit)).fetchall()
    return [PassageRow(r["ts"], r["source"], r["direction"], r["method"], r["confidence"], r["camera"])
            for r in rows]


def resident_passages(conn: Conn, site: str, resident_id: str, since: datetime, limit: int = 200) -> list[PassageRow]:
    """The resident's passages since ``since``, newest first."""
    return _rows(conn, "subject = %s AND ts >= %s", (site, resident_id, since), limit)


def last_passage(conn: Conn, site: str, resident_id: str) -> PassageRow | None:
    """The resident's latest passage at any time (the last time anyone knew where they were)."""
    found = _rows(conn, "subject = %s", (site, resident_id), 1)
    return found[0] if found else None


def unknown_passages(conn: Conn, site: str, since: datetime, limit: int = 50) -> list[PassageRow]:
    """Face passages nobody was matched to since ``since``, newest first: maybe the resident, unrecognised."""
    return _rows(conn, "subject = %s AND ts > %s", (site, UNKNOWN, since), limit)
