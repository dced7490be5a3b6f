"""What the sensor rules could not read: metric names the sensor profile does not know, never silently ignored."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PoolDep, SettingsDep, Viewer
from api.models.sensor_metrics import UnknownMetric
from store import unknown_metrics

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.get("/unknown-metrics")
def list_unknown_metrics(pool: PoolDep, settings: SettingsDep, _: Viewer) -> list[UnknownMetric]:
    """Metric names no rule knows, per device kind, the most frequent first (add them to the sensor profile)."""
    with pool.connection() as conn:
        rows = unknown_metrics.listing(conn, settings.site)
    return [UnknownMetric.model_validate(row) for row in rows]
