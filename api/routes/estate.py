"""The estate map: the site plan (``EW_ESTATE_FILE`` merged with the camera files) with each tower's state, the
cameras' streams and a pin per unresolved alert. Viewer-readable: no titles, residents or personal units.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, HTTPException
from pydantic import TypeAdapter, ValidationError

from alerts.triage import priority
from api.deps import PoolDep, SettingsDep, Viewer
from api.estate_plan import Layout, OpenAlert, PlanError, Tower, build_layout, load_plan, place_text, tower_status
from api.estate_plan import unit_name as plan_unit
from api.models.estate import AlertPin, EstateMap, MapCamera, MapGate, MapTower
from api.routes.cameras import SILENT_AFTER_S
from store import camera_views
from store.alerts import AlertFilter, AlertRow, list_alerts
from store.camera_views import CameraRow
from vision.camera_config import CameraConfig
from vision.faces.entrance import EntranceCamera

router = APIRouter(prefix="/api/v1", tags=["estate"])

MAX_PINS = 500  # per status; a map with more pins than this is a flood the queue handles better


def _entrance_gates(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    try:
        cameras = TypeAdapter(list[EntranceCamera]).validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise HTTPException(500, f"entrance cameras file unusable: {exc}") from exc
    return {c.id: c.gate for c in cameras}


def _config(row: CameraRow) -> CameraConfig:
    try:
        return CameraConfig.model_validate({**row.config, "id": row.camera_id, "name": row.name,
                                            "building": row.building})
    except ValidationError:
        return CameraConfig(id=row.camera_id, name=row.name, building=row.building)  # shown, just uncalibrated


def _open_alert(row: AlertRow) -> OpenAlert:
    column = row.details.get("window_column") if row.type == "littering" else None
    camera = row.subject.get("camera")
    return OpenAlert(id=row.id, type=row.type, severity=row.severity, status=row.status, building=row.building,
                     floor=row.floor, window_column=column if isinstance(column, int) else None,
                     camera=camera if isinstance(camera, str) else None)


def _pin(alert: OpenAlert, tower: Tower) -> AlertPin:
    column = alert.window_column
    unit = plan_unit(tower, alert.floor, column) if alert.floor is not None and column is not None else None
    return AlertPin.model_validate({
        "alert_id": alert.id, "type": alert.type, "priority": priority(alert.type), "severity": alert.severity,
        "status": alert.status, "tower": tower.id, "floor": alert.floor,
        "window_column": None if column is None else column + 1, "unit": unit,
        "place": place_text(tower, alert.floor, column)})


def estate_map(layout: Layout, rows: list[CameraRow], alerts: list[OpenAlert], now: datetime) -> EstateMap:
    """The map answer from the merged layout, the cameras' health rows and the unresolved alerts."""
    health = {r.camera_id: r for r in rows}
    ages = {cid: (now - r.last_frame_at).total_seconds() for cid, r in health.items() if r.last_frame_at}
    streaming = {cid: age <= SILENT_AFTER_S for cid, age in ages.items()}
    towers = {t.id: t for t in layout.towers}
    out_towers = []
    for t in layout.towers:
        status = tower_status(t.id, alerts, layout.cameras, streaming)
        out_towers.append(MapTower.model_validate({**vars(t), **vars(status)}))
    cameras = [MapCamera.model_validate({
        **vars(c), "streaming": streaming.get(c.id, False) if c.kind == "littering" or c.id in health else None,
        "age_s": round(ages[c.id], 1) if c.id in ages else None}) for c in layout.cameras]
    pins = [_pin(a, towers[a.building]) for a in alerts if a.building in towers]
    return EstateMap(name=layout.name, width=layout.width, height=layout.height, towers=out_towers,
                     gates=[MapGate.model_validate(vars(g)) for g in layout.gates], cameras=cameras, pins=pins,
                     unplaced=len(alerts) - len(pins), generated_at=now)


@router.get("/estate")
def get_estate(_: Viewer, pool: PoolDep, settings: SettingsDep) -> EstateMap:
    """The site plan with each tower's state (quiet, alerts, camera offline), gates, cameras and alert pins."""
    try:
        plan = load_plan(settings.estate_file)
    except PlanError as exc:
        raise HTTPException(500, str(exc)) from exc
    with pool.connection() as conn:
        rows = camera_views.cameras(conn, settings.site)
        unresolved = [r for status in ("open", "acknowledged")
                      for r in list_alerts(conn, AlertFilter(site=settings.site, status=status), MAX_PINS)]
    gates = _entrance_gates(settings.entrance_cameras_file)
    layout = build_layout(plan, {r.camera_id: _config(r) for r in rows if r.camera_id not in gates}, gates)
    return estate_map(layout, rows, [_open_alert(r) for r in unresolved], datetime.now(UTC))
