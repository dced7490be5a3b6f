"""Cameras with their health, latest frame and calibration overlay, and the littering events they raised."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import FileResponse

from api.deps import PoolDep, SettingsDep, Viewer

router = APIRouter(prefix="/api/v1", tags=["cameras"])

CameraId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
SILENT_AFTER_S = 10.0


def _camera_row(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    last = row["last_frame_at"]
    age = (now - last).total_seconds() if last is not None else None
    config = row["config"] or {}
    return {
        "camera_id": row["camera_id"],
        "name": row["name"],
        "building": row["building"],
        "width": row["width"],
        "height": row["height"],
        "fps": row["fps"],
        "last_frame_at": last,
        "age_s": round(age, 1) if age is not None else None,
        "silent": age is None or age > SILENT_AFTER_S,
        "frames": row["frames"],
        "rejected": row["rejected"],
        "calibrated": len(config.get("floor_lines") or []) >= 2,
        "latest_frame": f"/api/v1/cameras/{row['camera_id']}/latest.jpg",
        "calibration": f"/api/v1/cameras/{row['camera_id']}/calibration.jpg",
    }


@router.get("/cameras")
def list_cameras(pool: PoolDep, settings: SettingsDep, _user: Viewer) -> list[dict[str, Any]]:
    """Every camera of the site with its health: frame rate, age of the last frame, resolution, rejections."""
    with pool.connection() as conn:
        rows = conn.execute("SELECT * FROM cameras WHERE site = %s ORDER BY camera_id", (settings.site,)).fetchall()
    now = datetime.now(UTC)
    return [_camera_row(r, now) for r in rows]  # type: ignore[arg-type]


@router.get("/cameras/{camera_id}/latest.jpg", response_class=FileResponse)
def latest_frame(camera_id: CameraId, settings: SettingsDep, _user: Viewer) -> FileResponse:
    """The newest frame the vision service received from the camera."""
    from vision.service import latest_frame_path

    path = latest_frame_path(settings.data_dir, camera_id)
    if not path.exists():
        raise HTTPException(404, "no frame received from this camera yet")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/cameras/{camera_id}/calibration.jpg")
def calibration(camera_id: CameraId, pool: PoolDep, settings: SettingsDep, _user: Viewer) -> Response:
    """The latest frame with the camera's floor lines, window columns and masks drawn over it."""
    from vision.calibration import calibration_jpeg
    from vision.camera_config import CameraConfig
    from vision.service import latest_frame_path

    with pool.connection() as conn:
        row = conn.execute("SELECT config FROM cameras WHERE camera_id = %s AND site = %s",
                           (camera_id, settings.site)).fetchone()
    path = latest_frame_path(settings.data_dir, camera_id)
    if row is None or not path.exists():
        raise HTTPException(404, "unknown camera or no frame yet")
    cfg = CameraConfig.model_validate({**(row["config"] or {}), "id": camera_id})  # type: ignore[call-overload]
    try:
        body = calibration_jpeg(path.read_bytes(), cfg)
    except ValueError as exc:
        raise HTTPException(409, f"latest frame unusable: {exc}") from exc
    return Response(body, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _event_row(row: dict[str, Any]) -> dict[str, Any]:
    eid = row["event_id"]
    return {
        "event_id": eid,
        "camera_id": row["camera_id"],
        "building": row["building"],
        "occurred_at": row["occurred_at"],
        "ended_at": row["ended_at"],
        "floor": row["floor"],
        "window_column": row["window_column"],
        "origin": [row["origin_x"], row["origin_y"]],
        "score": row["score"],
        "track": row["track"],
        "alert_id": row["alert_id"],
        "snapshot": f"/api/v1/evidence/{eid}/snapshot.jpg" if row["snapshot_path"] else None,
        "clip": f"/api/v1/evidence/{eid}/clip.mp4" if row["clip_path"] else None,
        "clip_mjpeg": f"/api/v1/evidence/{eid}/clip.mjpeg" if row["mjpeg_path"] else None,
    }


@router.get("/littering-events")
def list_events(
    pool: PoolDep,
    settings: SettingsDep,
    _user: Viewer,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Littering events, newest first; ``before`` pages back in time."""
    sql = "SELECT * FROM littering_events WHERE site = %s"
    args: list[Any] = [settings.site]
    if camera is not None:
        sql += " AND camera_id = %s"
        args.append(camera)
    if before is not None:
        sql += " AND occurred_at < %s"
        args.append(before)
    sql += " ORDER BY occurred_at DESC LIMIT %s"
    args.append(limit)
    with pool.connection() as conn:
        rows = conn.execute(sql, args).fetchall()
    return [_event_row(r) for r in rows]  # type: ignore[arg-type]


@router.get("/littering-events/{event_id}")
def get_event(event_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], pool: PoolDep, settings: SettingsDep,
              _user: Viewer) -> dict[str, Any]:
    with pool.connection() as conn:
        row = conn.execute("SELECT * FROM littering_events WHERE event_id = %s AND site = %s",
                           (event_id, settings.site)).fetchone()
    if row is None:
        raise HTTPException(404, "no such littering event")
    return _event_row(row)  # type: ignore[arg-type]
