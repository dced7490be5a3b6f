"""Background model and tracker on synthetic frames: shake and exposure jumps are not motion, objects are."""

from __future__ import annotations

import cv2
import numpy as np

from tests.vision.helpers import gate_distance, random_gates
from vision.blobs import Blobs, extract
from vision.motion import MotionModel, mask_image
from vision.tracker import FAST_MAX, START_GATE, Tracker, _greedy, fast_triples


def facade(h: int = 240, w: int = 320) -> np.ndarray:
    """A wall with dark windows: strong edges everywhere, the worst case for a shaking camera."""
    img = np.full((h, w), 170, np.uint8)
    for y in range(10, h - 20, 24):
        for x in range(10, w - 20, 30):
            img[y:y + 14, x:x + 16] = 60
    return img


def settle(model: MotionModel, img: np.ndarray, n: int = 5) -> None:
    for _ in range(n):
        model.apply(img)


def test_one_pixel_shake_is_not_motion_but_a_small_object_is() -> None:
    base = facade()
    model = MotionModel()
    settle(model, base)
    shaken = np.ascontiguousarray(np.roll(base, 1, axis=1))
    fg = model.apply(shaken)
    assert fg is not None
    assert cv2.countNonZero(fg) == 0
    obj = base.copy()
    cv2.circle(obj, (100, 40), 2, 20, -1)
    fg = model.apply(obj)
    assert fg is not None
    blobs = extract(fg, max_area=400)
    assert len(blobs) == 1
    assert np.allclose(blobs.xy[0], (100, 40), atol=1.0)


def test_exposure_jump_reseeds_instead_of_lighting_up_the_frame() -> None:
    base = facade()
    model = MotionModel()
    settle(model, base)
    brighter = np.asarray(cv2.convertScaleAbs(base, alpha=1.3), dtype=np.uint8)
    assert model.apply(brighter) is None
    assert model.global_changes == 1
    fg = model.apply(brighter)
    assert fg is not None
    assert cv2.countNonZero(fg) == 0


def test_masked_area_is_ignored() -> None:
    base = facade()
    allowed = mask_image(base.shape, [[(0, 0), (160, 0), (160, 240), (0, 240)]], scale=1)
    model = MotionModel(allowed=allowed)
    settle(model, base)
    frame = base.copy()
    cv2.circle(frame, (80, 100), 3, 0, -1)  # inside the mask
    cv2.circle(frame, (240, 100), 3, 0, -1)  # outside
    fg = model.apply(frame)
    assert fg is not None
    blobs = extract(fg, max_area=400)
    assert len(blobs) == 1
    assert blobs.xy[0][0] > 160


def test_light_switched_on_fades_into_the_background() -> None:
    base = facade()
    model = MotionModel()
    settle(model, base)
    lit = base.copy()
    lit[34:48, 40:56] = 240  # one window lights up
    counts = []
    for _ in range(300):  # ~15 s at 20 fps: foreground pixels learn slowly, so objects leave no ghost
        fg = model.apply(lit)
        assert fg is not None
        counts.append(cv2.countNonZero(fg))
    assert counts[0] > 100
    assert counts[-1] == 0


def test_tracker_follows_an_accelerating_object_and_ignores_scattered_blobs() -> None:
    rng = np.random.default_rng(3)
    tracker = Tracker()
    ended = []
    for f in range(30):
        y = 20 + 0.4 * f * f  # accelerating down
        noise = rng.uniform(0, 600, (25, 2))  # rain: new random places every frame
        xy = np.vstack([[[300.0 + 0.2 * f, y]], noise])
        ended += tracker.step(f, f / 20, Blobs(xy, np.full(len(xy), 4, np.int64)))
    ended += tracker.flush()
    long_tracks = [tr for tr in ended if len(tr) >= 6]
    assert len(long_tracks) == 1
    assert len(long_tracks[0]) == 30


