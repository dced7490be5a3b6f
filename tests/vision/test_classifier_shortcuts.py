"""The classifier's shortcuts give the outcomes of the plain definitions they replace (the speed work of the
littering detector must not change a decision): the early span check, the descent search, the stray test's fits,
the frame clock's period, and the fragment joiner's seen span and shared curve-following.
"""

from __future__ import annotations

import numpy as np
import pytest

import vision.classifier as classifier_module
from simulators.camera.geometry import FacadeCamera
from vision.camera_config import CameraConfig
from vision.classifier import classify
from vision.detector import PIECE_REASONS
from vision.fragments import FragmentJoiner
from vision.frame_clock import FrameClock
from vision.track_shape import _extrapolation_miss, falling_span, follow, follow_track
from vision.tracker import Track

FPS = 20.0
CAM = FacadeCamera.framing(1280, 720, distance=40.0, building_height=60.0)
CALIBRATED = CameraConfig(id="c", fps=FPS, floor_lines=[CAM.row_of_height(3.0 * i) for i in range(21)])
UNCALIBRATED = CameraConfig(id="u", fps=FPS)


def _random_tracks(rng: np.random.Generator, count: int) -> list[Track]:
    """Tracks of the kinds the detector ends by the hundred: short drops, jitter, hovers, falls with strays and
    gaps, on the half-pixel grid of blob centres.
    """
    tracks = []
    for _ in range(count):
        n = int(rng.integers(8, 40))
        t = np.arange(n) / FPS
        kind = rng.integers(0, 4)
        if kind == 3:  # a drop from a window of the calibrated facade, in processing px at half scale
            h = rng.uniform(30, 55) - 0.5 * 9.81 * t * t
            y = np.array([CAM.row_of_height(float(v)) for v in h]) / 2 + rng.normal(0, 0.4, n)
        elif kind == 0:  # jitter around a point, now and then a slow sink
            y = 300 + rng.normal(0, 1.5, n).cumsum() * rng.uniform(0, 1) + rng.uniform(0, 30) * t
        elif kind == 1:  # a fall from rest, some of it seen
            y = rng.uniform(50, 400) + 0.5 * rng.uniform(50, 600) * t * t + rng.normal(0, 0.7, n)
        else:  # a short drop, then a rest
            y = 200 + np.minimum(t, rng.uniform(0.1, 1.0)) * rng.uniform(10, 120) + rng.normal(0, 0.7, n)
        x = 320 + rng.normal(0, 1.0, n).cumsum()
        strays = rng.random(n) < 0.08
        y[strays] += rng.normal(0, 25, int(strays.sum()))
        frames = np.cumsum(1 + (rng.random(n) < 0.15) * rng.integers(1, 3, n)) - 1
        tr = Track(1)
        for k in range(n):
            tr.add(int(frames[k]), float(frames[k] / FPS), round(float(x[k]) * 2) / 2, round(float(y[k]) * 2) / 2,
                   9)
        tracks.append(tr)
    return tracks


@pytest.mark.parametrize("cfg", [UNCALIBRATED, CALIBRATED], ids=["uncalibrated", "calibrated"])
def test_the_early_span_check_gives_the_verdict_of_the_full_path(cfg: CameraConfig,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tracks = _random_tracks(np.random.default_rng(14), 100)
    fast = [classify(tr, cfg, 2, 720, image_width=1280) for tr in tracks]
    monkeypatch.setattr(classifier_module, "_too_short", lambda *args: None)
    full = [classify(tr, cfg, 2, 720, image_width=1280) for tr in tracks]
    early = "too_few_floors" if cfg.calibrated else "short_span"
    shortcuts = 0
    for a, b in zip(fast, full, strict=True):
        assert a.falling == b.falling
        if a.falling:
            assert a == b
        elif a.reason != b.reason:
            # named by the span before its density: both reasons send the track to the fragment joiner alike
            assert (a.reason, b.reason) == (early, "sparse")
            assert b.reason in PIECE_REASONS
        shortcuts += not a.points and a.reason == early
    assert shortcuts >= 5  # the shortcut was taken, not only the full path compared with itself
    assert sum(v.falling for v in fast) >= 3  # and falls: their verdicts are compared whole


def _falling_span_plain(y: np.ndarray, tolerance: float, frames: np.ndarray | None,
                        min_fill: float) -> tuple[int, int]:
    """The definition, element by element on the array."""
    best, best_key = (0, 0), (False, -np.inf)
    start, low = 0, y[0]
    for i in range(1, len(y) + 1):
        if i == len(y) or y[i] < low - tolerance:
            descent = float(y[i - 1] - y[start])
            dense = frames is None or (i - start) / max(float(frames[i - 1] - frames[start] + 1),
                                                        float(i - start)) >= min_fill
            if i - start >= 2 and (dense, descent) > best_key:
                best, best_key = (start, i), (dense, descent)
            if i < len(y):
                start, low = i, y[i]
        else:
            low = max(low, y[i])
    return best


def test_falling_span_matches_the_plain_definition() -> None:
    """On arrays and on a track's own lists (what the fragment joiner hands over without making arrays)."""
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 60))
        y = np.round(rng.normal(0, 3, n).cumsum() + rng.uniform(0, 4) * np.arange(n), 1)
        frames = np.cumsum(rng.integers(1, 4, n))
        for f, fill in ((None, 0.0), (frames, 0.7)):
            assert falling_span(y, 3.0, f, fill) == _falling_span_plain(y, 3.0, f, fill)
        assert falling_span(y.tolist(), 3.0, frames.tolist(), 0.7) == falling_span(y, 3.0, frames, 0.7)


