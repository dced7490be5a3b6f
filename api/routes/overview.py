"""Aggregates the console draws: buildings coloured by open alerts, offline devices, alert counts over time by type,
telemetry sparklines, and the values the queue's filters offer. Read-only, so ``Viewer`` everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from psycopg.rows import dict_row

from api.deps import PoolDep, SettingsDep, Viewer

router = APIRouter(prefix="/api/v1/overview", tags=["overview"])

UNRESOLVED = "status <> 'resolved'"

# red: something unacknowledged and serious, or any promise (SLA) broken; yellow: anything else still open; blue: quiet.
_BUILDINGS_SQL = f"""
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
    FROM alerts WHERE site = %(site)s AND {UNRESOLVED} AND building IS NOT NULL GROUP BY building
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

_SEVERITIES = ("info", "minor", "major", "critical")


def building_colour(row: dict[str, Any]) -> str:
    """The colour a building shows on the estate map."""
    if row["serious"] or row["breached"]:
        return "red"
    if row["open"] or row["acknowledged"]:
        return "yellow"
    return "blue"


@router.get("")
def overview(_: Viewer, pool: PoolDep, settings: SettingsDep) -> dict[str, Any]:
    """Buildings with their colour, device health, offline devices and the queue's totals."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        buildings = cur.execute(_BUILDINGS_SQL, {"site": settings.site}).fetchall()
        devices = cur.execute(
            "SELECT status, count(*) AS n FROM devices WHERE site = %s GROUP BY status", (settings.site,)
        ).fetchall()
        offline = cur.execute(
            "SELECT device_id, kind, last_seen, status_changed, meta->>'building' AS building FROM devices"
            " WHERE site = %s AND status = 'offline' ORDER BY status_changed DESC NULLS LAST LIMIT 200",
            (settings.site,),
        ).fetchall()
        totals = cur.execute(
            "SELECT count(*) FILTER (WHERE status = 'open') AS open,"
            " count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged,"
            f" count(*) FILTER (WHERE {UNRESOLVED} AND (ack_breached OR resolve_breached)) AS breached,"
            " count(*) FILTER (WHERE created_at > now() - interval '5 minutes') AS last_5_min"
            f" FROM alerts WHERE site = %s AND ({UNRESOLVED} OR created_at > now() - interval '5 minutes')",
            (settings.site,),
        ).fetchone()
    for row in buildings:
        row["colour"] = building_colour(row)
        worst = row.pop("worst")
        row["worst_severity"] = None if worst is None else _SEVERITIES[int(worst)]
    return {
        "buildings": buildings,
        "devices": {str(r["status"]): int(r["n"]) for r in devices},
        "offline_devices": offline,
        "alerts": totals,
    }


@router.get("/alert-counts")
def alert_counts(
    _: Viewer,
    pool: PoolDep,
    settings: SettingsDep,
    bucket: Literal["hour", "day"] = "hour",
    span: int = Query(default=0, ge=0, le=400, description="buckets back from now; 0 = 48 hours or 14 days"),
) -> dict[str, Any]:
    """Alerts raised per hour or day by type, oldest bucket first, empty buckets included (for bar charts)."""
    n = span or (48 if bucket == "hour" else 14)
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    # days begin at midnight on the estate's clock, not UTC's (Asia/Shanghai midnight is 16:00 UTC)
    now = datetime.now(ZoneInfo(settings.timezone))
    if bucket == "hour":
        end = now.replace(minute=0, second=0, microsecond=0) + step
    else:
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + step
    end = end.astimezone(UTC)
    start = end - n * step
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT date_bin(%s, created_at, %s) AS bucket, type, count(*) AS n FROM alerts"
            " WHERE site = %s AND created_at >= %s AND created_at < %s GROUP BY 1, 2",
            (step, start, settings.site, start, end),
        ).fetchall()
    types = sorted({str(r["type"]) for r in rows})
    counts = {(r["bucket"], str(r["type"])): int(r["n"]) for r in rows}
    buckets = [start + i * step for i in range(n)]
    return {
        "bucket": bucket,
        "types": types,
        "series": [{"start": b.isoformat(), "counts": {t: counts.get((b, t), 0) for t in types}} for b in buckets],
    }


@router.get("/sparklines")
def sparklines(
    _: Viewer,
    pool: PoolDep,
    settings: SettingsDep,
    minutes: int = Query(default=60, ge=5, le=24 * 60),
    points: int = Query(default=30, ge=5, le=120),
    limit: int = Query(default=24, ge=1, le=200),
) -> list[dict[str, Any]]:
    """Recent telemetry per device and metric, averaged into ``points`` buckets: the shape, not the detail."""
    step = timedelta(minutes=minutes) / points
    since = datetime.now(UTC) - timedelta(minutes=minutes)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
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
            {"step": step, "since": since, "site": settings.site, "limit": limit},
        ).fetchall()
    return [
        {
            "device_id": r["device_id"],
            "metric": r["metric"],
            "points": [[b.isoformat(), round(float(v), 3)] for b, v in zip(r["buckets"], r["vals"], strict=True)],
            "last": round(float(r["vals"][-1]), 3),
        }
        for r in rows
    ]


@router.get("/facets")
def facets(_: Viewer, pool: PoolDep, settings: SettingsDep) -> dict[str, list[str]]:
    """Alert types and buildings seen lately, for the queue's filter menus."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        types = cur.execute(
            "SELECT DISTINCT type FROM alerts WHERE site = %s AND created_at > now() - interval '30 days' ORDER BY 1",
            (settings.site,),
        ).fetchall()
        buildings = cur.execute(_BUILDINGS_SQL, {"site": settings.site}).fetchall()
    return {"types": [str(r["type"]) for r in types], "buildings": [str(r["building"]) for r in buildings]}


