"""Multi-object tracking across frames: greedy nearest-neighbour association with a kinematic prediction.

Every live track carries an alpha-beta-gamma filter state (position, velocity, acceleration); falling objects
accelerate downwards and the filter follows that. The states of all live tracks sit in one array, so predicting,
ageing and updating them are a few array operations per frame whatever the number of tracks; a ``Track`` object
only collects its detections for the classifier. Rain streaks move too far between frames to be associated and
never become tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vision.blobs import Blobs

ALPHA, BETA, GAMMA = 0.6, 0.5, 0.15  # filter gains: trust measurements (centroids are good to ~1 px)
MAX_GATE = 160.0  # px along the path: a fast object at a low frame rate moves this far; a landed one stops
MAX_ACROSS = 24.0  # px across it: a fast track must not swallow unrelated blobs beside its path
NEAR_START = 9.0  # px: a blob this near one of the previous frame may start a track in any direction
FALL_LATERAL = 0.3  # |dx| / dy of a fast start: a fall drifts sideways (outward throws, perspective) but goes down
THROW_MPS = 3.0  # m/s: the fastest downward throw a fast start allows for, on top of the fall itself
X, Y, VX, VY, AY = range(5)  # columns of the filter state


@dataclass
class Track:
    """One object's detections: frame, time in s, centroid and area in processing pixels."""

    id: int
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    areas: list[int] = field(default_factory=list)
    # frames (first, count) in which the object was hidden between two joined pieces (vision/fragments.py): they
    # are explained, so they do not count against how often the object was seen
    hidden: list[tuple[int, int]] = field(default_factory=list)

    def seen_frames(self) -> NDArray[np.int64]:
        """The frames with the hidden stretches taken out: a joined fall counts as seen frame after frame."""
        frames = np.asarray(self.frames, dtype=np.int64)
        seen = frames.copy()
        for first, count in self.hidden:
            seen -= count * (frames >= first + count)
        return seen

    def add(self, frame: int, t: float, x: float, y: float, area: int) -> None:
        """Append one detection."""
        self.frames.append(frame)
        self.times.append(t)
        self.xs.append(x)
        self.ys.append(y)
        self.areas.append(area)

    def __len__(self) -> int:
        return len(self.frames)


def _ahead(state: NDArray[np.float64], dt: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Positions x, y that filter states (M, 5) reach ``dt`` seconds on."""
    return (state[:, X] + state[:, VX] * dt,
            state[:, Y] + state[:, VY] * dt + 0.5 * state[:, AY] * dt * dt)


def predict(state: NDArray[np.float64], last: NDArray[np.float64], count: NDArray[np.int64], t: float,
            gravity: float = 0.0) -> NDArray[np.float64]:
    """(M, 6) array of predicted x, y, the unit direction of motion (ux, uy) and the gate's half-lengths along and
    across it, at time ``t`` (s), for filter states (M, 5) last updated at times ``last`` after ``count``
    detections.

    The prediction is the filter's constant-acceleration path plus what gravity (``gravity``, px/s^2 downwards)
    can add that the filter has not learnt yet: a young track's acceleration estimate lags behind a fall's. The
    gate spans from "no more acceleration than learnt" to "full gravity", centred between them, and it grows with
    the time since the track was last seen: the speed is known to a fraction and the acceleration less, so the
    uncertainty grows with ``dt`` and ``dt^2``. A fast object's position is uncertain mostly along its path (its
    direction is known well), so the gate is an ellipse stretched along the predicted displacement: a small fast
    object is kept at any speed, while blobs beside its path are not taken.
    """
    dt = np.maximum(t - last, 1e-6)
    px, py = _ahead(state, dt)
    unlearnt = 0.5 * np.maximum(gravity - state[:, AY], 0.0) * dt * dt  # how much further a free fall would be
    py = py + 0.5 * unlearnt
    vx, vy = state[:, VX] * dt, (state[:, VY] + state[:, AY] * dt) * dt + 0.5 * unlearnt
    step = np.hypot(vx, vy)  # px the object moves (in the centre of the gate) since it was last seen
    ux = np.where(step > 1e-6, vx / np.maximum(step, 1e-6), 0.0)
    uy = np.where(step > 1e-6, vy / np.maximum(step, 1e-6), 1.0)
    young = np.where(count == 2, 3.0, 0.0)
    speed_dt = np.hypot(state[:, VX], state[:, VY] + state[:, AY] * dt) * dt
    along = 6.0 + 0.4 * speed_dt + 0.5 * (np.abs(state[:, AY]) + gravity) * dt * dt + young
    across = 6.0 + 0.12 * speed_dt + 0.15 * gravity * dt * dt + young
    return np.stack([px, py, ux, uy, np.minimum(along, MAX_GATE), np.minimum(across, MAX_ACROSS)], axis=1)


def correct(state: NDArray[np.float64], dt: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Filter states (M, 5) after measuring positions ``xy`` (M, 2), ``dt`` seconds after their last update."""
    px, py = _ahead(state, dt)
    rx, ry = xy[:, 0] - px, xy[:, 1] - py
    out = np.empty_like(state)
    out[:, X] = px + ALPHA * rx
    out[:, VX] = state[:, VX] + BETA * rx / dt
    out[:, Y] = py + ALPHA * ry
    out[:, VY] = state[:, VY] + (state[:, AY] * dt + BETA * ry / dt)
    out[:, AY] = state[:, AY] + 2 * GAMMA * ry / (dt * dt)
    return out


