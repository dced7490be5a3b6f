"""Drives simulated cameras: JPEG frames over MQTT at a set rate per camera, or a video file with ground truth."""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av
import cv2
import numpy as np
from numpy.typing import NDArray

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


# codec by file type: lossless FFV1 in .mkv, motion JPEG in .avi (OpenCV's own writer, the one that takes a quality),
# MPEG-4 part 2 in .mp4 and H.264 in .m4v through PyAV (OpenCV's bundled FFmpeg has no H.264 encoder, and its mp4v
# writer has one fixed bitrate; PyAV's wheels bring libx264 and take a quantiser)
VIDEO_CODECS = {".mkv": "FFV1", ".avi": "MJPG", ".mp4": "mp4v", ".m4v": "avc1"}
_AV_CODECS = {"mp4v": "mpeg4", "avc1": "libx264"}


class FrameWriter(Protocol):
    """What the scene writers need of a video writer (``cv2.VideoWriter`` and ``AvWriter`` both are one)."""

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's spelling
        """Whether frames can be written."""

    def write(self, image: NDArray[np.uint8]) -> object:
        """Append one BGR frame."""

    def release(self) -> None:
        """Flush and close the file."""


def av_options(codec: str, quality: int) -> dict[str, str]:
    """Encoder settings for a JPEG-like ``quality`` (35-95): x264's CRF from 32 down to 18, MPEG-4's fixed
    quantiser from 12 down to 2; higher quality, fewer artefacts, as with JPEG.
    """
    share = min(1.0, max(0.0, (95 - quality) / 60))
    if codec == "libx264":
        return {"crf": str(round(18 + 14 * share)), "preset": "veryfast"}
    q = str(round(2 + 10 * share))
    return {"qmin": q, "qmax": q}


class AvWriter:
    """H.264 or MPEG-4 part 2 through PyAV, with the same three methods as ``cv2.VideoWriter``."""

    def __init__(self, out: Path, fourcc: str, fps: float, size: tuple[int, int], quality: int) -> None:
        codec = _AV_CODECS[fourcc]
        self._out = av.open(str(out), "w")
        stream = self._out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        if not isinstance(stream, av.VideoStream):
            raise TypeError(f"{codec} did not give a video stream")
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {**av_options(codec, quality)}
        self._stream = stream

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's spelling
        """Always true once constructed: PyAV raises on a file it cannot open."""
        return True

    def write(self, image: NDArray[np.uint8]) -> None:
        """Encode one BGR frame."""
        frame = av.VideoFrame.from_ndarray(np.asarray(image, dtype=np.uint8), format="bgr24")
        for packet in self._stream.encode(frame):
            self._out.mux(packet)

    def release(self) -> None:
        """Drain the encoder and close the file."""
        for packet in self._stream.encode():
            self._out.mux(packet)
        self._out.close()


def open_writer(out: Path, fourcc: str, scene: Scene, quality: int) -> FrameWriter:
    """A video writer for the scene's frames at ``quality`` (JPEG scale; FFV1 is lossless and ignores it)."""
    size = (scene.width, scene.height)
    if fourcc in _AV_CODECS:
        return AvWriter(out, fourcc, scene.fps, size, quality)
    if fourcc == "MJPG":
        return cv2.VideoWriter(str(out), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter.fourcc(*fourcc), scene.fps, size,
                               [cv2.VIDEOWRITER_PROP_QUALITY, quality])
    return cv2.VideoWriter(str(out), cv2.CAP_FFMPEG, cv2.VideoWriter.fourcc(*fourcc), scene.fps, size)


# file type of each world codec (``Scene.codec``); "jpeg" frames go over the live path and have no file
CODEC_SUFFIX = {"mjpeg": ".avi", "mp4v": ".mp4", "h264": ".m4v"}


def write_scene_file(scene: Scene, folder: Path, name: str = "scene") -> Path:
    """The scene as the video file its codec names, at its own quality (for the offline path)."""
    path = folder / f"{name}{CODEC_SUFFIX[scene.codec]}"
    _encode(scene, path, VIDEO_CODECS[path.suffix], scene.quality)
    return path


def _encode(scene: Scene, out: Path, fourcc: str, quality: int) -> None:
    """Render every frame of the scene into the video file ``out``."""
    writer = open_writer(out, fourcc, scene, quality)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {out}")
    try:
        for _, img in Renderer(scene).frames():
            writer.write(img)
    finally:
        writer.release()


def write_video(scene: Scene, out: Path, camera: str = "sim-cam") -> dict[str, Any]:
    """Write the scene as a video plus ``<out>.truth.json`` and ``<out>.camera.json`` beside it."""
    fourcc = VIDEO_CODECS.get(out.suffix.lower())
    if fourcc is None:
        raise ValueError(f"video type {out.suffix!r} not supported: use one of {', '.join(VIDEO_CODECS)}")
    _encode(scene, out, fourcc, 95)
    truth = {"seed": scene.seed, "fps": scene.fps, "falls": ground_truth(scene), "lens": scene.lens_json()}
    out.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    out.with_suffix(".camera.json").write_text(json.dumps(scene.camera_json(camera), indent=1), encoding="utf-8")
    return truth
