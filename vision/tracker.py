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
X, Y, VX, VY, AY = range(5)  # columns of the filter state
START_GATE = 9.0  # px: a track starts from two sightings this close...
START_DROP = 1.0  # ...around a point this much lower
FAST_MAX = 80.0  # px per frame: the fastest step a track starts on from three sightings
FAST_CONE = 2.0  # ...moving down, at most this many px sideways per px down
FAST_TOL = 3.0  # px the third sighting may miss the step of the first two by (plus a tenth of the step)
FAST_SIZE = 2.5  # ...and no sighting's box more than this many times another's area (one object's size)
FAST_CONFIRM = 5  # sightings before such a track competes for blobs like any other
_PAIRS_AT_ONCE = 1_000_000  # (pair, first sighting) distances held in memory at once


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
    # blobs inside the association gate when each detection was taken (the one taken included): in a crowd (snow,
    # leaves) many chains were possible, and the classifier asks more of one that was picked among many
    gated: list[int] = field(default_factory=list)
    # the classifier and the fragment joiner both ask which points of the same descent follow one curve; an ended
    # track no longer changes, so the answer is kept here (``track_shape.follow_track``), keyed by the span asked
    follow_memo: dict[tuple[int, int, int, float], NDArray[np.int64]] = field(
        default_factory=dict, repr=False, compare=False)

    def seen_frames(self) -> NDArray[np.int64]:
        """The frames with the hidden stretches taken out: a joined fall counts as seen frame after frame."""
        frames = np.asarray(self.frames, dtype=np.int64)
        seen = frames.copy()
        for first, count in self.hidden:
            seen -= count * (frames >= first + count)
        return seen

    def seen_span(self) -> int:
        """Frames from the first detection to the last with the hidden stretches taken out: ``seen_frames()``'s
        last minus its first, plus one, in plain integers (the fragment joiner asks it of every join it tries).
        """
        first, last = self.frames[0], self.frames[-1]
        span = last - first + 1
        for start, count in self.hidden:
            span -= count * ((last >= start + count) - (first >= start + count))
        return span

    def add(self, frame: int, t: float, x: float, y: float, area: int, gated: int = 1) -> None:
        """Append one detection (``gated``: blobs its gate held)."""
        self.gated.append(gated)
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
            frame: int, accel: float = 0.0, side: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """(M, 6) array of predicted x, y, the unit direction of motion (ux, uy) and the gate's half-lengths along and
    across it, at ``frame``, for filter states (M, 5) last updated at frames ``last`` after ``count`` detections.

    A fast object's position is uncertain mostly along its path (its speed is known to a fraction, its direction
    well), so the gate is an ellipse stretched along the velocity: a small fast object is kept at any speed, while
    blobs beside its path are not taken. ``accel`` (px per frame^2) is what gravity can add that the filter has not
    learnt yet: a young track's acceleration estimate lags behind a fall's.
    """
    dt = frame - last
    px, py = _ahead(state, dt)
    vx, vy = state[:, VX] + 0.0, state[:, VY] + state[:, AY] * dt
    speed = np.hypot(vx, vy)
    ux = np.where(speed > 1e-6, vx / np.maximum(speed, 1e-6), 0.0)
    uy = np.where(speed > 1e-6, vy / np.maximum(speed, 1e-6), 1.0)
    young = np.where(count == 2, 3.0, 0.0)
    # a big object's blob centre wanders over its body as it tumbles or merges with its own trail
    body = 6.0 if side is None else np.maximum(6.0, 0.5 * side)
    along = body + 0.4 * speed * dt + 0.5 * (np.abs(state[:, AY]) + accel) * dt * dt + young
    across = body + 0.12 * speed * dt + 0.15 * accel * dt * dt + young
    return np.stack([px, py, ux, uy, np.minimum(along, MAX_GATE), np.minimum(across, MAX_ACROSS)], axis=1)


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


@dataclass(frozen=True)
class Candidates:
    """The blobs of one frame that no track took (box centres, box areas), kept to start tracks from."""

    xy: NDArray[np.float64]
    area: NDArray[np.int64]
    frame: int = -1
    t: float = 0.0

    def __len__(self) -> int:
        return int(self.area.shape[0])

    def subset(self, rows: NDArray[Any]) -> Candidates:
        """These candidates' ``rows`` (indices or a mask), of the same frame."""
        return Candidates(self.xy[rows], self.area[rows], self.frame, self.t)


NO_CANDIDATES = Candidates(np.zeros((0, 2)), np.zeros(0, np.int64))