def _greedy_reference(preds: np.ndarray, xy: np.ndarray) -> list[tuple[int, int]]:
    """Plain best-first matching over every pair inside its elliptical gate, the definition the fast version
    must keep."""
    pairs = sorted((gate_distance(p, b), i, j) for i, p in enumerate(preds) for j, b in enumerate(xy)
                   if gate_distance(p, b) <= 1.0 + 1e-9)
    taken: set[int] = set()
    used: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in taken and j not in used:
            taken.add(i)
            used.add(j)
            out.append((i, j))
    return out


def test_association_matches_the_plain_best_first_definition() -> None:
    """Blob centres sit on a half-pixel grid, so exact ties and blobs exactly on a gate's edge are common: the
    screened, vectorised matching must pick the same pairs in the same order as the plain definition."""
    rng = np.random.default_rng(11)
    for _ in range(200):
        preds, xy = random_gates(rng, 30, 60, 80)
        used = np.zeros(len(xy), dtype=bool)
        got = [tuple(p) for p in _greedy(preds, xy, used).tolist()]
        assert got == _greedy_reference(preds, xy)
        assert sorted(np.flatnonzero(used).tolist()) == sorted(j for _, j in got)


def test_a_small_fast_object_is_kept_along_its_path_and_a_blob_beside_it_is_not_taken() -> None:
    """At a low frame rate a falling object moves tens of pixels between frames: the gate stretches along the
    path, not across it."""
    tracker = Tracker()
    tracker.accel = 6.0  # what the detector sets from the camera: gravity in px per frame^2 at this distance
    ended = []
    for f in range(14):
        y = 20.0 + 0.5 * 6.0 * f * f  # 6 px/frame^2: 78 px per frame by the end
        xy = [[100.0, y]]
        if f == 12:
            xy.append([100.0 + 40.0, y])  # something beside the path, just as far as a step down
        ended += tracker.step(f, f / 10.0, Blobs(np.asarray(xy), np.full(len(xy), 9, np.int64)))
    ended += tracker.flush()
    longest = max(ended, key=len)
    assert len(longest) == 14
    assert all(x == 100.0 for x in longest.xs)


def test_a_big_tumbling_object_stays_one_track_while_its_blob_centre_wanders() -> None:
    """A 30 px object's blob centre moves over its body as it tumbles (here up to 8 px to either side of its
    path, 4 turns a second at 20 fps): the gate holds a body's width, so the fall stays one track; the same
    swings of 4 px blobs are not one small object.
    """
    def longest(side: int) -> int:
        tracker = Tracker()
        tracker.accel = 0.5
        ended = []
        for f in range(20):
            xy = np.array([[200.0 + 8.0 * np.sin(2 * np.pi * f / 5), 40.0 + 0.25 * f * f]])
            ended += tracker.step(f, f / 20.0, Blobs(xy, np.full(1, side * side, np.int64)))
        return max(len(t) for t in ended + tracker.flush())

    assert longest(30) == 20
    assert longest(4) < 20


def _fall_seen_late(step0: float, accel: float, frames: int, x_drift: float = 0.6) -> list[tuple[float, float]]:
    """Positions of a fall first seen already moving ``step0`` px per frame down, gaining ``accel`` per frame."""
    return [(300.0 + x_drift * step0 * f, 50.0 + step0 * f + 0.5 * accel * f * f) for f in range(frames)]


def test_a_fall_first_seen_moving_faster_than_the_start_gate_becomes_one_track() -> None:
    """A fall first seen late (hidden near its window, a low frame rate) already moves more per frame than a
    track starts on from two sightings; three sightings in a row along one gaining step start it, among blobs
    scattered anew every frame (rain, noise) that make no such chain."""
    rng = np.random.default_rng(5)
    path = _fall_seen_late(step0=12.0, accel=1.5, frames=16)
    assert np.hypot(path[1][0] - path[0][0], path[1][1] - path[0][1] - 1.0) > START_GATE  # no start from two
    tracker = Tracker()
    tracker.accel = 2.0
    ended = []
    for f, (x, y) in enumerate(path):
        noise = rng.uniform(0, 640, (40, 2))
        xy = np.vstack([[[x, y]], noise])
        ended += tracker.step(f, f / 10.0, Blobs(xy, np.full(len(xy), 9, np.int64)))
    ended += tracker.flush()
    longest = max(ended, key=len)
    assert len(longest) == 16
    assert longest.xs == [x for x, _ in path]
    assert sum(len(t) >= 6 for t in ended) == 1  # the noise made no other track of any length


