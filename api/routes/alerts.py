"""Alerts: list and filter (newest first, or in the queue's triage order), one alert with history, comments and
evidence links; acknowledge (one, or every open alert matching a filter), assign, comment, resolve; silences.
Shapes are the models of ``api.models.alerts`` (keys are only ever added).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from alerts import actions, queries
from alerts.lifecycle import LifecycleError
from alerts.payloads import alert_json
from api.deps import Operator, PoolDep, SettingsDep, Viewer
from api.models.alerts import Alert, AlertDetail, AlertPage, BulkAck, Silence
from api.privacy import alert_for
from store import alerts as alert_rows
from store.alerts import AlertFilter, AlertRow, SilenceRow
from store.db import Conn

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class AssignBody(BaseModel):
    """Who takes the alert."""

    assignee: str = Field(min_length=1, max_length=100)


class CommentBody(BaseModel):
    """A staff comment."""

    body: str = Field(min_length=1, max_length=4000)


class ResolveBody(BaseModel):
    """How the alert ended, with an optional note."""

    resolution: Literal["true_positive", "false_positive", "duplicate", "other"]
    note: str | None = Field(default=None, max_length=4000)


class BulkAckBody(BaseModel):
    """Which open alerts to acknowledge: the filter the operator is looking at (at least one field set)."""

    type: str | None = Field(default=None, min_length=1, max_length=100)
    building: str | None = Field(default=None, min_length=1, max_length=100)
    severity: Literal["info", "minor", "major", "critical"] | None = None


class SilenceBody(BaseModel):
    """Mute alerts of a type (optionally in one building) until an end time, and say why."""

    type: str = Field(min_length=1, max_length=100)
    building: str | None = Field(default=None, min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=500)
    ends_at: datetime


def _silence(row: SilenceRow) -> Silence:
    return Silence(id=row.id, type=row.type, building=row.building, reason=row.reason, created_by=row.created_by,
                   created_at=row.created_at.isoformat(), ends_at=row.ends_at.isoformat())


@router.get("")
def list_alerts(
    pool: PoolDep,
    settings: SettingsDep,
    principal: Viewer,
    status_: Annotated[Literal["open", "acknowledged", "resolved"] | None, Query(alias="status")] = None,
    type_: Annotated[str | None, Query(alias="type")] = None,
    severity: Literal["info", "minor", "major", "critical"] | None = None,
    resident: str | None = None,
    building: str | None = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    sort: Literal["newest", "triage"] = "newest",
) -> AlertPage:
    """Newest first (page back with ``before`` = the previous page's ``next_before``), or ``sort=triage``: the
    control-room order, life-safety types first whatever their SLA did to the others, then severity, then the
    nearest deadline (one page; ``next_before`` is null). Viewers get alerts about residents without their
    personal details (``api.privacy.alert_for``).
    """
    triage = sort == "triage"
    with pool.connection() as conn:
        rows = queries.list_alerts(conn, site=settings.site, status=status_, type_=type_, severity=severity,
                                   resident=resident, building=building, before=before, limit=limit, triage=triage)
    more = len(rows) == limit and not triage
    shown = [alert_for(r, principal) for r in rows]
    return AlertPage.model_validate({"alerts": shown, "next_before": rows[-1]["created_at"] if more else None})


@router.post("/ack")
def acknowledge_matching(body: BulkAckBody, pool: PoolDep, settings: SettingsDep, who: Operator) -> BulkAck:
    """Acknowledge every open alert matching the filter (up to 500) in one transaction, each with its history."""
    if body.type is None and body.building is None and body.severity is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "name a type, building or severity")
    flt = AlertFilter(site=settings.site, type=body.type, building=body.building, severity=body.severity)
    with pool.connection() as conn, conn.transaction():
        ids = actions.acknowledge_matching(conn, flt, who.name, datetime.now(UTC))
    return BulkAck(acknowledged=ids, count=len(ids))


@router.get("/silences")
def list_silences(pool: PoolDep, settings: SettingsDep, _: Viewer) -> list[Silence]:
    """The silences in force now, soonest end first."""
    with pool.connection() as conn:
        rows = queries.active_silences(conn, settings.site, datetime.now(UTC))
    return [_silence(r) for r in rows]


@router.post("/silences", status_code=status.HTTP_201_CREATED)
def add_silence(body: SilenceBody, pool: PoolDep, settings: SettingsDep, who: Operator) -> Silence:
    """Mute alerts of a type (in one building, or all) until ``ends_at``; they are still stored and listed."""
    ends_at = body.ends_at if body.ends_at.tzinfo else body.ends_at.replace(tzinfo=UTC)
    try:
        with pool.connection() as conn, conn.transaction():
            row = actions.silence(conn, site=settings.site, type_=body.type, building=body.building,
                                  reason=body.reason, actor=who.name, now=datetime.now(UTC), ends_at=ends_at)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return _silence(row)


@router.post("/silences/{silence_id}/end")
def end_silence(silence_id: int, pool: PoolDep, settings: SettingsDep, _: Operator) -> Silence:
    """End a silence before its time: the alerts it muted sound and pin again."""
    with pool.connection() as conn, conn.transaction():
        row = alert_rows.end_silence(conn, settings.site, silence_id, datetime.now(UTC))
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such silence in force")
    return _silence(row)


@router.get("/{alert_id}")
def get_alert(alert_id: str, pool: PoolDep, principal: Viewer) -> AlertDetail:
    """The alert with its full history, comments and webhook deliveries; for viewers, an alert about a resident
    comes without its personal details, history data and comments (``api.privacy.alert_for``).
    """
    with pool.connection() as conn:
        found = queries.alert_detail(conn, alert_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert")
    return AlertDetail.model_validate(alert_for(found, principal))


def _change(pool: PoolDep, alert_id: str, action: Callable[[Conn, datetime], AlertRow]) -> Alert:
    """Run one lifecycle action in its own transaction; 404 for an unknown alert, 409 for a refused transition."""
    try:
        with pool.connection() as conn, conn.transaction():
            row = action(conn, datetime.now(UTC))
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert") from exc
    except LifecycleError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return Alert.model_validate(alert_json(row))


@router.post("/{alert_id}/ack")
def acknowledge(alert_id: str, pool: PoolDep, who: Operator) -> Alert:
    """Acknowledge (someone is on it): stops the 5-minute acknowledge clock."""
    return _change(pool, alert_id, lambda c, now: actions.acknowledge(c, alert_id, who.name, now))


@router.post("/{alert_id}/assign")
def assign(alert_id: str, body: AssignBody, pool: PoolDep, who: Operator) -> Alert:
    """Hand the alert to a staff member (refused once resolved)."""
    return _change(pool, alert_id, lambda c, now: actions.assign(c, alert_id, body.assignee, who.name, now))


@router.post("/{alert_id}/comments", status_code=status.HTTP_201_CREATED)
def comment(alert_id: str, body: CommentBody, pool: PoolDep, who: Operator) -> Alert:
    """Add a comment; the answer is the alert as it now is."""
    return _change(pool, alert_id, lambda c, now: actions.comment(c, alert_id, who.name, body.body, now))


@router.post("/{alert_id}/resolve")
def resolve(alert_id: str, body: ResolveBody, pool: PoolDep, who: Operator) -> Alert:
    """Resolve for good (a later raise with the same key opens a new alert)."""
    return _change(pool, alert_id, lambda c, now: actions.resolve(c, alert_id, body.resolution, who.name, now,
                                                                   body.note))
