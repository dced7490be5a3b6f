"""The estate map: towers with their state, gates, cameras with their stream, and pins of unresolved alerts.

Readable by viewers, so it carries no personal data: alert pins have a type, a severity and a place on the
facade, never a title, a resident or a unit of a resident's alert (only the unit behind a littering window).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.models.base import ApiModel

Severity = Literal["info", "minor", "major", "critical"]


class TowerPlace(ApiModel):
    """Where a tower stands on the plan (plan units, y down): the fields the estate plan's ``Tower`` and the map's
    ``MapTower`` share, defined once here.
    """

    id: str
    name: str
    floors: int | None
    x: float
    y: float
    width: float
    height: float


class MapTower(TowerPlace):
    """A tower on the plan (plan units, y down) and its state: quiet, alerts, or a camera not streaming."""

    state: Literal["quiet", "alerts", "camera_offline"]
    open: int
    acknowledged: int
    worst_severity: Severity | None
    life_safety: int = Field(description="unresolved alerts of a life-safety type (smoke, littering, ...)")
    cameras: int
    cameras_offline: int


class MapGate(ApiModel):
    """A gate of the estate: also the estate plan's ``Gate``, so the two cannot drift apart."""

    id: str
    name: str
    x: float
    y: float


class CameraPlace(ApiModel):
    """Where a camera stands on the plan and what it watches: a facade (littering) camera looks at a tower, an
    entrance camera watches a gate. The fields the estate plan's ``PlacedCamera`` and the map's ``MapCamera`` share.
    """

    id: str
    name: str
    kind: Literal["littering", "entrance"]
    tower: str | None
    gate: str | None
    x: float
    y: float


class MapCamera(CameraPlace):
    """A camera on the plan with its stream's health."""

    streaming: bool | None = Field(description="frames within the last 10 s; None for an entrance camera, whose "
                                           "frames only the entrance service sees")
    age_s: float | None = Field(description="seconds since its last frame; None when it never sent one")


class AlertPin(ApiModel):
    """An unresolved alert placed on its tower; ``place`` names the floor, window column and unit when known."""

    alert_id: str
    type: str
    priority: Literal["life", "property", "device"]
    severity: Severity
    status: Literal["open", "acknowledged"]
    tower: str
    floor: int | None
    window_column: int | None = Field(description="1-based window column, from a calibrated littering camera")
    unit: str | None
    place: str | None


class EstateMap(ApiModel):
    """The site plan with live state; ``unplaced`` counts unresolved alerts of no tower on the plan."""

    name: str
    width: float
    height: float
    towers: list[MapTower]
    gates: list[MapGate]
    cameras: list[MapCamera]
    pins: list[AlertPin]
    unplaced: int
    generated_at: datetime
