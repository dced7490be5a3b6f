"""Cameras with their health, and the littering events they raised."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.models.base import ApiModel


class Camera(ApiModel):
    """A camera's health and where its latest frame and calibration overlay are served."""

    camera_id: str
    name: str | None
    building: str | None
    width: int | None
    height: int | None
    fps: float | None
    last_frame_at: datetime | None
    age_s: float | None
    silent: bool
    frames: int
    rejected: int
    calibrated: bool
    latest_frame: str
    calibration: str


class LitteringEvent(ApiModel):
    """A detected fall: where it came from, its track, its alert and its evidence (None until written)."""

    event_id: str
    camera_id: str
    building: str | None
    occurred_at: datetime
    ended_at: datetime
    floor: int | None
    window_column: int | None
    origin: tuple[float, float]
    score: float
    track: list[tuple[int, float, float]] = Field(description="the fall's path: [frame, x, y] in full-resolution px")
    alert_id: str | None
    snapshot: str | None
    clip: str | None
    clip_mjpeg: str | None
