"""Cameras with their health, latest frame and calibration overlay, and the littering events they raised."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import FileResponse
from pydantic import ValidationError

from api.deps import PoolDep, SettingsDep, Viewer
from api.models.cameras import Camera, LitteringEvent
from api.openapi import binary
from common.topics import ID_PATTERN
from store import camera_views
from store.camera_views import CameraRow, LitteringEventRow
from vision.calibration import calibration_jpeg
from vision.camera_config import CameraConfig
from vision.decode import BadFrameError
from vision.frame_guard import checked_size
from vision.paths import latest_frame_path

router = APIRouter(prefix="/api/v1", tags=["cameras"])

CameraId = Annotated[str, Path(pattern=ID_PATTERN)]
EventId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
SILENT_AFTER_S = 10.0
_NO_STORE = {"Cache-Control": "no-store"}


def _calibrated(config: dict[str, object]) -> bool:
    lines = config.get("floor_lines")
    return isinstance(lines, list) and len(lines) >= 2


def camera(row: CameraRow, now: datetime) -> Camera:
    """A camera's health as the console shows it: how old its last frame is, and whether it went silent."""
    last = row.last_frame_at
    age = (now - last).total_seconds() if last is not None else None
    return Camera(
        camera_id=row.camera_id, name=row.name, building=row.building, width=row.width, height=row.height,
        fps=row.fps, last_frame_at=last, age_s=round(age, 1) if age is not None else None,
        silent=age is None or age > SILENT_AFTER_S, frames=row.frames, rejected=row.rejected,
        calibrated=_calibrated(row.config),
        latest_frame=f"/api/v1/cameras/{row.camera_id}/latest.jpg",
        calibration=f"/api/v1/cameras/{row.camera_id}/calibration.jpg",
    )


def littering_event(row: LitteringEventRow) -> LitteringEvent:
    """A stored fall with links to the evidence already written."""
    eid = row.event_id
    return LitteringEvent(
        event_id=eid, camera_id=row.camera_id, building=row.building, occurred_at=row.occurred_at,
        ended_at=row.ended_at, floor=row.floor, window_column=row.window_column, origin=(row.origin_x, row.origin_y),
        score=row.score, track=[(int(f), x, y) for f, x, y in row.track], alert_id=row.alert_id,
        snapshot=f"/api/v1/evidence/{eid}/snapshot.jpg" if row.snapshot_path else None,
        clip=f"/api/v1/evidence/{eid}/clip.mp4" if row.clip_path else None,
        clip_mjpeg=f"/api/v1/evidence/{eid}/clip.mjpeg" if row.mjpeg_path else None,
    )


@router.get("/cameras")
def list_cameras(pool: PoolDep, settings: SettingsDep, _user: Viewer) -> list[Camera]:
    """Every camera of the site with its health: frame rate, age of the last frame, resolution, rejections."""
    with pool.connection() as conn:
        rows = camera_views.cameras(conn, settings.site)
    now = datetime.now(UTC)
    return [camera(r, now) for r in rows]


@router.get("/cameras/{camera_id}/latest.jpg", response_class=FileResponse,
            responses=binary("the newest frame, as the camera sent it", "image/jpeg"))
def latest_frame(camera_id: CameraId, settings: SettingsDep, _user: Viewer) -> FileResponse:
    """The newest frame the vision service received from the camera."""
    path = latest_frame_path(settings.data_dir, camera_id)
    if not path.exists():
        raise HTTPException(404, "no frame received from this camera yet")
    return FileResponse(path, media_type="image/jpeg", headers=_NO_STORE)


@router.get("/cameras/{camera_id}/calibration.jpg", response_class=Response,
            responses=binary("the newest frame with the calibration drawn over it", "image/jpeg"))
def calibration(camera_id: CameraId, pool: PoolDep, settings: SettingsDep, _user: Viewer) -> Response:
    """The latest frame with the camera's floor lines, window columns and masks drawn over it."""
    with pool.connection() as conn:
        config = camera_views.camera_config(conn, settings.site, camera_id)
    path = latest_frame_path(settings.data_dir, camera_id)
    if config is None or not path.exists():
        raise HTTPException(404, "unknown camera or no frame yet")
    try:
        cfg = CameraConfig.model_validate({**config, "id": camera_id})
        jpeg = path.read_bytes()
        checked_size(jpeg, max_bytes=settings.max_frame_bytes, max_pixels=settings.max_frame_pixels)
        body = calibration_jpeg(jpeg, cfg)
    except BadFrameError as exc:
        raise HTTPException(409, f"latest frame refused before decoding: {exc.reason}") from exc
    except (ValueError, ValidationError) as exc:
        raise HTTPException(409, f"latest frame or calibration unusable: {exc}") from exc
    return Response(body, media_type="image/jpeg", headers=_NO_STORE)


@router.get("/littering-events")
def list_events(
    pool: PoolDep,
    settings: SettingsDep,
    _user: Viewer,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[LitteringEvent]:
    """Littering events, newest first; ``before`` pages back in time."""
    with pool.connection() as conn:
        rows = camera_views.littering_events(conn, settings.site, camera=camera, before=before, limit=limit)
    return [littering_event(r) for r in rows]


@router.get("/littering-events/{event_id}")
def get_event(event_id: EventId, pool: PoolDep, settings: SettingsDep, _user: Viewer) -> LitteringEvent:
    """One littering event."""
    with pool.connection() as conn:
        row = camera_views.littering_event(conn, settings.site, event_id)
    if row is None:
        raise HTTPException(404, "no such littering event")
    return littering_event(row)
