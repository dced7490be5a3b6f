"""A littering event as the vision service records it, using the vision area's own code: the event row and its alert
(raised through the alert sink the wiring hands to vision, so ``pg_notify`` reaches the console), then the evidence
a few seconds later: the snapshot with trajectory and floor drawn plus the MJPEG clip, then the MP4 clip, in
``settings.evidence_dir``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from common.settings import Settings
from estatewatch.wiring import LitteringAlerts
from store.db import connect
from store.littering import set_clip, set_evidence
from vision.detector import LitteringEvent
from vision.evidence import FrameRing, PendingEvidence, encode_mp4, write_evidence
from vision.records import StoredEvent, store_event


def _frame(i: int, width: int = 320, height: int = 240) -> bytes:
    """A grey facade with window rows and a small dark object falling faster every frame."""
    img = np.full((height, width, 3), 150, np.uint8)
    for row in range(10, height, 24):
        cv2.rectangle(img, (20, row), (width - 20, row + 10), (90, 100, 110), -1)
    y = 20 + int(1.5 * i * i)
    cv2.circle(img, (160, min(y, height - 5)), 3, (20, 20, 20), -1)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def _event(camera: str, floor: int) -> LitteringEvent:
    track = [(i, 160.0, 20.0 + 1.5 * i * i) for i in range(2, 10)]
    return LitteringEvent(camera=camera, frame_start=2, frame_end=9, t_start=0.2, t_end=0.9, origin=(160.0, 26.0),
                          floor=floor, score=0.9, track=track)


def record_littering(settings: Settings, *, camera: str, building: str, floor: int) -> tuple[str, str]:
    """Store the event and raise its alert in one transaction; returns (event id, alert id)."""
    event_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    stored = StoredEvent(event_id=event_id, site=settings.site, occurred_at=now, ended_at=now + timedelta(seconds=1),
                         event=_event(camera, floor), building=building)
    with connect(settings.require_database_url()) as conn:
        alert_id = store_event(conn, stored, LitteringAlerts())
        conn.commit()
    assert alert_id is not None
    return event_id, alert_id


def write_littering_evidence(settings: Settings, *, event_id: str, camera: str, floor: int) -> None:
    """Write and record the evidence the way the vision worker does: snapshot and MJPEG clip, then the MP4."""
    fps = 10.0
    ring = FrameRing(fps)
    for i in range(14):
        ring.append(i, _frame(i))
    folder = settings.evidence_dir / camera / event_id
    snapshot, mjpeg = write_evidence(PendingEvidence(event_id, _event(camera, floor), 13, folder), ring, fps)
    assert snapshot is not None
    assert mjpeg is not None
    mp4 = encode_mp4(folder)
    assert mp4 is not None
    root = settings.evidence_dir
    with connect(settings.require_database_url()) as conn:
        set_evidence(conn, event_id, str(snapshot.relative_to(root)), str(mjpeg.relative_to(root)))
        set_clip(conn, event_id, str(mp4.relative_to(root)))
        conn.commit()
