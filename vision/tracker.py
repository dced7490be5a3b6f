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
MAX_GATE = 40.0  # px: a fast track must not swallow unrelated blobs once its object has landed
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

    def add(self, frame: int, t: float, x: float, y: float, area: int) -> None:
        self.frames.append(frame)
        self.times.append(t)
        self.xs.append(x)
        self.ys.append(y)
        self.areas.append(area)

    def __len__(self) -> int:
        return len(self.frames)


def _ahead(state: NDArray[np.float64], dt: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Positions x, y that filter states (M, 5) reach ``dt`` frames on."""
    return (state[:, X] + state[:, VX] * dt,
            state[:, Y] + state[:, VY] * dt + 0.5 * state[:, AY] * dt * dt)


def predict(state: NDArray[np.float64], last: NDArray[np.int64], count: NDArray[np.int64],
            frame: int) -> NDArray[np.float64]:
    """(M, 3) array of predicted x, y and gate radius at ``frame`` for filter states (M, 5) last updated at
    frames ``last`` after ``count`` detections."""
    dt = frame - last
    px, py = _ahead(state, dt)
    speed = np.abs(state[:, VX]) + np.abs(state[:, VY])
    gate = 6.0 + 0.5 * speed * dt + 0.5 * np.abs(state[:, AY]) * dt * dt + np.where(count == 2, 3.0, 0.0)
    return np.stack([px, py, np.minimum(gate, MAX_GATE)], axis=1)


def correct(state: NDArray[np.float64], dt: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Filter states (M, 5) after measuring positions ``xy`` (M, 2), ``dt`` frames after their last update."""
    px, py = _ahead(state, dt)
    rx, ry = xy[:, 0] - px, xy[:, 1] - py
    out = np.empty_like(state)
    out[:, X] = px + ALPHA * rx
    out[:, VX] = state[:, VX] + BETA * rx / dt
    out[:, Y] = py + ALPHA * ry
    out[:, VY] = state[:, VY] + (state[:, AY] * dt + BETA * ry / dt)
    out[:, AY] = state[:, AY] + 2 * GAMMA * ry / (dt * dt)
    return out


class Tracker:
    """Keeps live tracks; ``step`` returns the tracks that ended (no detection for more than ``max_gap`` frames).

    A blob nobody claimed becomes a candidate (plain arrays, no object); a track is made only when a candidate is
    matched in the next frame. Rain and noise make dozens of blobs per frame that never match, so they cost no
    Python objects.
    """

    def __init__(self, max_gap: int = 6, max_tracks: int = 600) -> None:
        self.max_gap = max_gap
        self.max_tracks = max_tracks
        self.live: list[Track] = []
        self._state = np.zeros((0, 5))  # filter state of each live track, rows in the order of ``live``
        self._last = np.zeros(0, np.int64)  # frame of each live track's last detection
        self._count = np.zeros(0, np.int64)  # detections of each live track
        self._next_id = 1
        self._cand_xy = np.zeros((0, 2))
        self._cand_area = np.zeros(0, np.int64)
        self._cand_frame = -1
        self._cand_t = 0.0

    def step(self, frame: int, t: float, blobs: Blobs) -> list[Track]:
        ended = self._age(frame)
        used = np.zeros(len(blobs), dtype=bool)
        if self.live and len(blobs):
            pairs = _greedy(predict(self._state, self._last, self._count, frame), blobs.xy, used)
            if pairs.size:
                self._extend(pairs[:, 0], frame, t, blobs.xy[pairs[:, 1]], blobs.area[pairs[:, 1]])
        free = np.flatnonzero(~used)
        if free.size and len(self._cand_area) and frame - self._cand_frame == 1:
            cand = np.column_stack([self._cand_xy[:, 0], self._cand_xy[:, 1] + 1.0,
                                    np.full(len(self._cand_area), 9.0)])
            taken = np.zeros(free.size, dtype=bool)
            pairs = _greedy(cand, blobs.xy[free], taken)
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
        object crossing dark windows blinks in and out."""
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

    def _extend(self, rows: NDArray[np.int64], frame: int, t: float, xy: NDArray[np.float64],
                area: NDArray[np.int64]) -> None:
        self._state[rows] = correct(self._state[rows], (frame - self._last[rows]).astype(np.float64), xy)
        self._last[rows] = frame
        self._count[rows] += 1
        for i, (x, y), a in zip(rows.tolist(), xy.tolist(), area.tolist(), strict=True):
            self.live[i].add(frame, t, x, y, a)

    def _start(self, cands: NDArray[np.int64], frame: int, t: float, cols: NDArray[np.int64], blobs: Blobs) -> None:
        """New tracks from candidates of the previous frame matched to blobs ``cols`` of this one."""
        first, second = self._cand_xy[cands], blobs.xy[cols]
        dt = float(frame - self._cand_frame)
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
        self._count = np.concatenate([self._count, np.full(len(cands), 2, np.int64)])


def _greedy(preds: NDArray[np.float64], xy: NDArray[np.float64], used: NDArray[np.bool_]) -> NDArray[np.int64]:
    """(K, 2) pairs (prediction row, blob row), nearest first, each inside its prediction's gate; marks ``used``
    blobs.

    Squared distances screen the whole matrix (``hypot`` over it costs more than everything else here); the few
    pairs that pass, with a hair of slack for rounding, get their exact distance for the gate and the order.
    """
    dx = preds[:, 0:1] - xy[None, :, 0]
    dy = preds[:, 1:2] - xy[None, :, 1]
    gate = preds[:, 2]
    rows, cols = np.nonzero(dx * dx + dy * dy <= (gate * gate * (1 + 1e-9) + 1e-9)[:, None])
    d = np.hypot(dx[rows, cols], dy[rows, cols])
    inside = d <= gate[rows]
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
