"""Writes of the vision role: littering events, their evidence paths, camera configurations and camera health.

Plain values in, no vision types: the store sits below every domain package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.types.json import Jsonb

from store.db import Conn


@dataclass(frozen=True)
class LitteringRow:
    """One row of ``littering_events``; ``track`` is ``[frame, x, y]`` points in full-resolution pixels."""

    event_id: str
    site: str
    camera_id: str
    building: str | None
    occurred_at: datetime
    ended_at: datetime
    frame_start: int
    frame_end: int
    floor: int | None
    window_column: int | None
    origin_x: float
    origin_y: float
    score: float
    track: list[list[float]]


def insert_littering(conn: Conn, row: LitteringRow, data: dict[str, object]) -> None:
    """Insert the event and its line in ``events`` (idempotent by its dedup key), in the caller's transaction."""
    conn.execute(
        "INSERT INTO littering_events (event_id, site, camera_id, building, occurred_at, ended_at, frame_start,"
        " frame_end, floor, window_column, origin_x, origin_y, score, track)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (row.event_id, row.site, row.camera_id, row.building, row.occurred_at, row.ended_at, row.frame_start,
         row.frame_end, row.floor, row.window_column, row.origin_x, row.origin_y, row.score, Jsonb(row.track)),
    )
    conn.execute(
        "INSERT INTO events (ts, site, kind, source, subject, data, dedup_key) VALUES (%s, %s, 'littering', %s, NULL,"
        " %s, %s) ON CONFLICT DO NOTHING",
        (row.occurred_at, row.site, row.camera_id, Jsonb(data), f"littering:{row.event_id}"),
    )


def link_alert(conn: Conn, event_id: str, alert_id: str) -> None:
    """Record which alert a littering event raised."""
    conn.execute("UPDATE littering_events SET alert_id = %s WHERE event_id = %s", (alert_id, event_id))


def set_evidence(conn: Conn, event_id: str, snapshot: str | None, mjpeg: str | None) -> None:
    """Record the snapshot and MJPEG clip paths (relative to the evidence folder) once they are written."""
    conn.execute("UPDATE littering_events SET snapshot_path = %s, mjpeg_path = %s WHERE event_id = %s",
                 (snapshot, mjpeg, event_id))


def set_clip(conn: Conn, event_id: str, clip: str | None) -> None:
    """Record the MP4 clip path, which the encoder thread finishes after the rest of the evidence."""
    conn.execute("UPDATE littering_events SET clip_path = %s WHERE event_id = %s", (clip, event_id))


def upsert_camera(conn: Conn, site: str, camera_id: str, name: str | None, building: str | None,
                  config: dict[str, object]) -> None:
    """Insert or replace a camera's configuration (its CAMERA.json object)."""
    conn.execute(
        "INSERT INTO cameras (camera_id, site, name, building, config) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (camera_id) DO UPDATE SET name = EXCLUDED.name, building = EXCLUDED.building,"
        " config = EXCLUDED.config, updated_at = now()",
        (camera_id, site, name, building, Jsonb(config)),
    )


@dataclass(frozen=True)
class CameraHealth:
    """A camera's stream as the vision service saw it since the last write; counters are deltas."""

    camera_id: str
    width: int
    height: int
    fps: float
    last_frame_at: datetime
    frames: int
    rejected: int


def upsert_health(conn: Conn, site: str, rows: list[CameraHealth]) -> None:
    """Add the deltas; cameras seen for the first time get a default (empty) configuration."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO cameras (camera_id, site, config, width, height, fps, last_frame_at, frames, rejected)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (camera_id) DO UPDATE SET width = COALESCE(EXCLUDED.width, cameras.width),"
            " height = COALESCE(EXCLUDED.height, cameras.height), fps = EXCLUDED.fps,"
            " last_frame_at = GREATEST(cameras.last_frame_at, EXCLUDED.last_frame_at),"
            " frames = cameras.frames + EXCLUDED.frames, rejected = cameras.rejected + EXCLUDED.rejected,"
            " updated_at = now()",
            [(h.camera_id, site, Jsonb({"id": h.camera_id}), h.width or None, h.height or None, h.fps,
              h.last_frame_at, h.frames, h.rejected) for h in rows],
        )
