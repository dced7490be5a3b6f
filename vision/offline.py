"""The offline driver: a video file or a folder of JPEG frames through the same ``Detector`` as the live service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from vision.camera_config import CameraConfig
from vision.decode import BadFrameError, GrayFrame, decode_gray, downscale, jpeg_size, scale_for_width
from vision.detector import Detector, LitteringEvent

JPEG_SUFFIXES = {".jpg", ".jpeg"}


def folder_frames(folder: Path) -> Iterator[tuple[GrayFrame, int]]:
    """JPEG frames in file-name order, decoded like live frames; unreadable files are skipped (they keep their
    frame number, so later frames stay aligned with their file position).
    """
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in JPEG_SUFFIXES):
        data = path.read_bytes()
        try:
            width, _ = jpeg_size(data)
            scale = scale_for_width(width)
            yield decode_gray(data, scale), scale
        except BadFrameError:
            yield np.zeros((0, 0), np.uint8), 0


def video_frames(path: Path) -> Iterator[tuple[GrayFrame, int]]:
    """Grayscale frames of a video file, reduced like live JPEGs of the same width, with their scale."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"OpenCV cannot open {path}")
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                break
            gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            scale = scale_for_width(gray.shape[1])
            yield downscale(np.asarray(gray, dtype=np.uint8), scale), scale
    finally:
        cap.release()


def video_fps(path: Path) -> float | None:
    """The frame rate the container declares, None when it declares none."""
    cap = cv2.VideoCapture(str(path))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS))
    finally:
        cap.release()
    return fps if fps > 0 else None


def detect(source: Path, cfg: CameraConfig, fps: float | None = None) -> Iterator[LitteringEvent]:
    """Events of a video file or a JPEG folder, yielded as soon as each fall's track ends."""
    if source.is_dir():
        frames = folder_frames(source)
        rate = fps or cfg.fps
        if rate is None:
            raise ValueError("a folder of frames has no frame rate: pass --fps or set fps in CAMERA.json")
    else:
        frames = video_frames(source)
        rate = fps or cfg.fps or video_fps(source)
        if rate is None:
            raise ValueError(f"{source}: frame rate unknown: pass --fps")
    detector = Detector(cfg)
    for index, (gray, scale) in enumerate(frames):
        if scale == 0:  # an unreadable file in a folder
            continue
        yield from detector.feed(gray, index, index / rate, scale)
    yield from detector.finish()
