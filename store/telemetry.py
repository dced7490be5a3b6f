"""Telemetry rows: batched COPY writes that are idempotent, and the queries behind ``/api/v1/telemetry``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql
from psycopg.rows import class_row

from store.db import Conn
from store.filters import Where

TelemetryRow = tuple[datetime, str, str, float, int | None]  # ts, device_id, metric, value, seq

_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS telemetry_stage "
    "(ts timestamptz, device_id text, metric text, value float8, seq int8) ON COMMIT DELETE ROWS"
)


def copy_telemetry(conn: Conn, rows: Sequence[TelemetryRow]) -> int:
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


@dataclass(frozen=True)
class Point:
    """One stored reading."""

    ts: datetime
    metric: str
    value: float
    seq: int | None


@dataclass(frozen=True)
class Bucket:
    """Readings of one metric aggregated over one time bucket."""

    bucket: datetime
    metric: str
    avg: float
    min: float
    max: float
    n: int


def _range(device: str, metric: str | None, start: datetime, end: datetime) -> Where:
    return (Where().add("device_id = %s", device).add("ts >= %s", start).add("ts < %s", end)
            .add_if(metric, "metric = %s"))


def query_points(conn: Conn, device: str, metric: str | None, start: datetime, end: datetime,
                 limit: int) -> list[Point]:
    """Raw points of one device in [start, end), oldest first."""
    where = _range(device, metric, start, end)
    query = sql.SQL("SELECT ts, metric, value, seq FROM telemetry {} ORDER BY ts, metric LIMIT %s").format(
        where.clause())
    with conn.cursor(row_factory=class_row(Point)) as cur:
        return cur.execute(query, [*where.params, limit]).fetchall()


def query_buckets(conn: Conn, device: str, metric: str | None, start: datetime, end: datetime,
                  bucket: timedelta) -> list[Bucket]:
    """Time-bucketed aggregates (avg, min, max, count) of one device in [start, end)."""
    where = _range(device, metric, start, end)
    query = sql.SQL(
        "SELECT date_bin(%s, ts, timestamptz '2000-01-01') AS bucket, metric, avg(value) AS avg,"
        " min(value) AS min, max(value) AS max, count(*) AS n FROM telemetry {} GROUP BY 1, 2 ORDER BY 1, 2"
    ).format(where.clause())
    with conn.cursor(row_factory=class_row(Bucket)) as cur:
        return cur.execute(query, [bucket, *where.params]).fetchall()
