"""Drives simulated entrance cameras: their JPEG frames over MQTT at the scene's rate, ground truth returned."""

from __future__ import annotations

import time
from typing import Any

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import MqttTarget
from simulators.entrance import EntranceScene


def publish_entrance(target: MqttTarget, site: str, scenes: list[EntranceScene], *, speed: float = 1.0,
                     start_ms: float | None = None) -> dict[str, Any]:
    """Publish every scene's frames on ``estate/{site}/camera/{camera}/frame``, interleaved per frame.

    Each frame carries user properties ``ts`` (capture time, epoch ms) and ``seq``, like the other camera
    simulator; ``speed`` 0 publishes as fast as the broker takes them. Returns the truth with absolute times.
    """
    t0 = start_ms if start_ms is not None else time.time() * 1000.0
    pub = BoundedPublisher(target, max_inflight=200).start()
    try:
        publish_scenes(pub, site, scenes, start_ms=t0, speed=speed)
    finally:
        pub.close(flush_timeout=10)
    truth = []
    for scene in scenes:
        for row in scene.truth():
            truth.append({**row, "at_ms": round(t0 + row["t_end"] * 1000.0)})
    return {"start_ms": t0, "passages": truth}


def publish_scenes(pub: BoundedPublisher, site: str, scenes: list[EntranceScene], *, start_ms: float,
                   speed: float) -> None:
    """The frames of ``scenes`` on an open publisher, capture times from ``start_ms``, paced by ``speed``."""
    fps = max(s.fps for s in scenes)
    streams = [s.jpegs() for s in scenes]
    n = max(s.n_frames for s in scenes)
    wall0 = time.monotonic()
    for i in range(n):
        for scene, frames in zip(scenes, streams, strict=True):
            item = next(frames, None)
            if item is None:
                continue
            ts = start_ms + item[0] * 1000.0
            pub.publish(topics.frame(site, scene.camera), item[1], qos=0,
                        user_properties=[("ts", f"{ts:.0f}"), ("seq", str(i))])
        if speed > 0:
            delay = wall0 + (i + 1) / (fps * speed) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
