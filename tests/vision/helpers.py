"""Small builders shared by the vision tests."""

from __future__ import annotations

import cv2
import numpy as np

from simulators.camera.scene import Scene, Throw, make_scene
from vision.tracker import Track

G = 9.81


def jpeg(img: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def undecodable_jpeg(width: int = 64, height: int = 48) -> bytes:
    """Markers and frame header intact (passes the cheap checks) but bogus sampling factors: libjpeg refuses it."""
    data = bytearray(jpeg(np.full((height, width, 3), 128, np.uint8)))
    sof = data.find(b"\xff\xc0")
    data[sof + 11] = 0x00
    return bytes(data)


def track_from(points: list[tuple[float, float, float]], fps: float = 20.0, start: int = 0) -> Track:
    """A track from (t, x, y) samples in processing pixels, one per frame."""
    tr = Track(1)
    for k, (t, x, y) in enumerate(points):
        tr.add(start + k, t, x, y, 9)
    return tr


def linear_floor_lines(bottom: float, px_per_floor: float, floors: int) -> list[float]:
    return [bottom - i * px_per_floor for i in range(floors + 1)]


def one_throw_scene(width: int = 640, height: int = 360, floor: int = 10, seconds: float = 5.0, seed: int = 5,
                    distractors: tuple[str, ...] = ()) -> Scene:
    """A scene with exactly one dark 8 px object dropped from ``floor`` one second in."""
    scene = make_scene(seed, width, height, 20.0, seconds, throws=0, distractors=distractors)
    scene.floors = max(scene.floors, floor + 4)
    scene.throws = [Throw(floor=floor, column=scene.columns // 2, t=1.0, size_px=8, color=(20, 20, 25),
                          velocity=(0.3, 0.2, 0.1), terminal_v=40.0)]
    return scene
