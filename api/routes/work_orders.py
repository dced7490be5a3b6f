"""Work orders: operators dispatch an alert to a responder or a team and get the responder's link with its QR code;
the responder acts on that one work order through the link alone (``/onsite/{token}`` and ``/api/v1/onsite/...``):
a random token, stored hashed, that expires. Least privilege: the link opens nothing else, and a wrong or expired
link says only that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

import segno
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from alerts import work_orders as dispatching
from alerts.dispatch import Complexity, DispatchError, Stage
from alerts.lifecycle import LifecycleError
from api.deps import Operator, PoolDep, SettingsDep, Viewer
from api.models.work_orders import Dispatched, OnSiteView, StageClock, WorkOrder, WorkOrderLink
from api.openapi import binary, text
from api.routes.console import STATIC_DIR
from store import work_orders as wo_rows
from store.camera_views import evidence_path
from store.db import Conn
from store.work_orders import StageRow, WorkOrderRow

router = APIRouter(tags=["dispatch"])

# The page carries the token in its address: it is never sent on as a referrer, never cached, never framed.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
                               " media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none';"
                               " form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class DispatchBody(BaseModel):
    """Whom to send the alert to: a responder, or a whole team; the complexity sets the solve clock."""

    alert_id: str = Field(min_length=1, max_length=100)
    responder_id: str | None = Field(default=None, min_length=1, max_length=64)
    team: Literal["grid", "security", "maintenance"] | None = None
    complexity: Complexity | None = Field(default=None, description="default: from the alert's SLA class")


class NoteBody(BaseModel):
    """What the responder reports."""

    note: str = Field(min_length=1, max_length=2000)


def _clock(row: StageRow) -> StageClock:
    state = Stage("on_site", row.due_at, row.met_at, row.breached_at).state
    return StageClock.model_validate({**row.__dict__, "state": state})


def _order(row: WorkOrderRow, stages: list[StageRow], *, phones: bool) -> WorkOrder:
    return WorkOrder.model_validate({**row.__dict__, "assignee_phone": row.assignee_phone if phones else None,
                                     "link_expires_at": row.token_expires_at,
                                     "stages": [_clock(s) for s in stages]})


def _link(request: Request, token: str, expires_at: datetime) -> WorkOrderLink:
    url = f"{str(request.base_url).rstrip('/')}/onsite/{token}"
    qr = segno.make(url, error="m").svg_data_uri(scale=4, border=2)
    return WorkOrderLink(url=url, expires_at=expires_at, qr_svg=qr)


@router.post("/api/v1/work-orders", status_code=status.HTTP_201_CREATED)
def dispatch(body: DispatchBody, request: Request, pool: PoolDep, settings: SettingsDep,
             who: Operator) -> Dispatched:
    """Send an alert to a responder (or a team) as a work order with 54321 stage clocks; the answer holds the
    responder's link, shown this once.
    """
    if (body.responder_id is None) == (body.team is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "name a responder or a team, not both")
    try:
        with pool.connection() as conn, conn.transaction():
            made = dispatching.dispatch(conn, site=settings.site, alert_id=body.alert_id,
                                        responder_id=body.responder_id, team=body.team,
                                        complexity=body.complexity, actor=who.name, now=datetime.now(UTC))
            stages = dispatching.stages_of(conn, made.order.id)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert") from exc
    except LifecycleError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "the alert is resolved") from exc
    except LookupError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return Dispatched(work_order=_order(made.order, stages, phones=True),
                      link=_link(request, made.token, made.order.token_expires_at))


@router.get("/api/v1/work-orders")
def list_work_orders(pool: PoolDep, settings: SettingsDep, who: Viewer, alert_id: str | None = None,
                     open_only: bool = False, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[WorkOrder]:
    """Work orders, newest first, for one alert or all (open ones only with ``open_only``)."""
    with pool.connection() as conn:
        rows = wo_rows.list_orders(conn, settings.site, alert_id=alert_id, open_only=open_only, limit=limit)
        stages = wo_rows.stages(conn, [r.id for r in rows])
    return [_order(r, stages[r.id], phones=who.can("operator")) for r in rows]


@router.get("/api/v1/work-orders/{work_order_id}")
def get_work_order(work_order_id: str, pool: PoolDep, settings: SettingsDep, who: Viewer) -> WorkOrder:
    """One work order with its stage clocks."""
    with pool.connection() as conn:
        row = wo_rows.get(conn, settings.site, work_order_id)
        stages = dispatching.stages_of(conn, work_order_id) if row else []
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such work order")
    return _order(row, stages, phones=who.can("operator"))


@router.post("/api/v1/work-orders/{work_order_id}/link")
def reissue_link(work_order_id: str, request: Request, pool: PoolDep, settings: SettingsDep,
                 _: Operator) -> WorkOrderLink:
    """A new link for the responder (the previous one stops working), e.g. to show its QR code again."""
    now = datetime.now(UTC)
    try:
        with pool.connection() as conn, conn.transaction():
            token = dispatching.new_link(conn, settings.site, work_order_id, now)
            row = wo_rows.get(conn, settings.site, work_order_id)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such work order") from exc
    if row is None:  # removed with its alert in between
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such work order")
    return _link(request, token, row.token_expires_at)


# ---- the responder's side: the link is the only credential, and it opens one work order


@router.get("/onsite/{token}", response_class=FileResponse,
            responses=text("the responder's page for one work order", "text/html"))
def onsite_page(token: str) -> FileResponse:
    """The mobile page a responder opens from the QR code; it reads its work order with the token in its address."""
    del token  # the page reads it from its own address
    return FileResponse(STATIC_DIR / "onsite.html", media_type="text/html", headers=_PAGE_HEADERS)


_SNAPSHOT = re.compile(r"/api/v1/evidence/([0-9a-f]{32})/snapshot\.jpg$")


def _snapshot_event(row: WorkOrderRow) -> str | None:
    """The littering event whose snapshot the work order carries, if any."""
    evidence = row.brief.get("evidence")
    link = evidence.get("snapshot") if isinstance(evidence, dict) else None
    match = _SNAPSHOT.search(link) if isinstance(link, str) else None
    return match[1] if match else None


def _through_link(pool: PoolDep, settings: SettingsDep, token: str,
                  action: Callable[[Conn, datetime], WorkOrderRow | None]) -> OnSiteView:
    """Run one responder action in a transaction: 404 for an unknown link, 410 for an expired one, 409 when the
    work order's state refuses it.
    """
    now = datetime.now(UTC)
    try:
        with pool.connection() as conn, conn.transaction():
            row = action(conn, now) or dispatching.open_link(conn, token, now)
            stages = dispatching.stages_of(conn, row.id)
    except dispatching.LinkExpiredError as exc:
        raise HTTPException(status.HTTP_410_GONE, "this link has expired: ask the control room for a new one") from exc
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no work order for this link") from exc
    except DispatchError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    snapshot = f"/api/v1/onsite/{token}/snapshot.jpg" if _snapshot_event(row) else None
    return OnSiteView.model_validate({**row.__dict__, "link_expires_at": row.token_expires_at,
                                      "stages": [_clock(s) for s in stages], "timezone": settings.timezone,
                                      "snapshot_url": snapshot})


@router.get("/api/v1/onsite/{token}")
def onsite_view(token: str, pool: PoolDep, settings: SettingsDep) -> OnSiteView:
    """The work order this link opens: what, where, the evidence, the stage clocks (no phone numbers)."""
    return _through_link(pool, settings, token, lambda _c, _n: None)


@router.post("/api/v1/onsite/{token}/arrived")
def onsite_arrived(token: str, pool: PoolDep, settings: SettingsDep) -> OnSiteView:
    """The responder is on site: meets the 5-minute stage and acknowledges the alert if nobody had."""
    return _through_link(pool, settings, token, lambda c, now: dispatching.confirm_on_site(c, token, now))


@router.post("/api/v1/onsite/{token}/plan")
def onsite_plan(token: str, body: NoteBody, pool: PoolDep, settings: SettingsDep) -> OnSiteView:
    """A hard case's plan (due within a day of dispatch)."""
    return _through_link(pool, settings, token, lambda c, now: dispatching.record_plan(c, token, body.note, now))


