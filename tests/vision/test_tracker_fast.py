"""Tracking of small fast objects: association along the predicted fall, starts at fall speed, time by ``ts``."""

from __future__ import annotations

import numpy as np

from vision.blobs import Blobs
from vision.tracker import Track, Tracker, fall_reach, predict

GRAVITY = 400.0  # px/s^2: 9.81 m/s^2 at about 40 processing px per metre
HEIGHT = 540.0  # px, the processing picture's height


def _tracker() -> Tracker:
    tracker = Tracker()
    tracker.gravity, tracker.height = GRAVITY, HEIGHT
    return tracker


def _run(tracker: Tracker, frames: list[tuple[int, float, list[list[float]]]]) -> list[Track]:
    ended: list[Track] = []
    for tick, t, xy in frames:
        arr = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        ended += tracker.step(tick, t, Blobs(arr, np.full(len(arr), 9, np.int64)))
    return ended + tracker.flush()


def test_an_object_first_seen_at_fall_speed_becomes_one_track() -> None:
    """It comes out from behind something already falling at 6 m/s: 24 px per frame at 10 fps, far beyond the
    few px a slow start may move; the nearest blob of the previous frame above it, within a fall's reach, starts
    the track, and the gravity-aware prediction keeps it.
    """
    fps, v0 = 10.0, 240.0
    frames = []
    for k in range(10):
        t = k / fps
        frames.append((k, t, [[300.0 + 3.0 * k, 50.0 + v0 * t + 0.5 * GRAVITY * t * t]]))
    ended = _run(_tracker(), frames)
    assert [len(tr) for tr in ended] == [10]
    assert ended[0].ys == [xy[0][1] for _, _, xy in frames]


def test_blobs_jumping_sideways_or_up_start_no_fast_track() -> None:
    """A fast start goes down and roughly in line: noise jumping sideways or upwards pairs with nothing."""
    frames = [(0, 0.0, [[100.0, 300.0], [400.0, 300.0]]),
              (1, 0.1, [[160.0, 310.0], [400.0, 260.0]]),  # 60 px sideways for 10 down; 40 px up
              (2, 0.2, [[220.0, 320.0], [400.0, 220.0]])]
    assert all(len(tr) < 3 for tr in _run(_tracker(), frames))


def test_a_ghost_left_at_the_window_neither_starts_nor_takes_the_fall() -> None:
    """The background still holds the object where it hung, so a blob stays at the window while the object
    falls away below it: the ghost is matched to itself (a still thing) and the fall is one track of its own.
    """
    fps = 10.0
    ghost = [200.0, 100.0]
    frames = [(k, k / fps, [ghost]) for k in range(3)]
    for k in range(3, 12):
        t = (k - 2) / fps
        frames.append((k, k / fps, [ghost, [200.0, 100.0 + 200.0 * t + 0.5 * GRAVITY * t * t]]))
    ended = _run(_tracker(), frames)
    falls = [tr for tr in ended if max(tr.ys) > 150.0]
    assert len(falls) == 1
    assert min(falls[0].ys) > 100.0  # the ghost is not part of it
    assert len(falls[0]) == 9
    assert all(y == 100.0 for tr in ended if tr is not falls[0] for y in tr.ys)


def test_tracks_are_timed_by_ts_so_uneven_frame_times_do_not_break_a_fall() -> None:
    """Footage upsampled from 20 to 30 fps: with the repeats skipped, frames of new content come 1/30 and 2/30 s
    apart. The object's positions follow its times, and the prediction follows them too.
    """
    times = [0.0]
    while len(times) < 24:
        times.append(times[-1] + (1 / 30 if len(times) % 2 else 2 / 30))
    frames = []
    for k, t in enumerate(times):
        frames.append((k, t, [[500.0, 40.0 + 150.0 * t + 0.5 * GRAVITY * t * t]]))
    ended = _run(_tracker(), frames)
    assert [len(tr) for tr in ended] == [24]
    assert ended[0].times == times


def test_gate_grows_with_the_time_since_last_seen_and_leans_towards_gravity() -> None:
    state = np.array([[100.0, 100.0, 0.0, 200.0, 0.0]])  # falling at 200 px/s, no acceleration learnt yet
    last, count = np.array([0.0]), np.array([8])
    soon = predict(state, last, count, 0.05, GRAVITY)[0]
    later = predict(state, last, count, 0.3, GRAVITY)[0]
    assert later[4] > soon[4]  # along
    assert later[5] > soon[5]  # across
    # the centre lies between "no more acceleration" (y + v dt) and free fall (+ g dt^2 / 2)
    assert 100.0 + 200.0 * 0.3 < later[1] < 100.0 + 200.0 * 0.3 + 0.5 * GRAVITY * 0.09
    learnt = predict(np.array([[100.0, 100.0, 0.0, 200.0, GRAVITY]]), last, count, 0.3, GRAVITY)[0]
    assert learnt[1] == 100.0 + 200.0 * 0.3 + 0.5 * GRAVITY * 0.09  # gravity already learnt: nothing added


def test_fall_reach_scales_with_frame_period_and_pixels_per_metre() -> None:
    slow, fast = fall_reach(GRAVITY, HEIGHT, 0.1), fall_reach(GRAVITY, HEIGHT, 0.05)
    assert slow > 2 * fast - 1.0
    assert fall_reach(2 * GRAVITY, HEIGHT, 0.1) > slow
    assert fall_reach(0.0, HEIGHT, 0.1) == 9.0  # no camera scale known: only the near gate
