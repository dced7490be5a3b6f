"""Is a track a falling object? Kinematics under perspective, then the release point.

With floor calibration each row maps to a height on the facade, and a falling object's height must follow
h(t) = h0 + v0 t - a t^2 / 2 with a close to g (less with drag). Without calibration only image-space kinematics are
left: monotonic descent, growing downward speed, little sideways motion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from vision.camera_config import CameraConfig
from vision.floors import height_to_floor, height_to_row, row_to_height, x_to_column
from vision.track_shape import core_fill, falling_span, follow, roughness
from vision.tracker import Track

G = 9.81


@dataclass(frozen=True)
class ClassifierParams:
    min_points: int = 8
    min_fill: float = 0.7  # detections per frame spanned: rain and noise make sparse, jumpy tracks
    min_core_fill: float = 0.5  # ...and over the core of the descent, without a hover before or a rest after
    min_lower_half: int = 3  # detections in the lower half of the descent
    min_score: float = 0.78  # below this, short and ragged tracks (chains of rain streaks) that pass the physics
    release_fit_points: int = 12  # early points used to extrapolate back to the release (drag still negligible)
    min_monotonic: float = 0.85  # share of steps that do not go up by more than a pixel
    max_lateral: float = 0.3  # |dx| / dy over the track...
    max_sideways_mps: float = 6.0  # ...or, with calibration, sideways speed: a toss drifts, a bird flies
    max_wobble_px: float = 4.0  # median sideways deviation from a straight line (full-resolution px)
    min_accel_g: float = 0.3  # fitted acceleration as a share of g (drag lowers it)
    max_accel_g: float = 1.6
    min_floors: float = 2.0  # floors crossed
    min_span_uncal: float = 0.06  # share of the image height crossed, without calibration
    max_release_lookback_s: float = 3.0  # a fall first seen late (dark object on dark windows) is traced back
    max_stall_share: float = 0.2  # of the steps where the fit predicts a clear drop, share where the track stood still
    max_push_mps: float = 1.0  # downward speed an object may have when it leaves a hover (a hand's push)
    max_roughness_px: float = 6.0  # processing px: 90th percentile of each point's miss from its neighbours' parabola
    max_stray_px: float = 10.0  # processing px (x sqrt of a gap in frames): further from the curve, a point is stray


@dataclass(frozen=True)
class Verdict:
    falling: bool
    reason: str
    score: float = 0.0
    origin: tuple[float, float] = (0.0, 0.0)  # full-resolution px
    floor: int | None = None
    column: int | None = None
    points: tuple[int, ...] = ()  # indices of the track's points the verdict is about (the fall, strays left out)


def classify(track: Track, cfg: CameraConfig, scale: int, image_height: int,
             params: ClassifierParams | None = None) -> Verdict:
    """Decide on one finished track; coordinates are scaled to full resolution first."""
    p = params or ClassifierParams()
    n = len(track)
    if n < p.min_points:
        return Verdict(False, "short")
    frames = np.asarray(track.frames)
    xs, ys = np.asarray(track.xs), np.asarray(track.ys)
    a, b = falling_span(ys, 3.0, frames, p.min_fill)
    if b - a < p.min_points:
        return Verdict(False, "not_descending")
    idx = np.arange(a, b)
    # the tracker may have taken a stray blob here and there, or run on after the object (landed, hidden) onto
    # others; follow the object's own curve, unless that leaves too little (a track that began on something else)
    kept = idx[follow(frames[a:b], xs[a:b], ys[a:b], p.max_stray_px)]
    if len(kept) >= p.min_points:
        idx = kept
    if len(idx) / (frames[idx[-1]] - frames[idx[0]] + 1) < p.min_fill:
        return Verdict(False, "sparse")
    times = np.asarray(track.times)
    t = times[idx] - times[idx[0]]
    x = xs[idx] * scale
    y = ys[idx] * scale
    descent = float(y[-1] - y[0])
    if descent <= 0:
        return Verdict(False, "not_descending")
    if core_fill(frames[idx], y) < p.min_core_fill:
        return Verdict(False, "sparse")
    still = int(np.flatnonzero(np.abs(y - y[0]) <= 3.0 * scale)[-1]) + 1  # points before it leaves its start
    if still >= 4 and len(y) - still < p.min_points:
        return Verdict(False, "mostly_static")  # a lit window or a ghost whose track took a few stray blobs
    dy = np.diff(y)
    if int(np.count_nonzero(y >= y[0] + descent / 2)) < p.min_lower_half:
        # the lower half of a real fall is seen frame after frame; a still track that grabbed a stray blob or two
        # on its way out (a tree top, a lit window) jumps down it in one or two steps
        return Verdict(False, "jump")
    monotonic = float(np.mean(dy >= -1.0 * scale))
    if monotonic < p.min_monotonic:
        return Verdict(False, "not_monotonic")
    if t[-1] <= 0:
        return Verdict(False, "no_time")
    lateral = abs(float(x[-1] - x[0])) / descent
    if lateral > p.max_lateral and not _slow_sideways(cfg, t, x, y, p.max_sideways_mps):
        return Verdict(False, "lateral")
    # a falling object drifts sideways smoothly (a curve under perspective); chains of rain streaks or leaves zigzag
    wobble = float(np.median(np.abs(x - np.polyval(np.polyfit(t, x, 2), t))))
    if wobble > p.max_wobble_px + 0.01 * descent:
        return Verdict(False, "wobble")
    if cfg.calibrated:
        head = _unrelated_head(t, row_to_height(cfg, y), 3.0 * scale * _m_per_px(cfg, float(y[0])))
        if head and len(idx) - head >= p.min_points:
            idx = idx[head:]
            t, x, y = t[head:] - t[head], x[head:], y[head:]
        verdict = _calibrated(cfg, t, x, y, monotonic, lateral, scale, p)
    else:
        verdict = _uncalibrated(cfg, t, x, y, image_height, monotonic, lateral, p)
    if verdict.falling and verdict.score < p.min_score:
        return Verdict(False, "low_score")
    if verdict.falling and max(roughness(t, x / scale), roughness(t, y / scale)) > p.max_roughness_px:
        # an object's path is smooth from frame to frame, down and across, even where drag bends it; a chain of
        # rain streaks or of blobs from different things lurches back and forth around any curve through it
        return Verdict(False, "rough")
    return replace(verdict, points=tuple(idx.tolist()))


def _hovers(y: np.ndarray, tol: float, first: int) -> Iterator[tuple[int, int]]:
    """(s, e) for every start s from ``first``: e is the last point of the hover that starts at s, the longest run
    of points from s that stays within ``tol`` px (e == s when the next point already leaves)."""
    for s in range(first, len(y) - 2):
        rest = y[s:]
        span = np.maximum.accumulate(rest) - np.minimum.accumulate(rest)
        yield s, s + int(np.count_nonzero(span <= tol)) - 1


def _pauses(cfg: CameraConfig, t: np.ndarray, y: np.ndarray, h: np.ndarray, tol: float, min_accel: float) -> bool:
    """Whether the track hovers within ``tol`` px for longer than a fall allows and then goes lower still.

    Having dropped dh metres before the hover (from rest at the least), a fall at ``min_accel`` (m/s^2) or more
    moves at least sqrt(2 a dh) m/s; over a hover of T seconds it must drop v T + a T^2 / 2. A hover at the
    release (a toss's apex) needs no speed and passes; an object resting at the end has landed. A tree top or a
    lit window whose track took stray blobs across gaps hovers midway.
    """
    for s, e in _hovers(y, tol, first=1):
        if e - s < 2 or e + 1 >= len(y) or float(y[e + 1:].max()) <= float(y[s:e + 1].max()) + tol:
            continue
        dur = float(t[e] - t[s])
        # the drop so far from the second-highest earlier point: one stray first detection must not count as a drop
        top = float(np.sort(h[:s])[-2]) if s >= 2 else float(h[s])
        v = np.sqrt(2.0 * min_accel * max(0.0, top - float(h[s])))
        need_m = v * dur + 0.5 * min_accel * dur * dur
        if need_m > 2.0 * tol * _m_per_px(cfg, float(y[s])):
            return True
    return False


def _drops_too_fast(cfg: CameraConfig, t: np.ndarray, y: np.ndarray, h: np.ndarray, tol: float,
                    max_accel: float, max_push_mps: float) -> bool:
    """Whether the track, after hovering within ``tol`` px, drops faster than an object leaving that hover can.

    Staying within tol_m metres for T seconds, an object ends the hover at 2 tol_m / T m/s at most (plus a hand's
    push); from there it gains at most v t + max_accel t^2 / 2 of drop in t seconds. A tree top or a window whose
    track jumps onto blobs further down drops metres in a few frames. Two points must break the bound, so one
    noisy detection does not.
    """
    for s, e in _hovers(y, tol, first=0):
        if e - s < 4 or e + 1 >= len(y):  # five points at least: a detection repeated once is no hover
            continue
        tol_m = tol * _m_per_px(cfg, float(y[e]))
        v = max_push_mps + 2.0 * tol_m / float(t[e] - t[s])
        dt = t[e + 1:] - t[e]
        drop = float(np.mean(h[s:e + 1])) - h[e + 1:]  # from the hover's mean height: its last point may be noisy
        if np.count_nonzero(drop > v * dt + 0.5 * max_accel * dt * dt + 2.0 * tol_m) >= 2:
            return True
    return False


def _stall_share(cfg: CameraConfig, t: np.ndarray, y: np.ndarray, h: np.ndarray, fit: np.ndarray,
                 noise_px: float) -> tuple[int, float]:
    """(stalls, share): steps where the fitted fall drops clearly more than the detection noise but the track
    moved less than a quarter of that. A fall is seen dropping frame after frame; a staircase of plateaus and
    jumps (a tree top, a window, taking stray blobs across gaps) can still fit a parabola on average."""
    hf = np.polyval(fit, t)
    pred, obs = hf[:-1] - hf[1:], h[:-1] - h[1:]
    m_per_px = np.abs(row_to_height(cfg, y[:-1] + 0.5) - row_to_height(cfg, y[:-1] - 0.5))
    clear = pred > 2.0 * noise_px * m_per_px
    stalls = int(np.count_nonzero(clear & (obs < 0.25 * pred)))
    return stalls, stalls / max(1, int(np.count_nonzero(clear)))


def _m_per_px(cfg: CameraConfig, row: float) -> float:
    """Metres of facade height per image row around ``row``."""
    return abs(float(np.diff(row_to_height(cfg, np.array([row - 5.0, row + 5.0])))[0])) / 10.0


def _unrelated_head(t: np.ndarray, h: np.ndarray, still_m: float) -> int:
    """Points at the start of a track that sat still and then "fell" faster than a drop from rest can: the track
    began on something static (a lit window, a ghost) and took over the falling object as it passed. Returns how
    many points to drop (0 when the start is a plausible release)."""
    still = np.flatnonzero(np.abs(h - h[0]) <= still_m)
    j = int(still[-1]) + 1  # first point after the last one still at the starting height
    if j < 4 or j + 2 >= len(h):
        return 0
    dt = float(t[j + 2] - t[j - 1])
    speed = float(h[j - 1] - h[j + 2]) / dt  # m/s downwards just after the still part
    return j if speed > 1.5 * G * dt + 2.0 else 0


def _slow_sideways(cfg: CameraConfig, t: np.ndarray, x: np.ndarray, y: np.ndarray, limit: float) -> bool:
    """Sideways speed within ``limit`` m/s, using the facade's vertical metres-per-pixel where the track is as the
    scale (a pixel across spans at most that, so the speed is if anything overestimated)."""
    if not cfg.calibrated:
        return False
    vx = abs(float(np.polyfit(t, x, 1)[0]))  # px/s
    return vx * _m_per_px(cfg, float(np.median(y))) <= limit


def _score(monotonic: float, lateral: float, accel_ratio: float, n: int) -> float:
    closeness = max(0.0, 1.0 - abs(accel_ratio - 0.85) / 0.85)
    length = min(1.0, n / 15)
    return round(0.35 * monotonic + 0.15 * (1 - lateral) + 0.3 * closeness + 0.2 * length, 3)


def _release_time(c1: float, c2: float, t_first: float, lookback: float) -> float:
    """Time of the highest point of the fitted parabola when it lies shortly before (or at) the first detection."""
    if c2 == 0:
        return t_first
    vertex = -c1 / (2 * c2)
    return min(t_first, max(vertex, t_first - lookback))


def _release_height(t: np.ndarray, h: np.ndarray, k: int, lookback: float) -> tuple[float, float]:
    """(time, height) of the release: the early points with g fixed give the speed at the first detection, and
    the object fell freely from rest (or from the top of a toss) before it; the first detection when that is higher.

    Fixing g instead of fitting it keeps a short, noisy start from throwing the estimate floors off.
    """
    te, he = t[:k], h[:k]
    c1, c0 = np.polyfit(te, he + 0.5 * G * te**2, 1)  # h = c0 + c1 t - g t^2 / 2
    t_top = float(np.clip(c1 / G, -lookback, 0.0))
    h_top = float(c0 + c1 * t_top - 0.5 * G * t_top**2)
    if h_top >= float(h[0]):
        return t_top, h_top
    return 0.0, float(h[0])


def _calibrated(cfg: CameraConfig, t: np.ndarray, x: np.ndarray, y: np.ndarray,
                monotonic: float, lateral: float, scale: int, p: ClassifierParams) -> Verdict:
    h = row_to_height(cfg, y)
    floors_crossed = float(h[0] - h[-1]) / cfg.floor_height_m
    if floors_crossed < p.min_floors:
        return Verdict(False, "too_few_floors")
    c2, c1, c0 = np.polyfit(t, h, 2)
    accel = -2.0 * float(c2)
    if not p.min_accel_g * G <= accel <= p.max_accel_g * G:
        return Verdict(False, "accel")  # a fixed label: reasons are counted per camera in a long-running worker
    residual = float(np.sqrt(np.mean((np.polyval([c2, c1, c0], t) - h) ** 2)))
    if residual > 0.5 * cfg.floor_height_m:
        return Verdict(False, "poor_fit")
    # centroids are good to ~1.5 processing px; both checks work in full-resolution px
    if _pauses(cfg, t, y, h, 3.0 * scale, p.min_accel_g * G):
        return Verdict(False, "pause")  # a falling object never hovers midway and then drops on
    if _drops_too_fast(cfg, t, y, h, 3.0 * scale, p.max_accel_g * G, p.max_push_mps):
        return Verdict(False, "too_fast")
    stalls, share = _stall_share(cfg, t, y, h, np.array([c2, c1, c0]), 1.5 * scale)
    if stalls >= 2 and share >= p.max_stall_share:
        return Verdict(False, "stalls")
    t_rel, h_rel = _release_height(t, h, p.release_fit_points, p.max_release_lookback_s)
    if h_rel > (len(cfg.floor_lines) - 1 + 1.0) * cfg.floor_height_m:
        return Verdict(False, "above_roof")
    k = p.release_fit_points  # sideways drift near the release, from the early points only
    ox = float(np.polyval(np.polyfit(t[:k], x[:k], 1), t_rel))
    oy = height_to_row(cfg, h_rel)
    score = _score(monotonic, lateral, accel / G, len(t))
    return Verdict(True, "falling", score, (ox, oy), height_to_floor(cfg, h_rel), x_to_column(cfg, ox))


def _uncalibrated(cfg: CameraConfig, t: np.ndarray, x: np.ndarray, y: np.ndarray, image_height: int,
                  monotonic: float, lateral: float, p: ClassifierParams) -> Verdict:
    if float(y[-1] - y[0]) < p.min_span_uncal * image_height:
        return Verdict(False, "short_span")
    c2, c1, c0 = np.polyfit(t, y, 2)
    half = len(t) // 2
    v_early = (y[half] - y[0]) / max(t[half] - t[0], 1e-6)
    v_late = (y[-1] - y[half]) / max(t[-1] - t[half], 1e-6)
    if c2 <= 0 or v_late < 1.2 * v_early:
        return Verdict(False, "not_accelerating")
    t_rel = _release_time(-float(c1), -float(c2), 0.0, p.max_release_lookback_s)
    oy = min(float(np.polyval([c2, c1, c0], t_rel)), float(y[0]))
    k = p.release_fit_points
    ox = float(np.polyval(np.polyfit(t[:k], x[:k], 1), t_rel))
    score = _score(monotonic, lateral, 0.85, len(t))
    return Verdict(True, "falling", score, (ox, oy), None, x_to_column(cfg, ox))