def test_the_stray_test_fits_are_the_weighted_least_squares_curves() -> None:
    """A parabola in y and a line in x through each target's history, evaluated at the target's frame."""
    rng = np.random.default_rng(5)
    n = 40
    frames = np.cumsum(rng.integers(1, 3, n))
    y = np.round(rng.uniform(0, 500) + 0.3 * frames**2 + rng.normal(0, 2, n)) / 2
    x = np.round(600 + rng.normal(0, 2, n).cumsum()) / 2
    targets = np.arange(3, n)
    hist_pos = targets[:, None] + np.arange(-8, 0)[None, :]
    ok = hist_pos >= 0
    hist = np.maximum(hist_pos, 0)
    miss = _extrapolation_miss(frames, x, y, hist, ok, targets)
    for k, tgt in enumerate(targets):
        h = hist[k][ok[k]]
        dt = (frames[h] - frames[tgt]).astype(np.float64)
        py = np.polynomial.polynomial.polyfit(dt, y[h], 2)[0]
        px = np.polynomial.polynomial.polyfit(dt, x[h], 1)[0]
        assert miss[k] == pytest.approx(np.hypot(y[tgt] - py, x[tgt] - px), rel=1e-9, abs=1e-9)


def test_the_frame_clock_period_is_the_mean_interval_without_lost_frame_gaps() -> None:
    rng = np.random.default_rng(8)
    clock = FrameClock()
    t, intervals = 0.0, list[float]()
    for i in range(80):
        img = rng.integers(0, 255, (40, 60), dtype=np.uint8)
        if i:
            last = t
            t += float(rng.choice([1 / 30, 2 / 30, 5 / 30], p=[0.5, 0.4, 0.1]))  # 5/30: frames lost
            intervals = [*intervals, t - last][-32:]
        clock.advance(img, i, t)
        if len(intervals) < 4:
            assert clock.period is None
        else:
            iv = np.asarray(intervals)
            assert clock.period == pytest.approx(float(iv[iv <= 2.5 * np.median(iv)].mean()), rel=1e-12)


def test_the_seen_span_is_that_of_the_seen_frames() -> None:
    rng = np.random.default_rng(6)
    for _ in range(2000):
        n = int(rng.integers(1, 30))
        tr = Track(1, frames=sorted(rng.choice(100, n, replace=False).tolist()))
        tr.hidden = [(int(rng.integers(-5, 100)), int(rng.integers(1, 10))) for _ in range(int(rng.integers(0, 4)))]
        seen = tr.seen_frames()
        assert tr.seen_span() == seen[-1] - seen[0] + 1


def test_following_a_track_is_computed_once_and_is_follow_itself() -> None:
    tracks = _random_tracks(np.random.default_rng(9), 40)
    for tr in tracks:
        b = len(tr)
        plain = follow(np.asarray(tr.frames), np.asarray(tr.xs), np.asarray(tr.ys), 10.0)
        first = follow_track(tr, 0, b, 10.0)
        assert first.tolist() == plain.tolist()
        assert follow_track(tr, 0, b, 10.0) is first  # the second asker gets the answer kept
        tail = follow(np.asarray(tr.frames[2:]), np.asarray(tr.xs[2:]), np.asarray(tr.ys[2:]), 10.0)
        assert follow_track(tr, 2, b, 10.0).tolist() == tail.tolist()


def _piece_plain(track: Track, min_fill: float, min_points: int, stray_px: float) -> list[int] | None:
    """The frames of the piece the joiner keeps of a track, written out: the descent, its followed curve when
    long enough to have run on after its object, and nothing for a track that never went down.
    """
    if len(track) < 3 or max(track.ys) - track.ys[0] <= 3.0:
        return None
    frames, ys = np.asarray(track.frames), np.asarray(track.ys)
    a, b = falling_span(ys, 3.0, frames, min_fill)
    idx = np.arange(a, b)
    if b - a >= min_points:
        idx = a + follow(frames[a:b], np.asarray(track.xs[a:b]), ys[a:b], stray_px)
    if len(idx) >= 3 and ys[idx[-1]] > ys[idx[0]]:
        return [track.frames[i] for i in idx.tolist()]
    return None


def test_the_joiner_keeps_and_joins_as_its_plain_definition_does() -> None:
    """Pieces kept and joins offered, against the rules written out: the descent (or its followed curve) of
    every track that went down, and joins within the gap that are seen often enough.
    """
    tracks = _random_tracks(np.random.default_rng(12), 200)
    for k, tr in enumerate(tracks):  # a stream of tracks, each starting where some earlier one might continue
        tr.id = k
        tr.frames = [f + 3 * k for f in tr.frames]
        tr.times = [f / FPS for f in tr.frames]
    joiner = FragmentJoiner()
    p = joiner.classifier
    offered = kept = 0
    for tr in tracks:
        for piece, whole in joiner.joins(tr):
            offered += 1
            end = sum(f < tr.frames[0] for f in piece.frames)
            assert -joiner.max_overlap_frames <= tr.frames[0] - piece.frames[-1] <= joiner.max_gap_frames
            assert whole.frames == piece.frames[:end] + tr.frames
            seen = whole.seen_frames()
            assert len(whole) / (seen[-1] - seen[0] + 1) >= p.min_fill
        before = [piece.id for piece in joiner.pieces]
        expected = _piece_plain(tr, p.min_fill, p.min_points, p.max_stray_px)
        joiner.keep(tr)
        if expected is None:
            assert [piece.id for piece in joiner.pieces] == before
        else:
            kept += 1
            assert joiner.pieces[-1].id == tr.id
            assert joiner.pieces[-1].frames == expected
    assert offered > 0
    assert kept > 0