@router.post("/api/v1/onsite/{token}/solved")
def onsite_solved(token: str, body: NoteBody, pool: PoolDep, settings: SettingsDep) -> OnSiteView:
    """The problem is solved: meets the remaining stages and resolves the alert with the responder's note."""
    return _through_link(pool, settings, token, lambda c, now: dispatching.mark_solved(c, token, body.note, now))


@router.get("/api/v1/onsite/{token}/snapshot.jpg", response_class=FileResponse,
            responses=binary("the littering snapshot of this link's work order", "image/jpeg"))
def onsite_snapshot(token: str, pool: PoolDep, settings: SettingsDep) -> FileResponse:
    """The annotated snapshot of the work order's littering event, for the responder's phone (no other evidence)."""
    now = datetime.now(UTC)
    try:
        with pool.connection() as conn:
            row = dispatching.open_link(conn, token, now)
            event = _snapshot_event(row)
            found = evidence_path(conn, settings.site, event, "snapshot") if event else None
    except dispatching.LinkExpiredError as exc:
        raise HTTPException(status.HTTP_410_GONE, "this link has expired") from exc
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no work order for this link") from exc
    base = settings.evidence_dir.resolve()
    path = (base / found.path).resolve() if found is not None and found.path else None
    if path is None or base not in path.parents or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no snapshot for this work order")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store",
                                                                "Referrer-Policy": "no-referrer"})
