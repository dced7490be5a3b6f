"""A camera's learned activity map (learned nuisance zones, docs/cameras.md): what the vision worker last saved."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from fastapi import APIRouter, HTTPException

from api.deps import PoolDep, SettingsDep, Viewer
from api.models.activity import ActivityMap
from api.routes.cameras import CameraId
from store.activity_maps import load_map
from vision.activity_map import ActivityMap as LearntMap
from vision.activity_map import ActivityParams

router = APIRouter(prefix="/api/v1", tags=["cameras"])


@router.get("/cameras/{camera_id}/activity")
def camera_activity(camera_id: CameraId, pool: PoolDep, settings: SettingsDep, _user: Viewer) -> ActivityMap:
    """The camera's activity map: where motion is habitual, and whether it is warm enough to act yet."""
    with pool.connection() as conn:
        row = load_map(conn, settings.site, camera_id)
    if row is None:
        raise HTTPException(404, "no activity map saved for this camera yet")
    params = replace(ActivityParams(), tau_h=settings.activity_map_tau_h, warmup_h=settings.activity_map_warmup_h)
    try:
        learnt = LearntMap.from_bytes(row.data, params)
    except ValueError as exc:
        raise HTTPException(409, f"stored activity map unusable: {exc}") from exc
    height, width = learnt.shape or (0, 0)
    rows, cols = learnt.grid
    rates = learnt.rates()
    return ActivityMap(
        camera_id=camera_id, rows=rows, cols=cols, cell_px=round(learnt.cell_px_full(), 2),
        width=width * learnt.scale, height=height * learnt.scale,
        values=np.round(rates.astype(np.float64), 3).tolist(), usual_rate=round(learnt.usual_rate(rates), 3),
        quiet_rate=params.quiet_rate, observed_h=round(learnt.observed_s / 3600.0, 3), warm=learnt.warm,
        updated_at=row.updated_at,
    )
