"""Evidence files of littering events: the annotated snapshot, the clip as VP9 in MP4 (Chromium plays it in a
``<video>``), and the same clip as an MJPEG stream, available at once, before the MP4 is encoded (an ``<img>`` shows
it).

Files live under ``settings.evidence_dir``; the database holds their paths relative to it, so nothing outside that
directory can be served.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse

from api.deps import PoolDep, SettingsDep, Viewer
from api.openapi import binary
from store.camera_views import EvidenceKind, evidence_path
from store.db import Pool
from vision.evidence import read_mjpeg

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])

EventId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
MJPEG_TYPE = "multipart/x-mixed-replace; boundary=frame"


def _file(pool: Pool, root: Path, event_id: str, kind: EvidenceKind, site: str) -> Path:
    with pool.connection() as conn:
        found = evidence_path(conn, site, event_id, kind)
    if found is None:
        raise HTTPException(404, "no such littering event")
    if found.path is None:
        raise HTTPException(404, "evidence not written yet (it follows the event by a few seconds)")
    base = root.resolve()
    path = (base / found.path).resolve()
    if base not in path.parents or not path.is_file():
        raise HTTPException(404, "evidence file missing")
    return path


@router.get("/{event_id}/snapshot.jpg", response_class=FileResponse,
            responses=binary("the annotated snapshot", "image/jpeg"))
def snapshot(event_id: EventId, pool: PoolDep, settings: SettingsDep, _user: Viewer) -> FileResponse:
    """The frame from the middle of the fall with the trajectory, the release point and the floor drawn."""
    path = _file(pool, settings.evidence_dir, event_id, "snapshot", settings.site)
    return FileResponse(path, media_type="image/jpeg")


@router.get("/{event_id}/clip.mjpeg", response_class=StreamingResponse,
            responses=binary("the clip as the camera's JPEGs, one part per frame", MJPEG_TYPE))
def clip_mjpeg(event_id: EventId, pool: PoolDep, settings: SettingsDep, _user: Viewer) -> StreamingResponse:
    """The clip as the camera's own JPEGs, paced at the camera's frame rate (multipart/x-mixed-replace)."""
    index = _file(pool, settings.evidence_dir, event_id, "mjpeg", settings.site)
    fps, frames = read_mjpeg(index.parent)

    async def parts() -> AsyncIterator[bytes]:
        for jpeg in frames:
            yield b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode() + b"\r\n\r\n"
            yield jpeg + b"\r\n"
            await asyncio.sleep(1.0 / fps)
        yield b"--frame--\r\n"

    return StreamingResponse(parts(), media_type=MJPEG_TYPE)


@router.get("/{event_id}/clip.mp4", response_class=FileResponse,
            responses=binary("the clip, VP9 in MP4; range requests work", "video/mp4"))
def clip(event_id: EventId, pool: PoolDep, settings: SettingsDep, _user: Viewer) -> FileResponse:
    """About 2 s before to 2 s after the fall (at most 10 fps, 480 px wide); range requests work, so the browser
    can seek. 404 until encoded, a few seconds after the snapshot.
    """
    path = _file(pool, settings.evidence_dir, event_id, "clip", settings.site)
    return FileResponse(path, media_type="video/mp4")
