"""Hostile camera input against the real broker: ids that could name paths, a header claiming a gigapixel frame,
a flood of fake camera ids, ring buffers bounded in bytes, a health loop that survives, and the API's calibration
image behind the same guards."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

import vision.service as vision_service
from api.app import create_app
from common import topics
from common.mqtt import BoundedPublisher
from common.settings import Settings
from store.db import connect
from store.littering import upsert_camera
from tests.helpers import ADMIN_TOKEN, wait_until
from tests.vision.helpers import jpeg
from vision.decode import BadFrameError, jpeg_size
from vision.evidence import FrameRing
from vision.frame_guard import checked_size, inside
from vision.paths import latest_frame_path
from vision.service import VisionService


def _frames(camera: str, result: str) -> float:
    return REGISTRY.get_sample_value("ew_frames_total", {"camera": camera, "result": result}) or 0.0


def _small_jpeg(seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    return jpeg(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


def claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims ``width`` x ``height``."""
    data = bytearray(_small_jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture
def service(settings: Settings) -> Iterator[VisionService]:
    svc = VisionService(settings.model_copy(update={"vision_workers": 1, "vision_max_cameras": 4}),
                        silent_after_s=30)
    svc.start()
    assert svc.wait_connected(10)
    yield svc
    svc.stop()


def test_ids_that_name_paths_are_refused_like_every_other_id(service: VisionService, settings: Settings) -> None:
    frame = _small_jpeg()
    hostile = ["..", ".", ".hidden", "x" * 300]
    pub = BoundedPublisher(settings.mqtt).start()
    try:
        before = _frames("", "bad_topic")
        for camera in hostile:
            pub.publish(topics.frame(settings.site, camera), frame, qos=1)
        pub.publish(topics.frame(settings.site, "good-cam"), frame, qos=1)
        assert pub.flush(10)
        wait_until(lambda: _frames("good-cam", "ok") >= 1, timeout=20, what="the good camera's frame")
    finally:
        pub.close()
    assert _frames("", "bad_topic") - before == len(hostile)
    assert set(service._seen) == {"good-cam"}
    for camera in ["..", ".", ".x", "a/b", "x" * 65, ""]:
        assert not topics.valid_id(camera)
        with pytest.raises(ValueError, match="not a valid id"):
            inside(settings.evidence_dir, camera, "0" * 32)
    evidence = inside(settings.evidence_dir, "cam.1", "0" * 32)
    assert evidence.resolve().is_relative_to(settings.evidence_dir.resolve())
    wait_until(lambda: latest_frame_path(settings.data_dir, "good-cam").exists(), what="the latest frame file")
    written = {p.name for p in (settings.data_dir / "cameras").iterdir()}
    assert written == {"good-cam.jpg"}
    assert not any(Path(settings.data_dir.parent).glob("*.jpg"))


def test_a_header_claiming_32000x32000_is_refused_before_decoding(service: VisionService,
                                                                   settings: Settings) -> None:
    huge = claiming(32000, 32000)
    assert jpeg_size(huge) == (32000, 32000)
    with pytest.raises(BadFrameError) as refused:
        checked_size(huge, max_bytes=settings.max_frame_bytes, max_pixels=settings.max_frame_pixels)
    assert refused.value.reason == "too_many_pixels"
    pub = BoundedPublisher(settings.mqtt).start()
    try:
        before_ok = _frames("big-cam", "ok")
        pub.publish(topics.frame(settings.site, "big-cam"), huge, qos=1)
        pub.publish(topics.frame(settings.site, "big-cam"), _small_jpeg(), qos=1)
        assert pub.flush(10)
        wait_until(lambda: _frames("big-cam", "ok") - before_ok >= 1, timeout=20, what="the normal frame after it")
    finally:
        pub.close()
    assert _frames("big-cam", "too_many_pixels") == 1
    assert _frames("big-cam", "ok") - before_ok == 1


def test_fake_camera_ids_cannot_grow_memory(service: VisionService, settings: Settings) -> None:
    frame = _small_jpeg()
    pub = BoundedPublisher(settings.mqtt).start()
    try:
        before = _frames("", "too_many_cameras")
        for i in range(10):
            pub.publish(topics.frame(settings.site, f"fake-{i}"), frame, qos=1)
        assert pub.flush(10)
        wait_until(lambda: _frames("", "too_many_cameras") - before >= 6, timeout=20, what="refusals past the cap")
    finally:
        pub.close()
    assert len(service._seen) == 4


def test_ring_buffers_are_bounded_in_bytes() -> None:
    ring = FrameRing(25.0, seconds=12.0, max_bytes=1024 * 1024)
    chunk = b"\xff" * 100_000
    for i in range(300):
        ring.append(i, chunk)
        assert ring.bytes <= 1024 * 1024
    assert ring.bytes == sum(len(j) for _, j in ring.frames)
    assert [i for i, _ in ring.frames][-1] == 299
    assert len(ring.frames) == 10


def test_the_health_loop_survives_a_failing_pass_and_still_restarts_workers(
        service: VisionService, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = vision_service.VisionService._check_workers

    def flaky(self: VisionService) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("boom in the health pass")
        real(self)

    monkeypatch.setattr(vision_service.VisionService, "_check_workers", flaky)
    wait_until(lambda: calls["n"] >= 3, timeout=10, what="passes after the failing ones")
    health = [t for t in service._threads if t.name.endswith("_health_loop")]
    assert health
    assert health[0].is_alive()
    victim = service._procs[0]
    victim.kill()
    victim.join(5)
    wait_until(lambda: service._procs[0] is not victim and service._procs[0].is_alive(),
               timeout=15, what="the killed worker to be restarted")


def test_the_calibration_image_passes_the_same_guards(settings: Settings) -> None:
    settings = settings.model_copy(update={"max_frame_pixels": 100_000})
    with connect(settings.require_database_url()) as conn, conn.transaction():
        upsert_camera(conn, settings.site, "cal-cam", "Calibration", "1", {"id": "cal-cam"})
    path = latest_frame_path(settings.data_dir, "cal-cam")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(claiming(1000, 1000))
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app(settings)) as client:
        refused = client.get("/api/v1/cameras/cal-cam/calibration.jpg", headers=auth)
        assert refused.status_code == 409
        assert "too_many_pixels" in refused.json()["detail"]
        assert client.get("/api/v1/cameras/../calibration.jpg", headers=auth).status_code == 404
        assert client.get("/api/v1/cameras/.hidden/calibration.jpg", headers=auth).status_code == 422
        path.write_bytes(_small_jpeg())
        assert client.get("/api/v1/cameras/cal-cam/calibration.jpg", headers=auth).status_code == 200
