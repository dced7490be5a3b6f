"""Housekeeping on plain PostgreSQL: daily partitions made ahead, old ones dropped (TimescaleDB has policies)."""

from __future__ import annotations

from typing import Any

import psycopg

from store.db import has_timescaledb

PARTITIONED = ("telemetry", "events")


def maintain_partitions(conn: psycopg.Connection[Any], *, ahead_days: int, retention_days: int) -> dict[str, int]:
    """Make partitions for the next ``ahead_days`` and drop those past retention; no-op on TimescaleDB."""
    if has_timescaledb(conn):
        return {}
    made = dropped = 0
    for table in PARTITIONED:
        row = conn.execute(
            "SELECT ew_ensure_daily_partitions(%s::regclass, current_date - 1, current_date + %s) AS n",
            (table, ahead_days + 1),
        ).fetchone()
        made += int(row["n"]) if row else 0
        row = conn.execute(
            "SELECT ew_drop_daily_partitions(%s::regclass, current_date - %s) AS n", (table, retention_days)
        ).fetchone()
        dropped += int(row["n"]) if row else 0
    return {"made": made, "dropped": dropped}
