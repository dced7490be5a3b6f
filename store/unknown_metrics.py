"""Counts of metrics no sensor rule knows (per site, device kind and metric name), kept across restarts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from store.db import Conn

EXAMPLES = 5  # device ids kept per row, enough to find the sensor without listing a whole fleet


@dataclass(frozen=True)
class UnknownMetricRow:
    """How often one metric name from one device kind arrived with no rule to read it."""

    site: str
    device_kind: str
    metric: str
    readings: int
    devices: list[str]
    first_seen: datetime
    last_seen: datetime


def add(conn: Conn, site: str, counts: Mapping[tuple[str, str], tuple[int, Sequence[str]]], at: datetime) -> None:
    """Add one batch's counts: (kind, metric) -> (readings, device ids), in one statement."""
    if not counts:
        return
    keys = sorted(counts)
    conn.execute(
        "INSERT INTO unknown_metrics AS u (site, device_kind, metric, readings, devices, first_seen, last_seen)"
        " SELECT %s, k, m, n, ARRAY(SELECT DISTINCT x FROM unnest(string_to_array(d, ',')) AS x ORDER BY x"
        " LIMIT %s), %s, %s FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[]) AS b(k, m, n, d)"
        " ON CONFLICT (site, device_kind, metric) DO UPDATE SET readings = u.readings + EXCLUDED.readings,"
        " last_seen = GREATEST(u.last_seen, EXCLUDED.last_seen),"
        " devices = CASE WHEN cardinality(u.devices) >= %s THEN u.devices ELSE ARRAY(SELECT DISTINCT x FROM"
        " unnest(u.devices || EXCLUDED.devices) AS x ORDER BY x LIMIT %s) END",
        (site, EXAMPLES, at, at, [k for k, _ in keys], [m for _, m in keys], [counts[k][0] for k in keys],
         [",".join(sorted(set(counts[k][1]))) for k in keys], EXAMPLES, EXAMPLES),
    )


def listing(conn: Conn, site: str | None = None) -> list[UnknownMetricRow]:
    """Every counted name, the most frequent first."""
    with conn.cursor(row_factory=class_row(UnknownMetricRow)) as cur:
        if site is None:
            return cur.execute("SELECT site, device_kind, metric, readings, devices, first_seen, last_seen"
                               " FROM unknown_metrics ORDER BY readings DESC, device_kind, metric").fetchall()
        return cur.execute("SELECT site, device_kind, metric, readings, devices, first_seen, last_seen"
                           " FROM unknown_metrics WHERE site = %s ORDER BY readings DESC, device_kind, metric",
                           (site,)).fetchall()
