"""Database writes of the vision area: littering events (with the alert, in one transaction) and camera health."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from vision.camera_config import CameraConfig
from vision.detector import LitteringEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredEvent:
    event_id: str
    site: str
    occurred_at: datetime
    ended_at: datetime
    event: LitteringEvent
    building: str | None


def evidence_urls(event_id: str) -> dict[str, str]:
    """API paths of an event's evidence (the files appear ~2 s after the event, when the clip is complete)."""
    return {"snapshot": f"/api/v1/evidence/{event_id}/snapshot.jpg", "clip": f"/api/v1/evidence/{event_id}/clip.mp4"}


def insert_event(conn: psycopg.Connection[Any], stored: StoredEvent) -> str | None:
    """Insert the event, its row in ``events`` and raise the alert, in the caller's transaction; returns the alert
    id (None when the alerts area is not installed)."""
    ev = stored.event
    track = [[f, round(x, 1), round(y, 1)] for f, x, y in ev.track]
    data = {"event_id": stored.event_id, "floor": ev.floor, "window_column": ev.window_column,
            "origin": [round(ev.origin[0], 1), round(ev.origin[1], 1)], "score": ev.score,
            "building": stored.building, "evidence": evidence_urls(stored.event_id), "track": track}
    conn.execute(
        "INSERT INTO littering_events (event_id, site, camera_id, building, occurred_at, ended_at, frame_start,"
        " frame_end, floor, window_column, origin_x, origin_y, score, track)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (stored.event_id, stored.site, ev.camera, stored.building, stored.occurred_at, stored.ended_at,
         ev.frame_start, ev.frame_end, ev.floor, ev.window_column, ev.origin[0], ev.origin[1], ev.score, Jsonb(track)),
    )
    conn.execute(
        "INSERT INTO events (ts, site, kind, source, subject, data, dedup_key) VALUES (%s, %s, 'littering', %s, NULL,"
        " %s, %s) ON CONFLICT DO NOTHING",
        (stored.occurred_at, stored.site, ev.camera, Jsonb(data), f"littering:{stored.event_id}"),
    )
    alert_id = _raise_alert(conn, stored, data)
    if alert_id is not None:
        conn.execute("UPDATE littering_events SET alert_id = %s WHERE event_id = %s", (alert_id, stored.event_id))
    return alert_id


def _raise_alert(conn: psycopg.Connection[Any], stored: StoredEvent, data: dict[str, Any]) -> str | None:
    try:
        from alerts.intake import AlertDraft, raise_alert
    except ImportError:  # the alerts area is optional for the vision worker
        log.warning("alerts.intake.raise_alert is not available: littering event %s stored without an alert",
                    stored.event_id)
        return None
    ev = stored.event
    floor = f"floor {ev.floor}" if ev.floor is not None else "unknown floor"
    draft = AlertDraft(
        type="littering",
        severity="major",
        dedup_key=f"littering:{ev.camera}:{stored.event_id}",
        title=f"Object thrown from {floor} ({ev.camera})",
        site=stored.site,
        occurred_at=stored.occurred_at,
        subject={"camera": ev.camera, "building": stored.building, "floor": ev.floor},
        details={k: data[k] for k in ("event_id", "origin", "track", "score", "floor", "window_column")},
        evidence=evidence_urls(stored.event_id),
    )
    return raise_alert(conn, draft)


def set_evidence(conn: psycopg.Connection[Any], event_id: str, snapshot: str | None, mjpeg: str | None) -> None:
    conn.execute("UPDATE littering_events SET snapshot_path = %s, mjpeg_path = %s WHERE event_id = %s",
                 (snapshot, mjpeg, event_id))


def set_clip(conn: psycopg.Connection[Any], event_id: str, clip: str | None) -> None:
    conn.execute("UPDATE littering_events SET clip_path = %s WHERE event_id = %s", (clip, event_id))


def upsert_camera_config(conn: psycopg.Connection[Any], site: str, cfg: CameraConfig) -> None:
    conn.execute(
        "INSERT INTO cameras (camera_id, site, name, building, config) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (camera_id) DO UPDATE SET name = EXCLUDED.name, building = EXCLUDED.building,"
        " config = EXCLUDED.config, updated_at = now()",
        (cfg.id, site, cfg.name, cfg.building, Jsonb(json.loads(cfg.model_dump_json(exclude_none=True)))),
    )


@dataclass(frozen=True)
class CameraHealth:
    camera_id: str
    width: int
    height: int
    fps: float
    last_frame_at: datetime
    frames: int
    rejected: int


def upsert_health(conn: psycopg.Connection[Any], site: str, rows: list[CameraHealth]) -> None:
    """Counters are deltas since the last call; cameras seen for the first time get a default (empty) config."""
    for h in rows:
        conn.execute(
            "INSERT INTO cameras (camera_id, site, config, width, height, fps, last_frame_at, frames, rejected)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (camera_id) DO UPDATE SET width = COALESCE(EXCLUDED.width, cameras.width),"
            " height = COALESCE(EXCLUDED.height, cameras.height), fps = EXCLUDED.fps,"
            " last_frame_at = GREATEST(cameras.last_frame_at, EXCLUDED.last_frame_at),"
            " frames = cameras.frames + EXCLUDED.frames, rejected = cameras.rejected + EXCLUDED.rejected,"
            " updated_at = now()",
            (h.camera_id, site, Jsonb({"id": h.camera_id}), h.width or None, h.height or None, h.fps,
             h.last_frame_at, h.frames, h.rejected),
        )
