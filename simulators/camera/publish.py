"""Drives simulated cameras: JPEG frames over MQTT at a set rate per camera, or a video file with ground truth."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import cv2

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import MqttTarget
from simulators.camera.render import Renderer
from simulators.camera.scene import Scene, ground_truth


def frame_topic(site: str, camera: str) -> str:
    """MQTT topic of a camera's frames."""
    return topics.frame(site, camera)


def publish_scenes(target: MqttTarget, site: str, scenes: dict[str, Scene], *, speed: float = 1.0,
                   qos: int = 0, start_ms: float | None = None) -> dict[str, Any]:
    """Publish every camera's frames, camera by camera interleaved per frame, paced at each scene's fps times
    ``speed`` (0 = as fast as possible).

    Each frame carries user properties ``ts`` (capture time, epoch ms, at the scene's own rate whatever the pace)
    and ``seq``; returns per-camera ground truth.
    """
    renderers = {cam: Renderer(sc).jpegs() for cam, sc in scenes.items()}
    fps = max(sc.fps for sc in scenes.values())
    n = max(sc.n_frames for sc in scenes.values())
    t0 = start_ms if start_ms is not None else time.time() * 1000.0
    wall0 = time.monotonic()
    pub = BoundedPublisher(target, max_inflight=200).start()
    try:
        for i in range(n):
            for cam, frames in renderers.items():
                item = next(frames, None)
                if item is None:
                    continue
                ts = t0 + i * 1000.0 / scenes[cam].fps
                pub.publish(frame_topic(site, cam), item[1], qos=qos,
                            user_properties=[("ts", f"{ts:.0f}"), ("seq", str(i))])
            if speed > 0:
                delay = wall0 + (i + 1) / (fps * speed) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
    finally:
        pub.close(flush_timeout=10)
    return {cam: {"camera": sc.camera_json(cam), "truth": ground_truth(sc), "start_ms": t0}
            for cam, sc in scenes.items()}


# codec by file type: lossless FFV1 in .mkv, motion JPEG in .avi, MPEG-4 part 2 in .mp4 (OpenCV's bundled FFmpeg
# has no H.264 encoder, and mp4v at its fixed bitrate smears the sensor noise: fine for viewing, poor for detection)
VIDEO_CODECS = {".mkv": "FFV1", ".avi": "MJPG", ".mp4": "mp4v"}


def open_writer(out: Path, fourcc: str, scene: Scene, quality: int) -> cv2.VideoWriter:
    """A video writer for the scene's frames; motion JPEG goes through OpenCV's own writer, the only one that
    takes a quality setting (FFmpeg's refuses the parameter).
    """
    if fourcc == "MJPG":
        return cv2.VideoWriter(str(out), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter.fourcc(*fourcc), scene.fps,
                               (scene.width, scene.height), [cv2.VIDEOWRITER_PROP_QUALITY, quality])
    return cv2.VideoWriter(str(out), cv2.CAP_FFMPEG, cv2.VideoWriter.fourcc(*fourcc), scene.fps,
                           (scene.width, scene.height))


def write_video(scene: Scene, out: Path, camera: str = "sim-cam") -> dict[str, Any]:
    """Write the scene as a video plus ``<out>.truth.json`` and ``<out>.camera.json`` beside it."""
    fourcc = VIDEO_CODECS.get(out.suffix.lower())
    if fourcc is None:
        raise ValueError(f"video type {out.suffix!r} not supported: use one of {', '.join(VIDEO_CODECS)}")
    writer = open_writer(out, fourcc, scene, 95)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {out}")
    try:
        for _, img in Renderer(scene).frames():
            writer.write(img)
    finally:
        writer.release()
    truth = {"seed": scene.seed, "fps": scene.fps, "falls": ground_truth(scene)}
    out.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    out.with_suffix(".camera.json").write_text(json.dumps(scene.camera_json(camera), indent=1), encoding="utf-8")
    return truth
