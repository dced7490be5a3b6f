"""Small builders shared by the vision tests."""

from __future__ import annotations

import cv2
import numpy as np

from simulators.camera.geometry import FacadeCamera
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


def dropped(cam: FacadeCamera, floor: int, seconds: float, fps: float, x: float = 640.0, delay_frames: int = 0,
            accel: float = G) -> list[tuple[int, float, float]]:
    """(frame, x, row) of an object dropped from the middle of ``floor`` (3 m floors) through ``cam``, first seen
    ``delay_frames`` late, until it lands or ``seconds`` pass."""
    h0 = (floor - 1) * 3.0 + 1.5
    out = []
    for k in range(delay_frames, int(seconds * fps)):
        h = h0 - 0.5 * accel * (k / fps) ** 2
        if h <= 0:
            break
        out.append((k, x, cam.row_of_height(h)))
    return out


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


def gate_distance(pred: np.ndarray, blob: np.ndarray) -> float:
    """A blob's squared distance from a prediction in units of its elliptical gate (row: x, y, ux, uy, along,
    across): at most 1 inside it. The plain definition the tracker's vectorised matching is checked against."""
    dx, dy = blob[0] - pred[0], blob[1] - pred[1]
    along = (dx * pred[2] + dy * pred[3]) / pred[4]
    across = (dy * pred[2] - dx * pred[3]) / pred[5]
    return float(along * along + across * across)


def random_gates(rng: np.random.Generator, preds: int, blobs: int, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Predictions with gates of random heading and size, and blobs, all on a half-pixel grid over ``span`` / 2
    px (so ties and blobs exactly on a gate's edge are common)."""
    angle = rng.uniform(0, 2 * np.pi, preds)
    across = rng.choice([1.0, 2.5, 5.0, 9.0], preds)
    gates = np.column_stack([rng.integers(0, span, preds) / 2, rng.integers(0, span, preds) / 2, np.cos(angle),
                             np.sin(angle), across * rng.choice([1.0, 3.0], preds), across])
    xy = np.column_stack([rng.integers(0, span, blobs) / 2, rng.integers(0, span, blobs) / 2])
    return gates, xy
