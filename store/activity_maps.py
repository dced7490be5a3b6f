"""SQL of the activity maps: one row per camera of a site, replaced on every save (the map itself is opaque bytes
here; ``vision/activity_map.py`` reads and writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from store.db import Conn


@dataclass(frozen=True)
class ActivityMapRow:
    """A stored map: its grid's shape, how long it watched, when it was saved, and its bytes."""

    camera_id: str
    updated_at: datetime
    grid_rows: int
    grid_cols: int
    observed_s: float
    data: bytes


def save_map(conn: Conn, site: str, camera_id: str, *, rows: int, cols: int, observed_s: float,
             data: bytes) -> None:
    """Insert or replace the camera's map, in the caller's transaction."""
    conn.execute(
        "INSERT INTO activity_maps (site, camera_id, updated_at, grid_rows, grid_cols, observed_s, data)"
        " VALUES (%s, %s, now(), %s, %s, %s, %s) ON CONFLICT (site, camera_id) DO UPDATE SET"
        " updated_at = now(), grid_rows = EXCLUDED.grid_rows, grid_cols = EXCLUDED.grid_cols,"
        " observed_s = EXCLUDED.observed_s, data = EXCLUDED.data",
        (site, camera_id, rows, cols, observed_s, data),
    )


def load_map(conn: Conn, site: str, camera_id: str) -> ActivityMapRow | None:
    """The camera's stored map, or None when it has none yet."""
    with conn.cursor(row_factory=class_row(ActivityMapRow)) as cur:
        row = cur.execute(
            "SELECT camera_id, updated_at, grid_rows, grid_cols, observed_s, data FROM activity_maps"
            " WHERE site = %s AND camera_id = %s", (site, camera_id)).fetchone()
    if row is None:
        return None
    return ActivityMapRow(row.camera_id, row.updated_at, row.grid_rows, row.grid_cols, row.observed_s,
                          bytes(row.data))
