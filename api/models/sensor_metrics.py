"""Metrics that no sensor rule knows, as the control room sees them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.models.base import ApiModel


class UnknownMetric(ApiModel):
    """A metric name one kind of device sends that the sensor profile does not declare: no rule reads it."""

    device_kind: str = Field(description="the device kind by the profile ('unknown' when no kind matched)")
    metric: str = Field(description="the metric name as the devices send it")
    readings: int = Field(description="readings that carried it since it was first seen")
    devices: list[str] = Field(description="a few device ids that sent it (at most 5)")
    first_seen: datetime
    last_seen: datetime