class Tracker:
    """Keeps live tracks; ``step`` returns the tracks that ended (no detection for more than ``max_gap`` frames).

    A blob nobody claimed becomes a candidate (plain arrays, no object); a track is made only when a candidate is
    matched in the next frame. Rain and noise make dozens of blobs per frame that never match, so they cost no
    Python objects.
    """

    def __init__(self, max_gap: int = 6, max_tracks: int = 600) -> None:
        self.max_gap = max_gap
        self.max_tracks = max_tracks
        self.accel = 0.0  # px per frame^2 that gravity can add unseen (set by the detector from the camera)
        self.live: list[Track] = []
        self._state = np.zeros((0, 5))  # filter state of each live track, rows in the order of ``live``
        self._last = np.zeros(0, np.int64)  # frame of each live track's last detection
        self._count = np.zeros(0, np.int64)  # detections of each live track
        self._side = np.zeros(0)  # side (px, the root of the area) of each live track's last blob
        # tracks begun from three fast sightings, until seen ``FAST_CONFIRM`` times: they take only the blobs that
        # the other tracks and the starts from two sightings left (a chance chain in rain must not steal a blob)
        self._tentative = np.zeros(0, dtype=bool)
        self._next_id = 1
        self._cand = NO_CANDIDATES  # the last frame's candidates
        self._cand2 = NO_CANDIDATES  # the frame's before that, those no start took: a fast object's first sightings

    def step(self, frame: int, t: float, blobs: Blobs) -> list[Track]:
        """Associate this frame's blobs; returns the tracks that ended."""
        ended = self._age(frame)
        used = np.zeros(len(blobs), dtype=bool)
        pred = np.zeros((0, 6))
        if self.live and len(blobs):
            pred = predict(self._state, self._last, self._count, frame, self.accel, self._side)
            self._associate(np.flatnonzero(~self._tentative), pred, frame, t, blobs, used)
        free = np.flatnonzero(~used)
        cand = self._cand
        spare = np.ones(len(cand), dtype=bool)  # candidates of the last frame that no start took
        follows = len(cand) > 0 and frame - cand.frame == 1  # they were seen in the last frame
        if free.size and follows:
            k = len(cand)
            gates = np.column_stack([cand.xy[:, 0], cand.xy[:, 1] + START_DROP,
                                     np.zeros(k), np.ones(k), np.full(k, START_GATE), np.full(k, START_GATE)])
            taken = np.zeros(free.size, dtype=bool)
            pairs = _greedy(gates, blobs.xy[free], taken)
            if pairs.size:
                self._start(pairs[:, 0], frame, t, free[pairs[:, 1]], blobs)
                spare[pairs[:, 0]] = False
                used[free[pairs[:, 1]]] = True
            free = free[~taken]
        if free.size and len(pred) and self._tentative.any():  # (tracks begun just now have no prediction)
            self._associate(np.flatnonzero(self._tentative[:len(pred)]), pred, frame, t, blobs, used, free)
            free = np.flatnonzero(~used)
        if free.size and follows and len(self._cand2) and frame - self._cand2.frame == 2:
            free = self._fast_start(frame, t, free, blobs, spare)
        self._cand2 = cand.subset(spare)
        self._cand = Candidates(blobs.xy[free], blobs.area[free], frame, t)
        if len(self.live) > self.max_tracks:  # drop the shortest, oldest tracks first
            order = sorted(range(len(self.live)), key=lambda i: (self._count[i] > 2, self._last[i]), reverse=True)
            self._keep(np.asarray(order[: self.max_tracks]))
        return ended

    def flush(self) -> list[Track]:
        """End every live track (end of input, camera silent, resolution change)."""
        ended = self.live
        self._keep(np.zeros(0, np.int64))
        self._cand = self._cand2 = NO_CANDIDATES
        return ended

    def _fast_start(self, frame: int, t: float, free: NDArray[np.int64], blobs: Blobs,
                    spare: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Tracks from three sightings in a row of something moving down too fast for a start from two (a fall
        first seen well after its release); returns the free blobs left. ``spare`` marks the last frame's
        candidates still free, and loses those taken here.
        """
        rows = np.flatnonzero(spare)
        before, last = self._cand2, self._cand
        triples, held = fast_triples(before.xy, last.xy[rows], blobs.xy[free], self.accel,
                                     (before.area, last.area[rows], blobs.area[free]))
        if not len(triples):
            return free
        a, b, c = triples[:, 0], rows[triples[:, 1]], free[triples[:, 2]]
        xa, xb, xc = before.xy[a], last.xy[b], blobs.xy[c]
        state = np.zeros((len(a), 5))
        state[:, X], state[:, Y] = xc[:, 0], xc[:, 1]
        state[:, VX], state[:, VY] = xc[:, 0] - xb[:, 0], xc[:, 1] - xb[:, 1]
        state[:, AY] = np.clip((xc[:, 1] - xb[:, 1]) - (xb[:, 1] - xa[:, 1]), 0.0, self.accel)
        sightings = zip(xa.tolist(), before.area[a].tolist(), xb.tolist(), last.area[b].tolist(),
                        xc.tolist(), blobs.area[c].tolist(), held.tolist(), strict=True)
        for (x0, y0), a0, (x1, y1), a1, (x2, y2), a2, n in sightings:
            tr = Track(self._next_id)
            self._next_id += 1
            tr.add(before.frame, before.t, x0, y0, a0, n)  # the first was picked among ``n``
            tr.add(last.frame, last.t, x1, y1, a1)
            tr.add(frame, t, x2, y2, a2)
            self.live.append(tr)
        self._append(state, frame, 3, blobs.area[c], tentative=True)
        spare[b] = False
        return np.setdiff1d(free, c, assume_unique=True)

    def _associate(self, rows: NDArray[np.int64], pred: NDArray[np.float64], frame: int, t: float, blobs: Blobs,
                   used: NDArray[np.bool_], among: NDArray[np.int64] | None = None) -> None:
        """Extend the live tracks ``rows`` (predictions ``pred`` of all) with blobs (``among``: only these), best
        first; marks the blobs taken in ``used``.
        """
        if not rows.size:
            return
        cols = np.arange(len(blobs)) if among is None else among
        held = np.zeros(rows.size, np.int64)
        taken = used[cols].copy()
        pairs = _greedy(pred[rows], blobs.xy[cols], taken, held)
        if pairs.size:
            picked = cols[pairs[:, 1]]
            used[picked] = True
            self._extend(rows[pairs[:, 0]], frame, t, blobs.xy[picked], blobs.area[picked], held[pairs[:, 0]])

    def _age(self, frame: int) -> list[Track]:
        """Remove and return the tracks unseen for too long. An established track survives a longer gap: a dark
        object crossing dark windows blinks in and out.
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
        self._side = self._side[rows]
        self._tentative = self._tentative[rows]

    def _extend(self, rows: NDArray[np.int64], frame: int, t: float, xy: NDArray[np.float64],
                area: NDArray[np.int64], held: NDArray[np.int64] | None = None) -> None:
        self._state[rows] = correct(self._state[rows], (frame - self._last[rows]).astype(np.float64), xy)
        self._last[rows] = frame
        self._count[rows] += 1
        self._side[rows] = np.sqrt(area)
        self._tentative[rows] &= self._count[rows] < FAST_CONFIRM
        gated = np.ones(len(rows), np.int64) if held is None else held
        for i, (x, y), a, m in zip(rows.tolist(), xy.tolist(), area.tolist(), gated.tolist(), strict=True):
            self.live[i].add(frame, t, x, y, a, m)

    def _start(self, cands: NDArray[np.int64], frame: int, t: float, cols: NDArray[np.int64], blobs: Blobs) -> None:
        """New tracks from candidates of the previous frame matched to blobs ``cols`` of this one."""
        last = self._cand
        first, second = last.xy[cands], blobs.xy[cols]
        dt = float(frame - last.frame)
        state = np.zeros((len(cands), 5))
        state[:, X], state[:, Y] = second[:, 0], second[:, 1]
        state[:, VX], state[:, VY] = (second[:, 0] - first[:, 0]) / dt, (second[:, 1] - first[:, 1]) / dt
        for (x0, y0), a0, (x1, y1), a1 in zip(first.tolist(), last.area[cands].tolist(), second.tolist(),
                                              blobs.area[cols].tolist(), strict=True):
            tr = Track(self._next_id)
            self._next_id += 1
            tr.add(last.frame, last.t, x0, y0, a0)
            tr.add(frame, t, x1, y1, a1)
            self.live.append(tr)
        self._append(state, frame, 2, blobs.area[cols], tentative=False)

    def _append(self, state: NDArray[np.float64], frame: int, count: int, area: NDArray[np.int64], *,
                tentative: bool) -> None:
        """The filter rows of tracks just added to ``live``: their states, last seen now after ``count``."""
        n = len(state)
        self._state = np.concatenate([self._state, state])
        self._last = np.concatenate([self._last, np.full(n, frame, np.int64)])
        self._count = np.concatenate([self._count, np.full(n, count, np.int64)])
        self._side = np.concatenate([self._side, np.sqrt(area)])
        self._tentative = np.concatenate([self._tentative, np.full(n, tentative)])


def fast_triples(first: NDArray[np.float64], second: NDArray[np.float64], third: NDArray[np.float64],
                 accel: float, areas: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(K, 3) rows (first, second, third) of sightings in three frames in a row that one object moving down
    fast explains, and how many firsts each one's gate held; each sighting in at most one row, best first.

    The second-to-third step must be beyond the start gate of two sightings, downwards within ``FAST_CONE`` of
    the vertical and at most ``FAST_MAX`` px; the step before it the same step, less what gravity added since
    (0 to ``accel`` px down), within a few px and a tenth of the step. Of the box ``areas`` of the three frames'
    sightings, none may be more than ``FAST_SIZE`` times another (one object does not change size so).

    Called every frame on the blobs nobody took, so it screens with the cheapest tests first: the (second,
    third) matrix by squared distances only, sizes on the few pairs that pass, then the firsts for those pairs.
    """
    none = np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    if not (len(first) and len(second) and len(third)):
        return none
    dx = third[None, :, 0] - second[:, None, 0]
    dy = third[None, :, 1] - second[:, None, 1]
    d2 = dx * dx + dy * dy
    # down within the cone, at most the fastest step, and beyond the start gate around the point START_DROP lower
    fast = ((dy > 0) & (np.abs(dx) <= FAST_CONE * dy) & (d2 <= FAST_MAX * FAST_MAX)
            & (d2 - 2.0 * START_DROP * dy + START_DROP * START_DROP > START_GATE * START_GATE))
    bi, ci = np.nonzero(fast)
    if bi.size:
        area_b, area_c = areas[1][bi], areas[2][ci]
        keep = (area_b <= FAST_SIZE * area_c) & (area_c <= FAST_SIZE * area_b)
        bi, ci, area_b, area_c = bi[keep], ci[keep], area_b[keep], area_c[keep]
    if not bi.size:
        return none
    step_x, step_y = dx[bi, ci], dy[bi, ci]
    tol = FAST_TOL + 0.1 * np.sqrt(d2[bi, ci])
    ox, oy = second[bi, 0] - step_x, second[bi, 1] - step_y  # where the first is when the step did not change
    # a first's box within FAST_SIZE times both the second's and the third's
    big, small = np.maximum(area_b, area_c).astype(np.float64), FAST_SIZE * np.minimum(area_b, area_c)
    area_a = areas[0].astype(np.float64)
    found: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
    chunk = max(1, _PAIRS_AT_ONCE // len(first))  # a storm of blobs: bounded memory
    for lo in range(0, len(bi), chunk):
        hi = lo + chunk
        ddx = first[None, :, 0] - ox[lo:hi, None]  # (pairs, firsts): the second difference, sign reversed
        ddy = oy[lo:hi, None] - first[None, :, 1]
        # beyond what gravity can add (or take away, for a climb)
        gain = np.minimum(ddy, 0.0) + np.maximum(ddy - accel, 0.0)
        r = tol[lo:hi, None]
        d = (ddx * ddx + gain * gain) / (r * r)
        near = ((d <= 1.0) & (FAST_SIZE * area_a[None, :] >= big[lo:hi, None])
                & (area_a[None, :] <= small[lo:hi, None]))
        p, a = np.nonzero(near)
        found.append((p + lo, a, d[p, a]))
    pi = np.concatenate([f[0] for f in found])
    ai = np.concatenate([f[1] for f in found])
    if not pi.size:
        return none
    held = np.bincount(pi, minlength=len(bi))
    order = np.argsort(np.concatenate([f[2] for f in found]), kind="stable")
    rows: list[tuple[int, int, int]] = []
    counts: list[int] = []
    seen_a: set[int] = set()
    seen_b: set[int] = set()
    seen_c: set[int] = set()
    for p, a in zip(pi[order].tolist(), ai[order].tolist(), strict=True):
        b, c = int(bi[p]), int(ci[p])
        if a in seen_a or b in seen_b or c in seen_c:
            continue
        seen_a.add(a)
        seen_b.add(b)
        seen_c.add(c)
        rows.append((a, b, c))
        counts.append(int(held[p]))
    return np.asarray(rows, np.int64).reshape(-1, 3), np.asarray(counts, np.int64)


def _greedy(preds: NDArray[np.float64], xy: NDArray[np.float64], used: NDArray[np.bool_],
            held: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
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
    if held is not None:  # how many blobs each gate held, whoever takes them
        held += np.bincount(rows, minlength=len(preds))
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
