"""Shapes of dispatch: responders, work orders with their stage clocks, the responder's view through a link, and
shift handover notes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from api.models.base import ApiModel

TeamName = Literal["grid", "security", "maintenance"]


class Responder(ApiModel):
    """Someone an alert can be dispatched to."""

    id: str
    name: str
    team: TeamName
    phone: str
    supervisor_id: str | None
    active: bool


class StageClock(ApiModel):
    """One 54321 stage of a work order: due, met, breached, and who it was escalated to."""

    stage: Literal["on_site", "solve", "plan"]
    due_at: datetime
    met_at: datetime | None
    breached_at: datetime | None
    escalated_to: str | None
    state: Literal["pending", "met", "late", "breached"]


class WorkOrder(ApiModel):
    """An alert sent to a responder or a team. ``assignee_phone`` is null for viewers."""

    id: str
    alert_id: str
    team: TeamName
    responder_id: str | None
    assignee_name: str
    assignee_phone: str | None
    supervisor_name: str | None
    complexity: Literal["simple", "general", "complex", "hard"]
    status: Literal["assigned", "on_site", "solved"]
    brief: dict[str, Any] = Field(description="the alert as sent: type, title, place, evidence links")
    created_by: str
    created_at: datetime
    on_site_at: datetime | None
    solved_at: datetime | None
    plan_note: str | None
    solve_note: str | None
    link_expires_at: datetime
    stages: list[StageClock]


class WorkOrderLink(ApiModel):
    """The responder's link (shown once: only its hash is kept) and its QR code."""

    url: str = Field(description="the on-site page for this work order alone")
    expires_at: datetime
    qr_svg: str = Field(description="the link as a QR code, an SVG data: URL")


class Dispatched(ApiModel):
    """A new work order with its link."""

    work_order: WorkOrder
    link: WorkOrderLink


class OnSiteView(ApiModel):
    """What the responder's page shows: their work order and nothing else."""

    id: str
    assignee_name: str
    team: TeamName
    complexity: Literal["simple", "general", "complex", "hard"]
    status: Literal["assigned", "on_site", "solved"]
    brief: dict[str, Any]
    stages: list[StageClock]
    link_expires_at: datetime
    timezone: str = Field(description="IANA name of the estate's zone: the page shows times in it")
    snapshot_url: str | None = Field(description="the littering snapshot through this link, when there is one")


class HandoverNote(ApiModel):
    """A note one shift leaves the next; ``read_at`` is when the caller read it (null: unread)."""

    id: int
    author: str
    body: str
    created_at: datetime
    read_at: datetime | None
