"""The camera's own motion: a shifted picture is moved back onto the background; nothing else moves it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from simulators.camera.render import Renderer
from simulators.camera.scene import ground_truth, make_scene
from tests.vision.helpers import one_throw_scene
from vision.align import Aligner, moved_back
from vision.camera_config import CameraConfig
from vision.decode import decode_gray
from vision.detector import Detector
from vision.motion import MotionModel, MotionParams


def facade(h: int = 360, w: int = 640, seed: int = 3) -> np.ndarray:
    """Windows of a facade with a little sensor noise: strong edges in both directions."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w), 170, np.uint8)
    for y in range(12, h - 24, 26):
        for x in range(14, w - 24, 33):
            img[y:y + 15, x:x + 17] = 55 + int(rng.integers(0, 30))
    noise = rng.normal(0, 2, img.shape)
    return np.asarray(np.clip(img + noise, 0, 255), dtype=np.uint8)


def moved(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The picture moved by (dx, dy) px: frame(x) = img(x - d), sub-pixel by bilinear interpolation."""
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
    return np.asarray(cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REFLECT),
                      dtype=np.uint8)


@pytest.mark.parametrize(("dx", "dy"), [(1.0, 0.0), (0.0, -2.0), (2.5, 1.5), (-3.0, 4.0), (5.0, -3.0), (0.3, 0.2)])
def test_the_move_of_the_whole_picture_is_estimated_to_a_fraction_of_a_pixel(dx: float, dy: float) -> None:
    bg = facade()
    aligner = Aligner()
    aligner.refresh(bg)
    est = aligner.estimate(moved(bg, dx, dy))
    assert est is not None
    assert est == pytest.approx((dx, dy), abs=0.3)


def test_whole_pixel_moves_are_taken_and_sub_pixel_ones_left_to_the_background_range() -> None:
    bg = facade()
    aligner = Aligner()
    aligner.refresh(bg)
    assert aligner.shift(moved(bg, 3.0, -2.0), bg) == (3, -2)
    assert aligner.shift(moved(bg, 0.3, -0.2), bg) == (0, 0)
    assert aligner.shift(bg, bg) == (0, 0)


def test_neither_an_exposure_change_nor_one_moving_object_moves_the_picture() -> None:
    bg = facade()
    aligner = Aligner()
    aligner.refresh(bg)
    brighter = np.asarray(cv2.convertScaleAbs(bg, alpha=1.15, beta=6), dtype=np.uint8)
    assert aligner.shift(brighter, bg) == (0, 0)
    with_object = bg.copy()
    cv2.rectangle(with_object, (300, 150), (312, 162), 10, -1)  # a dark box where there was wall
    assert aligner.shift(with_object, bg) == (0, 0)


def test_a_picture_without_edges_cannot_show_a_move() -> None:
    flat = np.full((360, 640), 128, np.uint8)
    aligner = Aligner()
    aligner.refresh(flat)
    assert aligner.estimate(flat) is None
    assert aligner.shift(flat, flat) == (0, 0)


def test_moving_back_fills_the_uncovered_strip_with_the_background() -> None:
    bg = facade()
    frame = moved(bg, 4.0, -3.0)
    back = moved_back(frame, bg, 4, -3)
    assert np.array_equal(back[3:, :-4], frame[:-3, 4:])  # back(x) = frame(x + s)
    assert np.array_equal(back[:3, :], bg[:3, :])  # the strip the move uncovered is the background's
    assert np.array_equal(back[:, -4:], bg[:, -4:])
    assert np.abs(back.astype(int) - bg.astype(int))[8:-8, 8:-8].max() <= 12  # the noise of the two pictures


def test_a_shaken_frame_has_no_foreground_and_an_object_in_it_is_found_where_it_is_on_the_background() -> None:
    bg = facade()
    model = MotionModel()
    for _ in range(5):
        model.apply(bg)
    shaken = moved(bg, 3.0, 2.0)
    fg = model.apply(shaken)
    assert fg is not None
    assert model.shift == (3, 2)
    assert cv2.countNonZero(fg) == 0
    cv2.circle(shaken, (200, 100), 2, 5, -1)  # drawn at (200, 100) of the shaken picture
    fg = model.apply(shaken)
    assert fg is not None
    n, _, _, centroids = cv2.connectedComponentsWithStats(fg)
    assert n == 2
    assert centroids[1] == pytest.approx((197.0, 98.0), abs=1.0)  # at x - s on the background
    assert model.aligned_frames == 2


def test_half_pixel_jitter_is_left_to_the_background_range_once_the_background_has_settled() -> None:
    """720p footage whose camera jitters by a pixel, decoded at half size: half a pixel, which no whole-pixel move
    undoes. A move is taken from a whole pixel, so once the background (seeded from one end of the jitter) has
    settled at the camera's rest, frames are left as they come."""
    scene = make_scene(2, 1280, 720, 20.0, 15.0, throws=0)
    assert scene.jitter_px == 1
    model = MotionModel()
    moves = []
    for _, data in Renderer(scene).jpegs():
        model.apply(decode_gray(data, 2))
        moves.append(model.shift != (0, 0))
    assert sum(moves[100:]) == 0


def test_a_fall_seen_by_a_shaking_camera_is_found_and_nothing_else_is() -> None:
    """A camera shaking by up to 4 px every frame for 4 s, while an object falls: the fall is the one event."""
    scene = one_throw_scene(640, 360, floor=10, seconds=5.0)
    scene.distractors["shake"] = [(0.5, 4.0, 4)]
    detector = Detector(CameraConfig.model_validate({**scene.camera_json("pole"), "fps": scene.fps}))
    events = []
    for i, data in Renderer(scene).jpegs():
        events += detector.feed(decode_gray(data), i, i / scene.fps)
    events += detector.finish()
    assert detector.stats.aligned_frames > 40  # most of the 80 frames of the shake were moved back
    assert len(events) == 1
    truth = ground_truth(scene)[0]
    assert abs((events[0].floor or 0) - truth["floor"]) <= 1


def test_alignment_is_on_by_default_and_can_be_switched_off() -> None:
    """The default model moves a shaken frame back; with ``align=False`` the frame's edges light up as they came."""
    bg = facade()
    default, plain = MotionModel(), MotionModel(MotionParams(align=False))
    for _ in range(5):
        default.apply(bg)
        plain.apply(bg)
    fg = default.apply(moved(bg, 3.0, 2.0))
    assert default.shift == (3, 2)
    assert fg is not None
    assert cv2.countNonZero(fg) == 0
    fg = plain.apply(moved(bg, 3.0, 2.0))
    assert plain.shift == (0, 0)
    assert plain.aligned_frames == 0
    assert fg is None or cv2.countNonZero(fg) > 0
