"""Telemetry of one device: raw points, or time-bucketed aggregates with ``bucket``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import PoolDep, Viewer
from api.models.telemetry import BucketSize, TelemetryBucket, TelemetryBuckets, TelemetryPoint, TelemetryPoints
from common.topics import ID_PATTERN
from store.telemetry import BUCKETS, query_buckets, query_points

router = APIRouter(prefix="/api/v1", tags=["telemetry"])

MAX_RANGE = timedelta(days=31)


@router.get("/telemetry")
def telemetry(
    pool: PoolDep,
    _: Viewer,
    device: Annotated[str, Query(pattern=ID_PATTERN, description="device id")],
    metric: Annotated[str | None, Query(pattern=ID_PATTERN, description="one metric; unset = all")] = None,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: BucketSize | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> TelemetryPoints | TelemetryBuckets:
    """Points in [start, end) (default: the last 24 hours); with ``bucket``, avg/min/max/count per bucket."""
    end = _aware(end) if end else datetime.now(UTC)
    start = _aware(start) if start else end - timedelta(hours=24)
    if start >= end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start must be before end")
    if end - start > MAX_RANGE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at most 31 days per request")
    with pool.connection() as conn:
        if bucket is None:
            points = query_points(conn, device, metric, start, end, limit)
            return TelemetryPoints(device=device, start=start, end=end,
                                   points=[TelemetryPoint.model_validate(p) for p in points])
        buckets = query_buckets(conn, device, metric, start, end, BUCKETS[bucket])
    return TelemetryBuckets(device=device, start=start, end=end, bucket=bucket,
                            buckets=[TelemetryBucket.model_validate(b) for b in buckets])


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