def fall_reach(gravity: float, height: float, dt: float) -> float:
    """How far (px) a falling object can move in ``dt`` seconds anywhere in a picture ``height`` px tall, with
    gravity ``gravity`` px/s^2: dropped from the top edge it reaches sqrt(2 g H) by the bottom edge, plus a
    downward throw of up to 3 m/s (``gravity`` / 9.81 is px per m, with the detector's margin).
    """
    if gravity <= 0 or height <= 0:
        return NEAR_START
    speed = float(np.sqrt(2.0 * gravity * height)) + THROW_MPS * gravity / 9.81
    return max(NEAR_START, speed * dt + 0.5 * gravity * dt * dt)


class Tracker:
    """Keeps live tracks; ``step`` returns the tracks that ended (no detection for more than ``max_gap`` frames).

    A blob nobody claimed becomes a candidate (plain arrays, no object); a track is made only when a candidate is
    matched in the next frame: within a few px (something slow), or, for a blob that has no blob of the
    previous frame near it, its nearest candidate above it within what a fall can cover in one frame period
    (a small fast object: at 10 fps and 20 px per metre a falling object moves tens of px per frame). Rain and
    noise make dozens of blobs per frame that rarely match, so they cost few Python objects. A stationary blob
    (the "ghost" a background model leaves where an object stood, or anything still) starts no fast track.
    """

    def __init__(self, max_gap: int = 6, max_tracks: int = 600) -> None:
        self.max_gap = max_gap
        self.max_tracks = max_tracks
        self.gravity = 0.0  # px/s^2 downwards (set by the detector from the camera); 0 leaves ``accel``
        self.accel = 0.0  # or: px per frame^2 that gravity can add unseen, converted with the measured period
        self.height = 0.0  # processing px of the picture's height, for how far a fall can go between frames
        self.period = 0.0  # s between frames of new content (the detector's clock); 0: measured from the steps
        self.live: list[Track] = []
        self._state = np.zeros((0, 5))  # filter state of each live track, rows in the order of ``live``
        self._last = np.zeros(0, np.int64)  # frame (tick) of each live track's last detection
        self._last_t = np.zeros(0)  # its time in s
        self._count = np.zeros(0, np.int64)  # detections of each live track
        self._next_id = 1
        self._cand_xy = np.zeros((0, 2))
        self._cand_area = np.zeros(0, np.int64)
        self._cand_frame = -1
        self._cand_t = 0.0
        self._period = 0.0  # s per frame of new content, from the steps' times (when ``period`` is not set)

    def step(self, frame: int, t: float, blobs: Blobs) -> list[Track]:
        """Associate this frame's blobs; returns the tracks that ended."""
        if self._cand_frame >= 0 and frame > self._cand_frame and t > self._cand_t:
            per = (t - self._cand_t) / (frame - self._cand_frame)
            self._period = per if self._period <= 0 else 0.9 * self._period + 0.1 * per
        period = self.period or self._period or 0.05
        gravity = self.gravity or self.accel / (period * period)
        ended = self._age(frame)
        used = np.zeros(len(blobs), dtype=bool)
        if self.live and len(blobs):
            preds = predict(self._state, self._last_t, self._count, t, gravity)
            pairs = _greedy(preds, blobs.xy, used)
            if pairs.size:
                self._extend(pairs[:, 0], frame, t, blobs.xy[pairs[:, 1]], blobs.area[pairs[:, 1]])
        free = np.flatnonzero(~used)
        if free.size and len(self._cand_area) and frame - self._cand_frame == 1:
            k = len(self._cand_area)
            cand = np.column_stack([self._cand_xy[:, 0], self._cand_xy[:, 1] + 1.0, np.zeros(k), np.ones(k),
                                    np.full(k, NEAR_START), np.full(k, NEAR_START)])
            taken = np.zeros(free.size, dtype=bool)
            pairs = _greedy(cand, blobs.xy[free], taken)
            reach = fall_reach(gravity, self.height, t - self._cand_t)
            if reach > NEAR_START:
                left = np.setdiff1d(np.arange(k), pairs[:, 0]) if pairs.size else np.arange(k)
                fast = _fall_starts(self._cand_xy, left, blobs.xy, free, taken, reach)
                pairs = np.concatenate([pairs, fast])
            if pairs.size:
                self._start(pairs[:, 0], frame, t, free[pairs[:, 1]], blobs)
            free = free[~taken]
        self._cand_xy, self._cand_area = blobs.xy[free], blobs.area[free]
        self._cand_frame, self._cand_t = frame, t
        if len(self.live) > self.max_tracks:  # drop the shortest, oldest tracks first
            order = sorted(range(len(self.live)), key=lambda i: (self._count[i] > 2, self._last[i]), reverse=True)
            self._keep(np.asarray(order[: self.max_tracks]))
        return ended

    def flush(self) -> list[Track]:
        """End every live track (end of input, camera silent, resolution change)."""
        ended = self.live
        self._keep(np.zeros(0, np.int64))
        self._cand_xy, self._cand_area = np.zeros((0, 2)), np.zeros(0, np.int64)
        return ended

    def _age(self, frame: int) -> list[Track]:
        """Remove and return the tracks unseen for too long. An established track survives a longer gap: a dark
        object crossing dark windows blinks in and out. Counted in frames of new content: each is one chance to
        see the object (the gate, timed in seconds, grows with the gap).
        """
        if not self.live:
            return []
        limit = np.where(self._count >= 6, self.max_gap, np.where(self._count >= 3, 3, 1))
        alive = frame - self._last <= limit
        if alive.all():
            return []
        ended = [self.live[i] for i in np.flatnonzero(~alive).tolist()]
        self._keep(np.flatnonzero(alive))
        return ended

    def _keep(self, rows: NDArray[np.int64]) -> None:
        self.live = [self.live[i] for i in rows.tolist()]
        self._state, self._last, self._count = self._state[rows], self._last[rows], self._count[rows]
        self._last_t = self._last_t[rows]

    def _extend(self, rows: NDArray[np.int64], frame: int, t: float, xy: NDArray[np.float64],
                area: NDArray[np.int64]) -> None:
        dt = np.maximum(t - self._last_t[rows], 1e-6)
        self._state[rows] = correct(self._state[rows], dt, xy)
        self._last[rows] = frame
        self._last_t[rows] = t
        self._count[rows] += 1
        for i, (x, y), a in zip(rows.tolist(), xy.tolist(), area.tolist(), strict=True):
            self.live[i].add(frame, t, x, y, a)

    def _start(self, cands: NDArray[np.int64], frame: int, t: float, cols: NDArray[np.int64], blobs: Blobs) -> None:
        """New tracks from candidates of the previous frame matched to blobs ``cols`` of this one."""
        first, second = self._cand_xy[cands], blobs.xy[cols]
        dt = max(t - self._cand_t, 1e-6)
        state = np.zeros((len(cands), 5))
        state[:, X], state[:, Y] = second[:, 0], second[:, 1]
        state[:, VX], state[:, VY] = (second[:, 0] - first[:, 0]) / dt, (second[:, 1] - first[:, 1]) / dt
        for (x0, y0), a0, (x1, y1), a1 in zip(first.tolist(), self._cand_area[cands].tolist(), second.tolist(),
                                              blobs.area[cols].tolist(), strict=True):
            tr = Track(self._next_id)
            self._next_id += 1
            tr.add(self._cand_frame, self._cand_t, x0, y0, a0)
            tr.add(frame, t, x1, y1, a1)
            self.live.append(tr)
        self._state = np.concatenate([self._state, state])
        self._last = np.concatenate([self._last, np.full(len(cands), frame, np.int64)])
        self._last_t = np.concatenate([self._last_t, np.full(len(cands), t)])
        self._count = np.concatenate([self._count, np.full(len(cands), 2, np.int64)])