@router.get("/elders")
def elders(
    _: Viewer,
    pool: PoolDep,
    settings: SettingsDep,
    limit: int = Query(default=500, ge=1, le=5000),
    resident: str | None = Query(default=None, description="just this resident (elderly or not)"),
) -> list[dict[str, Any]]:
    """Elderly residents as the Elders panel shows them: the alerts area's status (presence, hours since last out,
    last signals, why) plus contacts, the current away or hospital period and open alerts, most urgent first."""
    from alerts.resident_store import load_residents, load_states, resident_status

    now = datetime.now(UTC)
    with pool.connection() as conn:
        if resident is not None:
            people = load_residents(conn, ids=[resident], consenting_only=False, away_since=now)
        else:
            people = [r for r in load_residents(conn, site=settings.site, consenting_only=False, away_since=now)
                      if r.elderly]
        ids = [r.resident_id for r in people]
        states = load_states(conn, ids, lock=False)
        with conn.cursor(row_factory=dict_row) as cur:
            extra = {str(r["resident_id"]): r for r in cur.execute(
                "SELECT r.resident_id, r.contacts,"
                " (SELECT reason FROM resident_away a WHERE a.resident_id = r.resident_id"
                "   AND a.starts_at <= now() AND a.ends_at > now() ORDER BY a.ends_at DESC LIMIT 1) AS away_reason,"
                " (SELECT count(*) FROM alerts x WHERE x.site = r.site AND x.status <> 'resolved'"
                "   AND x.subject->>'resident' = r.resident_id) AS open_alerts"
                " FROM residents r WHERE r.resident_id = ANY(%s)", (ids,)).fetchall()}
    rows = []
    for person in people:
        row = resident_status(person, states[person.resident_id], now)
        more = extra.get(person.resident_id, {})
        row["contacts"] = more.get("contacts") or []
        row["away_reason"] = more.get("away_reason")
        row["open_alerts"] = int(more.get("open_alerts") or 0)
        rows.append(row)
    rows.sort(key=lambda r: (-r["open_alerts"], -(r["hours_at_home"] or 0.0), r["resident_id"]))
    return rows[:limit]
