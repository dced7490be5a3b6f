"""Draws a camera's calibration (floor lines, window columns, masks) over a frame, to check it by eye."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.camera_config import CameraConfig


def draw_calibration(img: NDArray[np.uint8], cfg: CameraConfig) -> NDArray[np.uint8]:
    """A copy of the (BGR) frame with masks shaded red, floor boundaries in yellow with floor numbers, and window
    column boundaries in cyan.
    """
    out = img.copy()
    h, w = out.shape[:2]
    thick = max(1, h // 540)
    font = 0.4 * thick
    if cfg.masks:
        shade = out.copy()
        polys = [np.round(np.asarray(p, dtype=np.float64)).astype(np.int32) for p in cfg.masks]
        cv2.fillPoly(shade, polys, (0, 0, 255))
        out = np.asarray(cv2.addWeighted(shade, 0.35, out, 0.65, 0), dtype=np.uint8)
        cv2.polylines(out, polys, True, (0, 0, 255), thick, cv2.LINE_AA)
    for i, row in enumerate(cfg.floor_lines):
        y = round(row)
        cv2.line(out, (0, y), (w - 1, y), (0, 255, 255), thick, cv2.LINE_AA)
        if i + 1 < len(cfg.floor_lines):
            mid = round((row + cfg.floor_lines[i + 1]) / 2)
            label = f"F{cfg.first_floor + i}"
            cv2.putText(out, label, (4, mid + 4 * thick), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 3 * thick)
            cv2.putText(out, label, (4, mid + 4 * thick), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 255, 255), thick)
    for x in cfg.window_columns:
        cv2.line(out, (round(x), 0), (round(x), h - 1), (255, 255, 0), thick, cv2.LINE_AA)
    if not cfg.calibrated:
        cv2.putText(out, "no floor calibration", (8, 24 * thick), cv2.FONT_HERSHEY_SIMPLEX, font * 1.5, (0, 0, 255),
                    2 * thick)
    return np.asarray(out, dtype=np.uint8)


def calibration_jpeg(jpeg: bytes, cfg: CameraConfig) -> bytes:
    """The calibration drawn over a JPEG frame, as a JPEG (for the console's camera view)."""
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("the frame does not decode")
    ok, buf = cv2.imencode(".jpg", draw_calibration(np.asarray(img, dtype=np.uint8), cfg),
                           [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("encoding failed")
    return buf.tobytes()