def _fall_starts(cand_xy: NDArray[np.float64], cands: NDArray[np.int64], xy: NDArray[np.float64],
                 free: NDArray[np.int64], taken: NDArray[np.bool_], reach: float) -> NDArray[np.int64]:
    """(K, 2) pairs (candidate row, row of ``free``) for blobs that moved further than the near gate: each free
    blob not yet taken goes with its nearest candidate that lies above it, no further than ``reach`` px and
    roughly in line (sideways at most ``FALL_LATERAL`` of the drop, plus the near gate), nearest pairs first.
    A candidate with a blob still on it (within a px, a stationary thing or a ghost) starts nothing.
    """
    rest = np.flatnonzero(~taken)
    if cands.size == 0 or rest.size == 0:
        return np.zeros((0, 2), np.int64)
    a, b = cand_xy[cands], xy[free[rest]]
    near = np.abs(xy[None, :, 0] - a[:, None, 0]) + np.abs(xy[None, :, 1] - a[:, None, 1])
    still: NDArray[np.bool_] = np.any(near <= 1.0, axis=1)
    dx, dy = b[None, :, 0] - a[:, None, 0], b[None, :, 1] - a[:, None, 1]
    dist = np.hypot(dx, dy)
    ok = (dy > 0) & (dist <= reach) & (np.abs(dx) <= FALL_LATERAL * dy + NEAR_START) & ~still[:, None]
    rows, cols = np.nonzero(ok)
    if rows.size == 0:
        return np.zeros((0, 2), np.int64)
    order = np.argsort(dist[rows, cols], kind="stable")
    pairs = []
    used_c: set[int] = set()
    used_b: set[int] = set()
    for i, j in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if i in used_c or j in used_b:
            continue
        used_c.add(i)
        used_b.add(j)
        pairs.append((int(cands[i]), int(rest[j])))
    out = np.asarray(pairs, np.int64).reshape(-1, 2)
    taken[out[:, 1]] = True
    return out


