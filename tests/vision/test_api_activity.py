"""GET /api/v1/cameras/{camera_id}/activity against the real PostgreSQL: the map the vision worker saved, as a grid
of rates over the full-resolution frame, warm or not by the site's setting; per site; bad ids and bad rows refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from common.settings import Settings
from store.activity_maps import save_map
from store.db import connect
from tests.helpers import ADMIN_TOKEN
from vision.activity_map import ActivityMap, ActivityParams

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _learnt() -> ActivityMap:
    """Ten seconds of 640x360 frames (decoded at half of 1280x720) with the top-left cell moving every frame."""
    amap = ActivityMap(ActivityParams())
    amap.fit((360, 640), 2)
    fg = np.zeros((360, 640), np.uint8)
    fg[0:16, 0:16] = 255
    for i in range(201):
        amap.update(fg, i / 20.0)
    return amap


def _store(settings: Settings, site: str, camera: str, data: bytes, rows: int = 23, cols: int = 40) -> None:
    with connect(settings.require_database_url()) as conn, conn.transaction():
        save_map(conn, site, camera, rows=rows, cols=cols, observed_s=10.0, data=data)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"activity_map_warmup_h": 0.002}))) as c:
        yield c


def test_the_saved_map_is_served_as_a_grid_over_the_full_frame(client: TestClient, settings: Settings) -> None:
    _store(settings, settings.site, "cam-1", _learnt().to_bytes())
    assert client.get("/api/v1/cameras/cam-1/activity").status_code == 401
    body = client.get("/api/v1/cameras/cam-1/activity", headers=AUTH).json()
    assert (body["rows"], body["cols"], body["width"], body["height"]) == (22, 40, 1280, 720)
    assert body["cell_px"] == pytest.approx(32.0)
    assert len(body["values"]) == 22
    assert {len(row) for row in body["values"]} == {40}
    assert body["values"][0][0] == 1.0
    assert sum(map(sum, body["values"])) == 1.0  # every other cell was still
    assert body["warm"] is True  # 10 s watched, 7.2 s needed here
    assert body["observed_h"] == pytest.approx(10 / 3600, abs=1e-3)
    assert body["quiet_rate"] == ActivityParams().quiet_rate
    assert body["usual_rate"] == 0.0  # the median cell is still


def test_cold_maps_say_so_and_other_sites_maps_are_not_shown(settings: Settings) -> None:
    _store(settings, settings.site, "cam-1", _learnt().to_bytes())
    _store(settings, "elsewhere", "cam-2", _learnt().to_bytes())
    with TestClient(create_app(settings)) as client:  # the default warm-up: an hour
        assert client.get("/api/v1/cameras/cam-1/activity", headers=AUTH).json()["warm"] is False
        assert client.get("/api/v1/cameras/cam-2/activity", headers=AUTH).status_code == 404


def test_unknown_cameras_bad_ids_and_unreadable_rows(client: TestClient, settings: Settings) -> None:
    assert client.get("/api/v1/cameras/nobody/activity", headers=AUTH).status_code == 404
    assert client.get("/api/v1/cameras/bad%20id/activity", headers=AUTH).status_code == 422
    _store(settings, settings.site, "cam-3", b"EWAM garbage", rows=1, cols=1)
    answer = client.get("/api/v1/cameras/cam-3/activity", headers=AUTH)
    assert answer.status_code == 409
    assert "activity map" in answer.json()["detail"]
