"""What the estate map's tests share: a small estate (plan file, two facade cameras, one of them streaming) and
alerts placed on it, written through the same store functions the vision and alerts roles use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alerts.drafts import AlertDraft, littering_draft
from common.settings import Settings
from store.db import connect
from store.littering import upsert_camera
from tests.helpers import raise_committed
from vision.paths import latest_frame_path

PLAN = {
    "name": "Test Gardens", "width": 800, "height": 500,
    "towers": [{"id": "A", "name": "Tower A", "x": 100, "y": 100, "unit_format": "{tower}-{floor}{unit:02d}",
                "columns_per_unit": 2},
               {"id": "B", "name": "Tower B", "floors": 18, "x": 400, "y": 100}],
    "gates": [{"id": "north", "name": "North gate", "x": 400, "y": 20}],
}
# floor lines of floors 1-10 (boundaries bottom up) and eight window columns
CALIBRATION = {"first_floor": 1, "floor_lines": [700.0 - 60 * i for i in range(11)],
               "window_columns": [100.0 + 100 * i for i in range(9)]}


def tiny_jpeg() -> bytes:
    """A real 64x36 grey JPEG frame."""
    import cv2  # noqa: PLC0415 (only the tests that write frames need OpenCV)
    import numpy as np  # noqa: PLC0415

    ok, buf = cv2.imencode(".jpg", np.full((36, 64, 3), 128, np.uint8))
    assert ok
    return bytes(buf)


def estate_settings(settings: Settings, tmp_path: Path) -> Settings:
    """``settings`` with the plan file above; camera cam-a looks at tower A and streams, cam-c (tower C, not on
    the plan) never sent a frame.
    """
    plan = tmp_path / "estate.json"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    with connect(settings.require_database_url()) as conn:
        upsert_camera(conn, settings.site, "cam-a", "Tower A facade", "A", {"id": "cam-a", **CALIBRATION})
        upsert_camera(conn, settings.site, "cam-c", "Tower C facade", "C", {"id": "cam-c"})
        conn.execute("UPDATE cameras SET last_frame_at = now(), frames = 50, width = 64, height = 36, fps = 10"
                     " WHERE camera_id = 'cam-a'")
        conn.commit()
    frame = latest_frame_path(settings.data_dir, "cam-a")
    frame.parent.mkdir(parents=True, exist_ok=True)
    frame.write_bytes(tiny_jpeg())
    return settings.model_copy(update={"estate_file": plan})


def raise_littering(settings: Settings, *, floor: int, column: int, event_id: str = "e" * 32) -> str:
    """A littering alert from cam-a (tower A) with the window column vision reports (0-based)."""
    draft = littering_draft(site=settings.site, camera="cam-a", event_id=event_id, building="A", floor=floor,
                            occurred_at=datetime.now(UTC), details={"window_column": column, "floor": floor},
                            evidence={})
    return raise_committed(settings, draft)


def raise_elderly(settings: Settings, resident: str, building: str) -> str:
    """An elderly resident's alert, whose title and subject are personal."""
    draft = AlertDraft(type="elderly_not_out", severity="major", dedup_key=f"elderly_not_out:{resident}",
                       title=f"{resident} of {building}-0802 has not gone out", site=settings.site,
                       occurred_at=datetime.now(UTC), subject={"resident": resident, "building": building,
                                                               "unit": f"{building}-0802", "floor": 8})
    return raise_committed(settings, draft)
