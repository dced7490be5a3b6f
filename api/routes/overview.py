"""Aggregates the console draws: buildings coloured by open alerts, offline devices, alert counts over time by type,
telemetry sparklines, and the values the queue's filters offer. Read-only, so ``Viewer`` everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from alerts.payloads import resident_status
from alerts.resident_records import load_residents, load_states
from api.deps import PoolDep, SettingsDep, Viewer
from api.models.overview import (
    AlertCounts,
    AlertTotals,
    BuildingStatus,
    Colour,
    CountBucket,
    Elder,
    Facets,
    OfflineDevice,
    Overview,
    Severity,
    Sparkline,
)
from api.privacy import contacts_for, status_for
from api.routes.residents import people_for
from api.security import Principal
from store import overview as views
from store.overview import BuildingRow, ElderExtras

router = APIRouter(prefix="/api/v1/overview", tags=["overview"])

_SEVERITIES: tuple[Severity, ...] = ("info", "minor", "major", "critical")


def building_colour(row: BuildingRow) -> Colour:
    """The colour a building shows on the estate map.

    Red: something unacknowledged and serious, or any promise (SLA) broken; yellow: anything else still open;
    blue: quiet.
    """
    if row.serious or row.breached:
        return "red"
    if row.open or row.acknowledged:
        return "yellow"
    return "blue"


def _building(row: BuildingRow) -> BuildingStatus:
    return BuildingStatus(
        building=row.building, open=row.open, acknowledged=row.acknowledged, breached=row.breached,
        serious=row.serious, offline_devices=row.offline_devices, colour=building_colour(row),
        worst_severity=None if row.worst is None else _SEVERITIES[row.worst],
    )


@router.get("")
def overview(_: Viewer, pool: PoolDep, settings: SettingsDep) -> Overview:
    """Buildings with their colour, device health, offline devices and the queue's totals."""
    with pool.connection() as conn:
        buildings = views.buildings(conn, settings.site)
        devices = views.device_status_counts(conn, settings.site)
        offline = views.offline_devices(conn, settings.site)
        totals = views.alert_totals(conn, settings.site)
    return Overview(
        buildings=[_building(b) for b in buildings],
        devices={d.status: d.n for d in devices},
        offline_devices=[OfflineDevice.model_validate(d) for d in offline],
        alerts=AlertTotals.model_validate(totals),
    )


def _bucket_range(now: datetime, bucket: Literal["hour", "day"], n: int) -> tuple[datetime, datetime, timedelta]:
    """``n`` whole buckets ending with the current one, on the estate's clock (days start at its midnight)."""
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    if bucket == "hour":
        end = now.replace(minute=0, second=0, microsecond=0) + step
    else:
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + step
    end = end.astimezone(UTC)
    return end - n * step, end, step


@router.get("/alert-counts")
def alert_counts(
    _: Viewer,
    pool: PoolDep,
    settings: SettingsDep,
    bucket: Literal["hour", "day"] = "hour",
    span: Annotated[int, Query(ge=0, le=400, description="buckets back from now; 0 = 48 hours or 14 days")] = 0,
) -> AlertCounts:
    """Alerts raised per hour or day by type, oldest bucket first, empty buckets included (for bar charts)."""
    n = span or (48 if bucket == "hour" else 14)
    # days begin at midnight on the estate's clock, not UTC's (Asia/Shanghai midnight is 16:00 UTC)
    start, end, step = _bucket_range(datetime.now(ZoneInfo(settings.timezone)), bucket, n)
    with pool.connection() as conn:
        rows = views.alert_counts(conn, settings.site, step, start, end)
    types = sorted({r.type for r in rows})
    counts = {(r.bucket, r.type): r.n for r in rows}
    starts = [start + i * step for i in range(n)]
    return AlertCounts(bucket=bucket, types=types,
                       series=[CountBucket(start=b, counts={t: counts.get((b, t), 0) for t in types}) for b in starts])


@router.get("/sparklines")
def sparklines(
    _: Viewer,
    pool: PoolDep,
    settings: SettingsDep,
    minutes: Annotated[int, Query(ge=5, le=24 * 60)] = 60,
    points: Annotated[int, Query(ge=5, le=120)] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 24,
) -> list[Sparkline]:
    """Recent telemetry per device and metric, averaged into ``points`` buckets: the shape, not the detail."""
    step = timedelta(minutes=minutes) / points
    since = datetime.now(UTC) - timedelta(minutes=minutes)
    with pool.connection() as conn:
        rows = views.sparklines(conn, settings.site, step, since, limit)
    return [
        Sparkline(device_id=r.device_id, metric=r.metric,
                  points=[(b, round(v, 3)) for b, v in zip(r.buckets, r.vals, strict=True)],
                  last=round(r.vals[-1], 3))
        for r in rows
    ]


@router.get("/facets")
def facets(_: Viewer, pool: PoolDep, settings: SettingsDep) -> Facets:
    """Alert types and buildings seen lately, for the queue's filter menus."""
    with pool.connection() as conn:
        types = views.recent_alert_types(conn, settings.site)
        buildings = views.buildings(conn, settings.site)
    return Facets(types=types, buildings=[b.building for b in buildings])


def elder_view(status: dict[str, object], more: ElderExtras | None, principal: Principal,
               person: Mapping[str, object] | None = None) -> Elder:
    """One resident as ``principal``'s role may see them (see :class:`Elder` and ``api.privacy``); ``person`` is
    their name and age as ``people_for`` gives them for that role.
    """
    contacts, withheld = contacts_for(more.contacts if more else [], principal)
    visible = {**status_for(status, principal), **(person or {})}
    away_reason = more.away_reason if more and principal.can("operator") else None
    return Elder.model_validate({
        **visible, "contacts": contacts, "away_reason": away_reason,
        "open_alerts": more.open_alerts if more else 0,
        "redacted": withheld or not principal.can("operator"),
    })


# contacts go out as they were entered (for admins): keys a contact does not have stay out instead of coming back
# as nulls
@router.get("/elders", response_model_exclude_unset=True)
def elders(
    principal: Viewer,
    pool: PoolDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    resident: Annotated[str | None, Query(description="just this resident (elderly or not)")] = None,
) -> list[Elder]:
    """Elderly residents as the Elders panel shows them: the alerts area's status (presence, hours since last out,
    last signals, why) plus contacts, the current away or hospital period and open alerts, most urgent first.
    Viewers get the presence state only; operators also what they need to phone; see the ``Elder`` schema.
    Residents without consent are left out (they are not watched).
    """
    now = datetime.now(UTC)
    with pool.connection() as conn:
        # consenting residents only: someone who did not agree is not watched, so nobody phones about them
        if resident is not None:
            people = load_residents(conn, ids=[resident], site=settings.site, away_since=now)
        else:
            people = [r for r in load_residents(conn, site=settings.site, away_since=now) if r.elderly]
        ids = [r.resident_id for r in people]
        states = load_states(conn, ids, lock=False)
        extras = views.elder_extras(conn, ids)
        names = people_for(conn, ids, principal)
    rows = [elder_view(resident_status(person, states[person.resident_id], now), extras.get(person.resident_id),
                       principal, names[person.resident_id]) for person in people]
    # the order must not give away what a viewer may not see: for them, open alerts and then the id
    rows.sort(key=lambda r: (-r.open_alerts, -(r.hours_at_home or 0.0), r.resident_id))
    return rows[:limit]
