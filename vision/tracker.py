"""Multi-object tracking across frames: greedy nearest-neighbour association with a kinematic prediction.

Each track carries an alpha-beta-gamma filter state (position, velocity, acceleration), so predicting every live
track is one vectorised step per frame; falling objects accelerate downwards and the filter follows that. Rain
streaks move too far between frames to be associated and never become tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vision.blobs import Blobs

ALPHA, BETA, GAMMA = 0.6, 0.5, 0.15  # filter gains: trust measurements (centroids are good to ~1 px)
MAX_GATE = 40.0  # px: a fast track must not swallow unrelated blobs once its object has landed


@dataclass
class Track:
    """One object's detections (frame, time in s, centroid and area in processing pixels) and its filter state."""

    id: int
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    areas: list[int] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    ay: float = 0.0

    def add(self, frame: int, t: float, x: float, y: float, area: int) -> None:
        n = len(self.frames)
        if n == 0:
            self.x, self.y = x, y
        else:
            dt = float(frame - self.frames[-1])
            if n == 1:
                self.vx, self.vy = (x - self.x) / dt, (y - self.y) / dt
                self.x, self.y = x, y
            else:
                px = self.x + self.vx * dt
                py = self.y + self.vy * dt + 0.5 * self.ay * dt * dt
                rx, ry = x - px, y - py
                self.x = px + ALPHA * rx
                self.vx += BETA * rx / dt
                self.y = py + ALPHA * ry
                self.vy += self.ay * dt + BETA * ry / dt
                self.ay += 2 * GAMMA * ry / (dt * dt)
        self.frames.append(frame)
        self.times.append(t)
        self.xs.append(x)
        self.ys.append(y)
        self.areas.append(area)

    def __len__(self) -> int:
        return len(self.frames)


def predict(tracks: list[Track], frame: int) -> np.ndarray:
    """(M, 3) array of predicted x, y and gate radius for every track at ``frame``."""
    n = np.array([len(tr) for tr in tracks], dtype=np.float64)
    state = np.array([(tr.x, tr.y, tr.vx, tr.vy, tr.ay, tr.frames[-1]) for tr in tracks], dtype=np.float64)
    dt = frame - state[:, 5]
    px = state[:, 0] + state[:, 2] * dt
    py = state[:, 1] + state[:, 3] * dt + 0.5 * state[:, 4] * dt * dt
    speed = np.abs(state[:, 2]) + np.abs(state[:, 3])
    gate = 6.0 + 0.5 * speed * dt + 0.5 * np.abs(state[:, 4]) * dt * dt + np.where(n == 2, 3.0, 0.0)
    gate = np.minimum(gate, MAX_GATE)
    return np.stack([px, py, gate], axis=1)


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
        self._next_id = 1
        self._cand_xy = np.zeros((0, 2))
        self._cand_area = np.zeros(0, np.int64)
        self._cand_frame = -1
        self._cand_t = 0.0

    def _alive(self, tr: Track, frame: int) -> bool:
        # an established track survives a longer gap: a dark object crossing dark windows blinks in and out
        n = len(tr)
        return frame - tr.frames[-1] <= (self.max_gap if n >= 6 else 3 if n >= 3 else 1)

    def step(self, frame: int, t: float, blobs: Blobs) -> list[Track]:
        alive = [self._alive(tr, frame) for tr in self.live]
        ended = [tr for tr, ok in zip(self.live, alive, strict=True) if not ok]
        if ended:
            self.live = [tr for tr, ok in zip(self.live, alive, strict=True) if ok]
        used = np.zeros(len(blobs), dtype=bool)
        if self.live and len(blobs):
            preds = predict(self.live, frame)
            for i, j in _greedy(preds, blobs.xy, used):
                self.live[i].add(frame, t, float(blobs.xy[j, 0]), float(blobs.xy[j, 1]), int(blobs.area[j]))
        free = np.flatnonzero(~used)
        if free.size and len(self._cand_area) and frame - self._cand_frame == 1:
            cand = np.column_stack([self._cand_xy[:, 0], self._cand_xy[:, 1] + 1.0,
                                    np.full(len(self._cand_area), 9.0)])
            taken = np.zeros(free.size, dtype=bool)
            for i, k in _greedy(cand, blobs.xy[free], taken):
                j = int(free[k])
                tr = Track(self._next_id)
                self._next_id += 1
                tr.add(self._cand_frame, self._cand_t, float(self._cand_xy[i, 0]), float(self._cand_xy[i, 1]),
                       int(self._cand_area[i]))
                tr.add(frame, t, float(blobs.xy[j, 0]), float(blobs.xy[j, 1]), int(blobs.area[j]))
                self.live.append(tr)
            free = free[~taken]
        self._cand_xy, self._cand_area = blobs.xy[free], blobs.area[free]
        self._cand_frame, self._cand_t = frame, t
        if len(self.live) > self.max_tracks:  # drop the shortest, oldest tracks first
            self.live.sort(key=lambda tr: (len(tr) > 2, tr.frames[-1]), reverse=True)
            self.live = self.live[: self.max_tracks]
        return ended

    def flush(self) -> list[Track]:
        """End every live track (end of input, camera silent, resolution change)."""
        ended, self.live = self.live, []
        self._cand_xy, self._cand_area = np.zeros((0, 2)), np.zeros(0, np.int64)
        return ended


def _greedy(preds: np.ndarray, xy: np.ndarray, used: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (prediction row, blob row), nearest first, each inside its prediction's gate; marks ``used`` blobs."""
    d = np.hypot(preds[:, 0:1] - xy[None, :, 0], preds[:, 1:2] - xy[None, :, 1])
    rows, cols = np.nonzero(d <= preds[:, 2:3])
    if not rows.size:
        return []
    order = np.argsort(d[rows, cols], kind="stable")
    taken = np.zeros(preds.shape[0], dtype=bool)
    pairs = []
    for i, j in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if taken[i] or used[j]:
            continue
        taken[i] = used[j] = True
        pairs.append((i, j))
    return pairs
