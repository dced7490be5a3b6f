"""Bad input on the live path, against the real broker: corrupt, truncated, oversized and undecodable frames, a
resolution change mid-stream and a camera going silent are counted in the metrics and nothing crashes."""

from __future__ import annotations

import time

import numpy as np
from prometheus_client import REGISTRY

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import Settings
from tests.vision.helpers import jpeg, undecodable_jpeg
from tests.vision.test_service_e2e import wait_for
from vision.service import VisionService


def frames_metric(camera: str, result: str) -> float:
    return REGISTRY.get_sample_value("ew_frames_total", {"camera": camera, "result": result}) or 0.0


def gauge(name: str, camera: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"camera": camera})


def test_bad_frames_resolution_change_and_silence_are_counted(settings: Settings) -> None:
    settings = settings.model_copy(update={"max_frame_bytes": 200_000, "vision_workers": 1})
    cam = "faulty-cam"
    topic = topics.frame(settings.site, cam)
    rng = np.random.default_rng(2)
    small = jpeg(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
    large = jpeg(rng.integers(100, 140, (360, 640, 3), dtype=np.uint8), quality=70)
    service = VisionService(settings, silent_after_s=1.5)
    service.start()
    pub = BoundedPublisher(settings.mqtt).start()
    try:
        assert service.wait_connected(10)
        before = {r: frames_metric(cam, r) for r in ("ok", "truncated", "not_jpeg", "corrupt", "oversized",
                                                     "decode_failed")}
        resolution_before = gauge("ew_camera_resolution_changes_total", cam) or 0.0
        for _ in range(5):
            pub.publish(topic, small, qos=1)
        pub.publish(topic, small[: len(small) // 2], qos=1)  # truncated upload
        pub.publish(topic, b"GIF89a not a jpeg", qos=1)
        pub.publish(topic, b"\xff\xd8\x00\x00garbage\xff\xd9", qos=1)
        pub.publish(topic, b"\xff\xd8" + b"\x00" * 300_000 + b"\xff\xd9", qos=1)
        pub.publish(topic, undecodable_jpeg(320, 240), qos=1)
        for _ in range(5):
            pub.publish(topic, large, qos=1)  # the camera switched to 640x360
        assert pub.flush(10)

        def counted() -> bool:
            return (frames_metric(cam, "ok") - before["ok"] == 10
                    and frames_metric(cam, "decode_failed") - before["decode_failed"] == 1)

        assert wait_for(counted, timeout=20)
        for reason in ("truncated", "not_jpeg", "corrupt", "oversized"):
            assert frames_metric(cam, reason) - before[reason] == 1, reason
        assert (gauge("ew_camera_resolution_changes_total", cam) or 0.0) - resolution_before == 1
        # then the camera goes quiet: flagged, not crashed
        assert wait_for(lambda: gauge("ew_camera_silent", cam) == 1.0, timeout=10)
        assert (gauge("ew_camera_seconds_since_frame", cam) or 0.0) >= 1.5
        assert (REGISTRY.get_sample_value("ew_camera_silences_total", {"camera": cam}) or 0.0) >= 1
        # and comes back
        pub.publish(topic, large, qos=1)
        assert wait_for(lambda: gauge("ew_camera_silent", cam) == 0.0, timeout=10)
        assert all(p.is_alive() for p in service._procs)
        time.sleep(0.1)
    finally:
        pub.close(flush_timeout=5)
        service.stop()


def test_tracks_judged_not_falling_are_counted_by_reason(settings: Settings) -> None:
    """A bird crossing the picture level is tracked and rejected; operators see why in the metrics."""
    settings = settings.model_copy(update={"vision_workers": 1})
    cam = "bird-cam"
    topic = topics.frame(settings.site, cam)
    rng = np.random.default_rng(4)
    frames = []
    for i in range(45):
        img = np.clip(128 + rng.normal(0, 2, (240, 320, 3)), 0, 255).astype(np.uint8)
        if 5 <= i < 30:
            img[100:104, 20 + 8 * (i - 5):24 + 8 * (i - 5)] = 30
        frames.append(jpeg(img))
    service = VisionService(settings, silent_after_s=1.5)
    service.start()
    pub = BoundedPublisher(settings.mqtt).start()
    try:
        assert service.wait_connected(10)
        t0 = time.time() * 1000.0  # capture times at 10 fps, so the track's timing does not depend on the load
        for i, data in enumerate(frames):
            pub.publish(topic, data, qos=1, user_properties=[("ts", f"{t0 + 100.0 * i:.0f}"), ("seq", str(i))])
        assert pub.flush(10)

        def rejected() -> float:
            return REGISTRY.get_sample_value("ew_tracks_rejected_total",
                                             {"camera": cam, "reason": "not_descending"}) or 0.0

        assert wait_for(lambda: rejected() == 1.0, timeout=20)
        assert (REGISTRY.get_sample_value("ew_littering_events_total", {"camera": cam}) or 0.0) == 0.0
    finally:
        pub.close(flush_timeout=5)
        service.stop()
