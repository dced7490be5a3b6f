"""Telemetry rows: batched COPY writes that are idempotent, and the queries behind ``/api/v1/telemetry``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

TelemetryRow = tuple[datetime, str, str, float, int | None]  # ts, device_id, metric, value, seq

_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS telemetry_stage "
    "(ts timestamptz, device_id text, metric text, value float8, seq int8) ON COMMIT DELETE ROWS"
)


def copy_telemetry(conn: psycopg.Connection[Any], rows: Sequence[TelemetryRow]) -> int:
    """Write rows through a COPY into a staging table; rows already stored (redeliveries) are skipped.

    Returns how many rows were new. Runs inside the caller's transaction.
    """
    if not rows:
        return 0
    conn.execute(_STAGE)
    with conn.cursor() as cur:
        with cur.copy("COPY telemetry_stage (ts, device_id, metric, value, seq) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["timestamptz", "text", "text", "float8", "int8"])
            for row in rows:
                copy.write_row(row)
        cur.execute(
            "INSERT INTO telemetry (ts, device_id, metric, value, seq) "
            "SELECT ts, device_id, metric, value, seq FROM telemetry_stage ON CONFLICT DO NOTHING"
        )
        return cur.rowcount


BUCKETS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1), "5m": timedelta(minutes=5), "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1), "6h": timedelta(hours=6), "1d": timedelta(days=1),
}


def query_points(
    conn: psycopg.Connection[Any], device: str, metric: str | None, start: datetime, end: datetime, limit: int
) -> list[dict[str, Any]]:
    """Raw points of one device in [start, end), oldest first."""
    return conn.execute(
        "SELECT ts, metric, value, seq FROM telemetry WHERE device_id = %s AND ts >= %s AND ts < %s "
        "AND (%s::text IS NULL OR metric = %s) ORDER BY ts, metric LIMIT %s",
        (device, start, end, metric, metric, limit),
    ).fetchall()


def query_buckets(
    conn: psycopg.Connection[Any], device: str, metric: str | None, start: datetime, end: datetime, bucket: timedelta
) -> list[dict[str, Any]]:
    """Time-bucketed aggregates (avg, min, max, count) of one device in [start, end)."""
    return conn.execute(
        "SELECT date_bin(%s, ts, timestamptz '2000-01-01') AS bucket, metric, avg(value) AS avg, "
        "min(value) AS min, max(value) AS max, count(*) AS n FROM telemetry "
        "WHERE device_id = %s AND ts >= %s AND ts < %s AND (%s::text IS NULL OR metric = %s) "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        (bucket, device, start, end, metric, metric),
    ).fetchall()
