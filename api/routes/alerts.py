"""Alerts: list and filter, one alert with history, comments and evidence links; acknowledge, assign, comment,
resolve. Shapes are documented in docs/alerts.md (keys are only ever added)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from alerts import repository as repo
from alerts.model import LifecycleError
from api.deps import Operator, PoolDep, SettingsDep, Viewer

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class AssignBody(BaseModel):
    assignee: str = Field(min_length=1, max_length=100)


class CommentBody(BaseModel):
    body: str = Field(min_length=1, max_length=4000)


class ResolveBody(BaseModel):
    resolution: Literal["true_positive", "false_positive", "duplicate", "other"]
    note: str | None = Field(default=None, max_length=4000)


@router.get("")
def list_alerts(
    pool: PoolDep,
    settings: SettingsDep,
    _: Viewer,
    status_: Annotated[Literal["open", "acknowledged", "resolved"] | None, Query(alias="status")] = None,
    type_: Annotated[str | None, Query(alias="type")] = None,
    severity: Literal["info", "minor", "major", "critical"] | None = None,
    resident: str | None = None,
    building: str | None = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Newest first. Page back with ``before`` = the ``next_before`` of the previous page."""
    with pool.connection() as conn:
        rows = repo.list_alerts(conn, site=settings.site, status=status_, type_=type_, severity=severity,
                                resident=resident, building=building, before=before, limit=limit)
    return {"alerts": rows, "next_before": rows[-1]["created_at"] if len(rows) == limit else None}


@router.get("/{alert_id}")
def get_alert(alert_id: str, pool: PoolDep, _: Viewer) -> dict[str, Any]:
    """The alert with its full history, comments and webhook deliveries."""
    with pool.connection() as conn:
        row = repo.get_alert(conn, alert_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert")
        return {**repo.alert_json(row), "history": repo.history(conn, alert_id),
                "comments": repo.comments(conn, alert_id), "deliveries": repo.deliveries(conn, alert_id)}


def _change(pool: PoolDep, alert_id: str, action: Any) -> dict[str, Any]:
    try:
        with pool.connection() as conn, conn.transaction():
            row = action(conn, datetime.now(UTC))
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert") from exc
    except LifecycleError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return repo.alert_json(row)


@router.post("/{alert_id}/ack")
def acknowledge(alert_id: str, pool: PoolDep, who: Operator) -> dict[str, Any]:
    """Acknowledge (someone is on it): stops the 5-minute acknowledge clock."""
    return _change(pool, alert_id, lambda c, now: repo.acknowledge(c, alert_id, who.name, now))


@router.post("/{alert_id}/assign")
def assign(alert_id: str, body: AssignBody, pool: PoolDep, who: Operator) -> dict[str, Any]:
    return _change(pool, alert_id, lambda c, now: repo.assign(c, alert_id, body.assignee, who.name, now))


@router.post("/{alert_id}/comments", status_code=status.HTTP_201_CREATED)
def comment(alert_id: str, body: CommentBody, pool: PoolDep, who: Operator) -> dict[str, Any]:
    return _change(pool, alert_id, lambda c, now: repo.comment(c, alert_id, who.name, body.body, now))


@router.post("/{alert_id}/resolve")
def resolve(alert_id: str, body: ResolveBody, pool: PoolDep, who: Operator) -> dict[str, Any]:
    return _change(pool, alert_id, lambda c, now: repo.resolve(c, alert_id, body.resolution, who.name, now,
                                                                body.note))
