"""Read-only aggregates the console's overview draws: buildings by open alerts, device health, alert counts over
time, telemetry sparklines, filter values, and the extras of the Elders panel.

One query per panel, each returning typed rows; colouring and shaping for display happen in the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import class_row

from store.db import Conn

_BUILDINGS_SQL = """
WITH known AS (
    SELECT DISTINCT building FROM residents WHERE site = %(site)s AND building IS NOT NULL
    UNION SELECT DISTINCT meta->>'building' FROM devices WHERE site = %(site)s AND meta ? 'building'
    UNION SELECT DISTINCT building FROM cameras WHERE site = %(site)s AND building IS NOT NULL
    UNION SELECT DISTINCT building FROM alerts
          WHERE site = %(site)s AND building IS NOT NULL AND created_at > now() - interval '30 days'
), open_alerts AS (
    SELECT building,
           count(*) FILTER (WHERE status = 'open') AS open,
           count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged,
           count(*) FILTER (WHERE ack_breached OR resolve_breached) AS breached,
           count(*) FILTER (WHERE status = 'open' AND severity IN ('major', 'critical')) AS serious,
           max(CASE severity WHEN 'critical' THEN 3 WHEN 'major' THEN 2 WHEN 'minor' THEN 1 ELSE 0 END) AS worst
    FROM alerts WHERE site = %(site)s AND status <> 'resolved' AND building IS NOT NULL GROUP BY building
), offline AS (
    SELECT meta->>'building' AS building, count(*) AS offline
    FROM devices WHERE site = %(site)s AND status = 'offline' AND meta ? 'building' GROUP BY 1
)
SELECT k.building, coalesce(a.open, 0) AS open, coalesce(a.acknowledged, 0) AS acknowledged,
       coalesce(a.breached, 0) AS breached, coalesce(a.serious, 0) AS serious, a.worst,
       coalesce(o.offline, 0) AS offline_devices
FROM known k LEFT JOIN open_alerts a USING (building) LEFT JOIN offline o USING (building)
WHERE k.building IS NOT NULL
ORDER BY k.building
"""


@dataclass(frozen=True)
class BuildingRow:
    """Unresolved alerts and offline devices of one building; ``worst`` ranks severity 0 (info) to 3 (critical)."""

    building: str
    open: int
    acknowledged: int
    breached: int
    serious: int
    worst: int | None
    offline_devices: int


@dataclass(frozen=True)
class StatusCount:
    """How many devices are in one status."""

    status: str
    n: int


@dataclass(frozen=True)
class OfflineDeviceRow:
    """A device whose last will said it went offline."""

    device_id: str
    kind: str
    last_seen: datetime | None
    status_changed: datetime | None
    building: str | None


@dataclass(frozen=True)
class AlertTotals:
    """The queue's totals: open, acknowledged, breached (unresolved), and raised in the last five minutes."""

    open: int
    acknowledged: int
    breached: int
    last_5_min: int


@dataclass(frozen=True)
class TypeCount:
    """Alerts of one type raised in one time bucket."""

    bucket: datetime
    type: str
    n: int


@dataclass(frozen=True)
class SparkRow:
    """Bucket starts and averages of one device's metric, oldest first."""

    device_id: str
    metric: str
    buckets: list[datetime]
    vals: list[float]


@dataclass(frozen=True)
class ElderExtras:
    """What the Elders panel adds to a resident's status: contacts, the current away reason, open alerts."""

    resident_id: str
    contacts: list[dict[str, object]]
    away_reason: str | None
    open_alerts: int


def buildings(conn: Conn, site: str) -> list[BuildingRow]:
    """Every building the site knows (from residents, devices, cameras and recent alerts), by name."""
    with conn.cursor(row_factory=class_row(BuildingRow)) as cur:
        return cur.execute(_BUILDINGS_SQL, {"site": site}).fetchall()


def device_status_counts(conn: Conn, site: str) -> list[StatusCount]:
    """Devices per status."""
    with conn.cursor(row_factory=class_row(StatusCount)) as cur:
        return cur.execute("SELECT status, count(*) AS n FROM devices WHERE site = %s GROUP BY status",
                           (site,)).fetchall()