def test_three_sightings_start_only_a_fast_downward_step_that_gravity_explains() -> None:
    """The rule of ``fast_triples`` point by point: beyond the two-sighting gate, downwards within the cone,
    within the fastest step, and the step before it the same less what gravity added."""
    def one(first: tuple[float, float], second: tuple[float, float], third: tuple[float, float],
            areas: tuple[int, int, int] = (9, 9, 9)) -> bool:
        boxes = (np.array([areas[0]]), np.array([areas[1]]), np.array([areas[2]]))
        rows, held = fast_triples(np.array([first]), np.array([second]), np.array([third]), 2.0, boxes)
        assert len(rows) == len(held)
        return len(rows) == 1

    assert one((100, 100), (104, 112), (108, 125))  # 12 px then 13 px down, gravity's 1 px more
    assert not one((100, 100), (101, 104), (102, 108))  # slow: a start from two sightings takes it
    assert not one((100, 125), (104, 112), (108, 100))  # up
    assert not one((100, 100), (130, 110), (160, 120))  # sideways far more than down
    assert not one((100, 100), (100, 100 + FAST_MAX + 5), (100, 100 + 2 * FAST_MAX + 12))  # too fast
    assert not one((100, 100), (104, 112), (108, 136))  # gained 12 px in a frame: not gravity's 2
    assert not one((100, 100), (104, 112), (120, 125))  # turned aside
    step = ((100, 100), (104, 112), (108, 125))
    for areas in ((4, 10, 10), (10, 4, 10), (10, 10, 4)):
        assert one(*step, areas=areas), areas  # 2.5 times: still one object
    for areas in ((3, 10, 10), (10, 3, 10), (10, 10, 3), (30, 10, 10), (10, 30, 10), (10, 10, 30)):
        assert not one(*step, areas=areas), areas  # a box more than FAST_SIZE times another: not one object


def test_three_sightings_take_each_blob_once_and_count_the_first_sightings_in_the_gate() -> None:
    first = np.array([[100.0, 100.0], [101.0, 100.5], [300.0, 100.0]])
    second = np.array([[104.0, 112.0], [304.0, 112.0]])
    third = np.array([[108.0, 125.0], [308.0, 125.0]])
    rows, held = fast_triples(first, second, third, 2.0, (np.full(3, 9), np.full(2, 9), np.full(2, 9)))
    assert sorted(map(tuple, rows.tolist())) == [(0, 0, 0), (2, 1, 1)]  # the closer first sighting, not both
    by_second = {int(b): int(n) for (_, b, _), n in zip(rows.tolist(), held.tolist(), strict=True)}
    assert by_second == {0: 2, 1: 1}  # two first sightings fitted the left chain: it was picked among two


def test_a_track_begun_from_three_fast_sightings_does_not_steal_a_blob_from_a_start_of_two() -> None:
    """Until it is confirmed, a track begun from three fast sightings (maybe a chance chain in rain) takes only
    what the other tracks and the starts from two sightings left: here its next step lands exactly on an object
    just appeared, which starts its own track instead."""
    tracker = Tracker()
    tracker.accel = 2.0
    chain = [(300.0, 50.0), (306.0, 62.0), (312.0, 75.0)]  # 12 then 13 px down: a fast start
    steps = [[chain[0]], [chain[1]], [chain[2], (318.0, 88.0)], [(318.0, 89.0)], [], [], [], [], []]
    ended = []
    for f, xy in enumerate(steps):
        arr = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        ended += tracker.step(f, f / 10.0, Blobs(arr, np.full(len(arr), 9, np.int64)))
    ended += tracker.flush()
    by_first = {(tr.xs[0], tr.ys[0]): tr for tr in ended}
    assert by_first[(300.0, 50.0)].frames == [0, 1, 2]  # the chain got nothing more
    assert by_first[(318.0, 88.0)].frames == [2, 3]  # the object appeared at frame 2 kept its blob
