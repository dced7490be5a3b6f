"""Face tracks on synthetic frames and boxes: association, ends, best frames by size and sharpness."""

from __future__ import annotations

import cv2
import numpy as np

from vision.faces.detector import Faces
from vision.faces.tracking import FaceTracker, TrackParams, quality, sharpness


def _faces(*boxes: tuple[float, float, float, float], score: float = 0.9) -> Faces:
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    return Faces(b, np.full(len(b), score, np.float32), np.zeros((len(b), 6, 2), np.float32))


def _textured(h: int = 720, w: int = 1280, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_two_walkers_stay_two_tracks_and_end_once() -> None:
    tracker = FaceTracker(TrackParams(max_missed=2, min_hits=3))
    frame = _textured()
    ended = []
    for i in range(10):
        ended += tracker.update(i, i / 10, frame, _faces((100 + 5 * i, 100, 180 + 5 * i, 180),
                                                         (900 - 5 * i, 300, 1000 - 5 * i, 400)))
    assert ended == []
    for i in range(10, 14):
        ended += tracker.update(i, i / 10, frame, _faces())
    assert len(ended) == 2
    assert sorted(t.hits for t in ended) == [10, 10]
    left = min(ended, key=lambda t: t.start[0])
    assert left.start[0] < left.end[0]  # moved right
    assert tracker.tracks == []


def test_a_blip_is_not_a_track() -> None:
    tracker = FaceTracker(TrackParams(max_missed=1, min_hits=3))
    frame = _textured()
    tracker.update(0, 0.0, frame, _faces((10, 10, 80, 80)))
    ended = tracker.update(1, 0.1, frame, _faces()) + tracker.update(2, 0.2, frame, _faces())
    assert ended == []
    assert tracker.flush() == []


def test_best_frames_prefer_big_and_sharp_and_keep_only_k() -> None:
    tracker = FaceTracker(TrackParams(best_k=2, min_hits=1, min_side_px=30))
    sharp = _textured(seed=1)
    blurred = np.asarray(cv2.GaussianBlur(sharp, (0, 0), 4), np.uint8)
    tracker.update(0, 0.0, blurred, _faces((100, 100, 220, 220)))  # big but blurred
    tracker.update(1, 0.1, sharp, _faces((100, 100, 200, 200)))  # sharp and nearly as big
    tracker.update(2, 0.2, sharp, _faces((100, 100, 150, 150)))  # sharp but small
    tracker.update(3, 0.3, sharp, _faces((100, 100, 128, 128)))  # below min_side_px: never kept
    [track] = tracker.flush()
    assert [c.frame for c in track.best] == [1, 2]
    assert all(c.crop.shape[0] > 40 for c in track.best)
    box = track.best[0].box
    assert box[0] > 0  # the box sits inside its crop, with margin for alignment
    assert box[1] > 0
    track.drop_crops()
    assert track.best == []


def test_sharpness_and_quality_order() -> None:
    sharp = _textured(100, 100, seed=2)[:, :, 0]
    soft = np.asarray(cv2.GaussianBlur(sharp, (0, 0), 3), np.uint8)
    assert sharpness(sharp) > 10 * sharpness(soft)
    assert quality(100, 400, 0.9) > quality(50, 400, 0.9)
    assert sharpness(np.zeros((0, 0), np.uint8)) == 0.0