def offline_devices(conn: Conn, site: str, limit: int = 200) -> list[OfflineDeviceRow]:
    """Offline devices, the most recently lost first."""
    with conn.cursor(row_factory=class_row(OfflineDeviceRow)) as cur:
        return cur.execute(
            "SELECT device_id, kind, last_seen, status_changed, meta->>'building' AS building FROM devices"
            " WHERE site = %s AND status = 'offline' ORDER BY status_changed DESC NULLS LAST LIMIT %s",
            (site, limit),
        ).fetchall()


def alert_totals(conn: Conn, site: str) -> AlertTotals:
    """The queue's totals right now."""
    with conn.cursor(row_factory=class_row(AlertTotals)) as cur:
        row = cur.execute(
            "SELECT count(*) FILTER (WHERE status = 'open') AS open,"
            " count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged,"
            " count(*) FILTER (WHERE status <> 'resolved' AND (ack_breached OR resolve_breached)) AS breached,"
            " count(*) FILTER (WHERE created_at > now() - interval '5 minutes') AS last_5_min"
            " FROM alerts WHERE site = %s AND (status <> 'resolved' OR created_at > now() - interval '5 minutes')",
            (site,),
        ).fetchone()
    return row if row is not None else AlertTotals(0, 0, 0, 0)


def alert_counts(conn: Conn, site: str, step: timedelta, start: datetime, end: datetime) -> list[TypeCount]:
    """Alerts raised in [start, end) per ``step``-long bucket (aligned on ``start``) and type; empty ones absent."""
    with conn.cursor(row_factory=class_row(TypeCount)) as cur:
        return cur.execute(
            "SELECT date_bin(%s, created_at, %s) AS bucket, type, count(*) AS n FROM alerts"
            " WHERE site = %s AND created_at >= %s AND created_at < %s GROUP BY 1, 2",
            (step, start, site, start, end),
        ).fetchall()


def sparklines(conn: Conn, site: str, step: timedelta, since: datetime, limit: int) -> list[SparkRow]:
    """Telemetry since ``since`` averaged per ``step``, for the ``limit`` device metrics heard from most lately."""
    with conn.cursor(row_factory=class_row(SparkRow)) as cur:
        return cur.execute(
            """
            WITH recent AS (
                SELECT t.device_id, t.metric, date_bin(%(step)s, t.ts, %(since)s) AS bucket, avg(t.value) AS v,
                       max(t.ts) AS last_ts
                FROM telemetry t JOIN devices d USING (device_id)
                WHERE d.site = %(site)s AND t.ts >= %(since)s
                GROUP BY 1, 2, 3
            ), pick AS (
                SELECT device_id, metric FROM recent GROUP BY 1, 2 ORDER BY max(last_ts) DESC, 1, 2 LIMIT %(limit)s
            )
            SELECT r.device_id, r.metric, array_agg(r.bucket ORDER BY r.bucket) AS buckets,
                   array_agg(r.v ORDER BY r.bucket) AS vals
            FROM recent r JOIN pick USING (device_id, metric) GROUP BY 1, 2 ORDER BY 1, 2
            """,
            {"step": step, "since": since, "site": site, "limit": limit},
        ).fetchall()


def recent_alert_types(conn: Conn, site: str) -> list[str]:
    """Alert types raised in the last 30 days, by name."""
    rows = conn.execute(
        "SELECT DISTINCT type FROM alerts WHERE site = %s AND created_at > now() - interval '30 days' ORDER BY 1",
        (site,),
    ).fetchall()
    return [str(r["type"]) for r in rows]


def elder_extras(conn: Conn, resident_ids: Sequence[str]) -> dict[str, ElderExtras]:
    """Contacts, the away period in force and the count of unresolved alerts of each resident, by id."""
    with conn.cursor(row_factory=class_row(ElderExtras)) as cur:
        rows = cur.execute(
            "SELECT r.resident_id, coalesce(r.contacts, '[]'::jsonb) AS contacts,"
            " (SELECT reason FROM resident_away a WHERE a.resident_id = r.resident_id"
            "   AND a.starts_at <= now() AND a.ends_at > now() ORDER BY a.ends_at DESC LIMIT 1) AS away_reason,"
            " (SELECT count(*) FROM alerts x WHERE x.site = r.site AND x.status <> 'resolved'"
            "   AND x.subject->>'resident' = r.resident_id) AS open_alerts"
            " FROM residents r WHERE r.resident_id = ANY(%s)",
            (list(resident_ids),),
        ).fetchall()
    return {row.resident_id: row for row in rows}
