"""A camera that stops sending frames raises ``device_offline`` like a sensor, and the alert resolves by itself
when frames return: the pure watch, then the vision service against the real broker and database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import Settings
from estatewatch.wiring import camera_status_alert
from store.db import connect
from tests.vision.helpers import jpeg
from tests.vision.test_service_e2e import wait_for
from vision.service import VisionService
from vision.silence import SilenceWatch

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_watch_reports_a_silence_once_and_the_return_once() -> None:
    watch = SilenceWatch("s1", after_s=30.0, buildings={"cam-a": "T1"})
    watch.watch(["cam-a", "cam-never"], mono=0.0)
    assert watch.frame("cam-a", 5.0, T0) is None
    assert watch.check(30.0, T0) == []
    gone = watch.check(36.0, T0 + timedelta(seconds=31))
    assert [(c.camera, c.online, c.silent_s, c.last_frame_at, c.building) for c in gone] == [
        ("cam-a", False, 31.0, T0, "T1"), ("cam-never", False, 36.0, None, None)]
    assert watch.check(100.0, T0) == []  # once per silence
    back = watch.frame("cam-a", 101.0, T0 + timedelta(seconds=96))
    assert back is not None
    assert (back.online, back.silent_s) == (True, 96.0)
    assert watch.offline() == ["cam-never"]
    watch.unreport(gone[1])  # the raise did not commit: it is raised again
    assert [c.camera for c in watch.check(102.0, T0)] == ["cam-never"]


def _camera_alerts(db_url: str) -> list[dict[str, Any]]:
    with connect(db_url) as conn:
        return [dict(r) for r in conn.execute(
            "SELECT subject->>'device' AS device, status, subject->>'building' AS building FROM alerts"
            " WHERE type = 'device_offline' ORDER BY 1").fetchall()]


def test_a_silent_camera_raises_device_offline_and_frames_back_resolve_it(settings: Settings, db_url: str,
                                                                          tmp_path: Path) -> None:
    cameras = tmp_path / "cameras.json"
    cameras.write_text(json.dumps([{"id": "cam-live", "building": "T1"}, {"id": "cam-dark", "building": "T2"}]),
                       encoding="utf-8")
    settings = settings.model_copy(update={"vision_workers": 1, "cameras_file": cameras})
    frame = jpeg(np.random.default_rng(3).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    service = VisionService(settings, silent_after_s=1.0, camera_sink=camera_status_alert, offline_after_s=1.5)
    service.start()
    pub = BoundedPublisher(settings.mqtt).start()
    topic = topics.frame(settings.site, "cam-live")
    try:
        assert service.wait_connected(10)
        for _ in range(3):
            pub.publish(topic, frame, qos=1)
        assert pub.flush(10)
        # cam-dark never streams and cam-live stops: both are offline once the limit has passed
        assert wait_for(lambda: len(_camera_alerts(db_url)) == 2, timeout=10)
        assert _camera_alerts(db_url) == [{"device": "cam-dark", "status": "open", "building": "T2"},
                                          {"device": "cam-live", "status": "open", "building": "T1"}]
        pub.publish(topic, frame, qos=1)  # frames are back
        assert wait_for(lambda: _camera_alerts(db_url)[1]["status"] == "resolved", timeout=10)
        assert _camera_alerts(db_url)[0]["status"] == "open"
    finally:
        pub.close(flush_timeout=5)
        service.stop()
