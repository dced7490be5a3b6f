"""The cameras and evidence API against real PostgreSQL: health, latest frame, calibration overlay, events,
snapshot, MP4 clip and MJPEG stream, all behind the viewer role."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from common.settings import Settings
from estatewatch.wiring import LitteringAlerts
from store.db import connect
from store.littering import CameraHealth, set_clip, set_evidence, upsert_camera, upsert_health
from tests.helpers import ADMIN_TOKEN
from tests.vision.helpers import jpeg
from vision.camera_config import CameraConfig
from vision.detector import LitteringEvent
from vision.evidence import FrameRing, PendingEvidence, encode_mp4, write_evidence
from vision.paths import latest_frame_path
from vision.records import StoredEvent, store_event

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def event_id(settings: Settings) -> str:
    """A camera with health and a latest frame, and one littering event with all its evidence."""
    cfg = CameraConfig(id="t3-south", building="3", fps=20, floor_lines=[200, 150, 110, 80],
                       masks=[[(0, 0), (40, 0), (40, 40)]])
    frame = np.full((240, 320, 3), 160, np.uint8)
    path = latest_frame_path(settings.data_dir, cfg.id)
    path.parent.mkdir(parents=True)
    path.write_bytes(jpeg(frame))
    now = datetime.now(UTC)
    ev = LitteringEvent("t3-south", 10, 30, 0.5, 1.5, (100.0, 90.0), 3, 0.9,
                        [(f, 100.0, 90.0 + 4 * (f - 10)) for f in range(10, 31)], 2)
    eid = uuid.uuid4().hex
    ring = FrameRing(20)
    for i in range(60):
        ring.append(i, jpeg(frame))
    pending = PendingEvidence(eid, ev, 70, settings.evidence_dir / ev.camera / eid)
    snap, index = write_evidence(pending, ring, 20)
    clip = encode_mp4(pending.directory)
    assert snap is not None
    assert index is not None
    assert clip is not None
    rel = [str(p.relative_to(settings.evidence_dir)) for p in (snap, index, clip)]
    with connect(settings.require_database_url()) as conn, conn.transaction():
        config = cfg.model_dump(mode="json", exclude_none=True)
        upsert_camera(conn, settings.site, cfg.id, cfg.name, cfg.building, config)
        upsert_health(conn, settings.site, [CameraHealth(cfg.id, 320, 240, 19.5, now - timedelta(seconds=2), 100, 3)])
        stored = StoredEvent(eid, settings.site, now, now + timedelta(seconds=1), ev, "3")
        store_event(conn, stored, LitteringAlerts())
        set_evidence(conn, eid, rel[0], rel[1])
        set_clip(conn, eid, rel[2])
        conn.execute("INSERT INTO cameras (camera_id, site, config) VALUES ('other-site-cam', 'elsewhere', %s)",
                     (Jsonb({}),))
    return eid


def test_everything_needs_credentials(client: TestClient, event_id: str) -> None:
    for url in ("/api/v1/cameras", "/api/v1/littering-events", f"/api/v1/evidence/{event_id}/snapshot.jpg"):
        assert client.get(url).status_code == 401


def test_camera_list_health_frame_and_calibration(client: TestClient, event_id: str) -> None:
    cams = client.get("/api/v1/cameras", headers=AUTH).json()
    assert [c["camera_id"] for c in cams] == ["t3-south"]  # the other site's camera is not listed
    cam = cams[0]
    assert (cam["width"], cam["height"], cam["fps"], cam["frames"], cam["rejected"]) == (320, 240, 19.5, 100, 3)
    assert cam["calibrated"] is True
    assert cam["silent"] is False
    assert 1.5 < cam["age_s"] < 60
    latest = client.get(cam["latest_frame"], headers=AUTH)
    assert latest.status_code == 200
    assert latest.headers["content-type"] == "image/jpeg"
    overlay = client.get(cam["calibration"], headers=AUTH)
    assert overlay.status_code == 200
    img = cv2.imdecode(np.frombuffer(overlay.content, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    b, g, r = (int(v) for v in img[150, 200])  # on a floor line: drawn in yellow
    assert r > 200
    assert g - b > 60
    assert client.get("/api/v1/cameras/nope/latest.jpg", headers=AUTH).status_code == 404
    assert client.get("/api/v1/cameras/..%2F..%2Fetc/latest.jpg", headers=AUTH).status_code == 404


def test_events_and_their_evidence(client: TestClient, event_id: str) -> None:
    events = client.get("/api/v1/littering-events", params={"camera": "t3-south"}, headers=AUTH).json()
    assert len(events) == 1
    ev = events[0]
    assert ev["event_id"] == event_id
    assert ev["floor"] == 3
    assert ev["window_column"] == 2
    assert ev["alert_id"]
    assert json.dumps(ev["track"]).startswith("[[10, 100.0, 90.0]")
    assert client.get(f"/api/v1/littering-events/{event_id}", headers=AUTH).json()["snapshot"] == ev["snapshot"]
    snap = client.get(ev["snapshot"], headers=AUTH)
    assert snap.status_code == 200
    assert snap.content[:2] == b"\xff\xd8"
    clip = client.get(ev["clip"], headers=AUTH)
    assert clip.status_code == 200
    assert clip.headers["content-type"] == "video/mp4"
    assert clip.content[4:8] == b"ftyp"
    part = client.get(ev["clip"], headers=AUTH | {"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert len(part.content) == 100
    stream = client.get(ev["clip_mjpeg"], headers=AUTH)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
    assert stream.content.count(b"Content-Type: image/jpeg") == 60
    missing = uuid.uuid4().hex
    assert client.get(f"/api/v1/evidence/{missing}/snapshot.jpg", headers=AUTH).status_code == 404
