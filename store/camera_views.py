"""Reads behind the cameras, littering-event and evidence routes: the vision role writes these rows
(``store.littering``), the API only reads them, always within one site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from psycopg import sql
from psycopg.rows import class_row

from store.db import Conn
from store.filters import Where

EvidenceKind = Literal["snapshot", "mjpeg", "clip"]
_EVIDENCE_COLUMNS: dict[EvidenceKind, str] = {"snapshot": "snapshot_path", "mjpeg": "mjpeg_path", "clip": "clip_path"}


@dataclass(frozen=True)
class CameraRow:
    """A camera with its configuration (the CAMERA.json object) and stream health."""

    camera_id: str
    name: str | None
    building: str | None
    config: dict[str, object]
    width: int | None
    height: int | None
    fps: float | None
    last_frame_at: datetime | None
    frames: int
    rejected: int


@dataclass(frozen=True)
class LitteringEventRow:
    """A stored fall; evidence paths are relative to the evidence folder and None until written."""

    event_id: str
    camera_id: str
    building: str | None
    occurred_at: datetime
    ended_at: datetime
    floor: int | None
    window_column: int | None
    origin_x: float
    origin_y: float
    score: float
    track: list[list[float]]
    alert_id: str | None
    snapshot_path: str | None
    mjpeg_path: str | None
    clip_path: str | None


_CAMERA_COLUMNS = "camera_id, name, building, config, width, height, fps, last_frame_at, frames, rejected"
_EVENT_COLUMNS = (
    "event_id, camera_id, building, occurred_at, ended_at, floor, window_column, origin_x, origin_y, score, track,"
    " alert_id, snapshot_path, mjpeg_path, clip_path"
)


def cameras(conn: Conn, site: str) -> list[CameraRow]:
    """Every camera of the site, by id."""
    query = sql.SQL("SELECT {} FROM cameras WHERE site = %s ORDER BY camera_id").format(sql.SQL(_CAMERA_COLUMNS))
    with conn.cursor(row_factory=class_row(CameraRow)) as cur:
        return cur.execute(query, (site,)).fetchall()


def camera_config(conn: Conn, site: str, camera_id: str) -> dict[str, object] | None:
    """The stored configuration of one camera of the site, or None for an unknown camera."""
    row = conn.execute("SELECT config FROM cameras WHERE camera_id = %s AND site = %s", (camera_id, site)).fetchone()
    if row is None:
        return None
    config = row["config"]
    return dict(config) if isinstance(config, dict) else {}


def littering_events(conn: Conn, site: str, *, camera: str | None, before: datetime | None,
                     limit: int) -> list[LitteringEventRow]:
    """Falls of the site, newest first; ``before`` pages back in time."""
    where = Where().add("site = %s", site).add_if(camera, "camera_id = %s").add_if(before, "occurred_at < %s")
    query = sql.SQL("SELECT {} FROM littering_events {} ORDER BY occurred_at DESC LIMIT %s").format(
        sql.SQL(_EVENT_COLUMNS), where.clause())
    with conn.cursor(row_factory=class_row(LitteringEventRow)) as cur:
        return cur.execute(query, [*where.params, limit]).fetchall()


def littering_event(conn: Conn, site: str, event_id: str) -> LitteringEventRow | None:
    """One fall of the site."""
    query = sql.SQL("SELECT {} FROM littering_events WHERE event_id = %s AND site = %s").format(
        sql.SQL(_EVENT_COLUMNS))
    with conn.cursor(row_factory=class_row(LitteringEventRow)) as cur:
        return cur.execute(query, (event_id, site)).fetchone()


@dataclass(frozen=True)
class EvidencePath:
    """Whether the event exists, and the path of one of its evidence files (None until written)."""

    path: str | None


def evidence_path(conn: Conn, site: str, event_id: str, kind: EvidenceKind) -> EvidencePath | None:
    """The relative path of one evidence file of an event; None when the site has no such event."""
    query = sql.SQL("SELECT {} AS path FROM littering_events WHERE event_id = %s AND site = %s").format(
        sql.Identifier(_EVIDENCE_COLUMNS[kind]))
    with conn.cursor(row_factory=class_row(EvidencePath)) as cur:
        return cur.execute(query, (event_id, site)).fetchone()

