"""Discrete events (access, door, motion, water, status, littering): batched COPY, idempotent on ``dedup_key``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from store.db import Conn

EventRow = tuple[datetime, str, str, str, str | None, dict[str, Any], str]  # ts, site, kind, source, subject, data, key

_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS events_stage (ts timestamptz, site text, kind text, source text, "
    "subject text, data jsonb, dedup_key text) ON COMMIT DELETE ROWS"
)


def copy_events(conn: Conn, rows: Sequence[EventRow]) -> int:
    """Store events; a redelivered one (same key and time) is skipped. Returns how many were new."""
    if not rows:
        return 0
    conn.execute(_STAGE)
    with conn.cursor() as cur:
        with cur.copy("COPY events_stage (ts, site, kind, source, subject, data, dedup_key) FROM STDIN") as copy:
            for ts, site, kind, source, subject, data, key in rows:
                copy.write_row((ts, site, kind, source, subject, Jsonb(data), key))
        cur.execute(
            "INSERT INTO events (ts, site, kind, source, subject, data, dedup_key) "
            "SELECT ts, site, kind, source, subject, data, dedup_key FROM events_stage ON CONFLICT DO NOTHING"
        )
        return cur.rowcount