def _greedy(preds: NDArray[np.float64], xy: NDArray[np.float64], used: NDArray[np.bool_]) -> NDArray[np.int64]:
    """(K, 2) pairs (prediction row, blob row), best first, each inside its prediction's elliptical gate (rows of
    ``preds``: x, y, ux, uy, along, across); marks ``used`` blobs.

    Squared distances within the long half-axis screen the whole matrix; the few pairs that pass get their
    along/across offsets, and the order is by the normalised distance (how far inside the gate).
    """
    dx = xy[None, :, 0] - preds[:, 0:1]
    dy = xy[None, :, 1] - preds[:, 1:2]
    along_max = preds[:, 4]
    rows, cols = np.nonzero(dx * dx + dy * dy <= (along_max * along_max * (1 + 1e-9) + 1e-9)[:, None])
    if rows.size == 0:
        return np.zeros((0, 2), np.int64)
    ddx, ddy = dx[rows, cols], dy[rows, cols]
    ux, uy = preds[rows, 2], preds[rows, 3]
    along = (ddx * ux + ddy * uy) / preds[rows, 4]
    across = (ddy * ux - ddx * uy) / preds[rows, 5]
    d = along * along + across * across
    inside = d <= 1.0 + 1e-9
    if not inside.any():
        return np.zeros((0, 2), np.int64)
    rows, cols, d = rows[inside], cols[inside], d[inside]
    order = np.argsort(d, kind="stable")
    taken: set[int] = set()
    claimed = set(np.flatnonzero(used).tolist())
    pairs = []
    for i, j in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if i in taken or j in claimed:
            continue
        taken.add(i)
        claimed.add(j)
        pairs.append((i, j))
    out = np.asarray(pairs, np.int64).reshape(-1, 2)
    used[out[:, 1]] = True
    return out
