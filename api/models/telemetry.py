"""Telemetry of one device: raw points, or time-bucketed aggregates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from api.models.base import ApiModel

BucketSize = Literal["1m", "5m", "15m", "1h", "6h", "1d"]


class TelemetryPoint(ApiModel):
    """One reading as stored."""

    ts: datetime
    metric: str
    value: float
    seq: int | None


class TelemetryBucket(ApiModel):
    """The readings of one metric in one bucket."""

    bucket: datetime
    metric: str
    avg: float
    min: float
    max: float
    n: int


class TelemetryPoints(ApiModel):
    """Raw points in [start, end), oldest first."""

    device: str
    start: datetime
    end: datetime
    points: list[TelemetryPoint]


class TelemetryBuckets(ApiModel):
    """Aggregates per ``bucket`` in [start, end), oldest first."""

    device: str
    start: datetime
    end: datetime
    bucket: BucketSize
    buckets: list[TelemetryBucket]
