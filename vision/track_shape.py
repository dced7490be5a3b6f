"""The shape of a track in the image: where it descends, how smooth it is, which points belong to one object.

Pure array functions on processing-pixel coordinates, shared by the classifier's checks.
"""

from __future__ import annotations

import numpy as np

from vision.tracker import Track

_TERMS = 10  # w dt^0..4, then w dt^0..2 y, then w dt^0..1 x


def falling_span(y: np.ndarray | list[float], tolerance: float, frames: np.ndarray | list[int] | None = None,
                 min_fill: float = 0.0) -> tuple[int, int]:
    """[start, end) of the part of a track that descends most: a track is cut wherever it climbs more than
    ``tolerance`` px above its lowest point so far. Before the fall a track may have followed something else; after
    it, the track takes over other blobs once the object has landed or vanished.

    With ``frames``, parts seen in at least ``min_fill`` of their frames come first: a track that ran on after the
    object can string scattered blobs into a longer but sparse descent.
    """
    # a loop over Python numbers: the cuts depend on each other, and per-element numpy indexing costs ~10x more
    ys = [float(v) for v in y] if isinstance(y, list) else np.asarray(y, dtype=np.float64).tolist()
    fs = None if frames is None else (frames if isinstance(frames, list) else np.asarray(frames).tolist())
    n = len(ys)
    best, best_key = (0, 0), (False, -np.inf)
    start, low = 0, ys[0]
    for i in range(1, n + 1):
        if i == n or ys[i] < low - tolerance:
            descent = ys[i - 1] - ys[start]
            # a span shorter than its points (frames repeated where two pieces overlap) counts as fully seen
            dense = fs is None or (i - start) / max(float(fs[i - 1] - fs[start] + 1), float(i - start)) >= min_fill
            if i - start >= 2 and (dense, descent) > best_key:
                best, best_key = (start, i), (dense, descent)
            if i < n:
                start, low = i, ys[i]
        elif ys[i] > low:
            low = ys[i]
    return best


def core_fill(frames: np.ndarray, y: np.ndarray, margin: float = 0.1) -> float:
    """Detections per frame over the core of a descent: from the last point still within the top ``margin`` of the
    drop to the first point within its bottom ``margin``. A hover before and a rest after pad a track's overall
    fill; what must be seen frame after frame is the object on its way down.
    """
    drop = float(y[-1] - y[0])
    a = int(np.flatnonzero(y <= y[0] + margin * drop).max())
    b = int(np.flatnonzero(y >= y[-1] - margin * drop).min())
    if b <= a:
        return 1.0
    return (b - a + 1) / float(frames[b] - frames[a] + 1)


def roughness(t: np.ndarray, v: np.ndarray, half: int = 4) -> float:
    """90th percentile of how far each point lies from the parabola through its neighbours (up to ``half`` on
    each side, itself left out), in the units of ``v``; 0 for tracks too short to judge.

    Local fits follow a drag-bent fall that one global parabola would not, so this measures jitter, not shape.
    """
    n = len(t)
    offsets = np.arange(-half, half + 1)
    idx = np.arange(n)[:, None] + offsets[None, :]
    w = ((idx >= 0) & (idx < n) & (offsets != 0)[None, :]).astype(np.float64)
    usable = w.sum(axis=1) >= 5
    if not usable.any():
        return 0.0
    idx = np.clip(idx, 0, n - 1)[usable]
    dt = t[idx] - t[usable][:, None]  # centred on each point, so the fit's constant term is the prediction there
    predicted = _fit_constant(w[usable], dt, v[idx], 2)
    return float(np.percentile(np.abs(v[usable] - predicted), 90))


def _fit_constant(w: np.ndarray, dt: np.ndarray, values: np.ndarray, degree: int) -> np.ndarray:
    """Constant terms of a batch of weighted least-squares polynomial fits (degree 1 or 2) in ``dt``: weights,
    offsets and values are (B, K). Cramer's rule on the normal equations, as whole-array sums: at these sizes a
    batched ``linalg.solve`` costs more in calls than in arithmetic.
    """
    wt = w * dt
    s0, s1 = w.sum(axis=1), wt.sum(axis=1)
    s2 = (wt * dt).sum(axis=1)
    r0, r1 = (w * values).sum(axis=1), (wt * values).sum(axis=1)
    if degree == 1:
        return np.asarray((r0 * s2 - r1 * s1) / (s0 * s2 - s1 * s1), dtype=np.float64)
    wt2 = wt * dt
    s3, s4 = (wt2 * dt).sum(axis=1), (wt2 * dt * dt).sum(axis=1)
    r2 = (wt2 * values).sum(axis=1)
    det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2)
    num = r0 * (s2 * s4 - s3 * s3) - s1 * (r1 * s4 - s3 * r2) + s2 * (r1 * s3 - s2 * r2)
    return np.asarray(num / det, dtype=np.float64)


def follow(frames: np.ndarray, x: np.ndarray, y: np.ndarray, stray_px: float, history: int = 8) -> np.ndarray:
    """Indices of the points that follow one smooth curve, in order.

    Each point is predicted from up to ``history`` points kept before it (parabola in y, line in x); one that
    misses by more than ``stray_px`` is a stray blob and left out, and two strays in a row end
    the curve: the track ran on onto other things. The first five points are kept as they are. The tolerance
    grows with the square root of the gap in frames: measured on true falls, misses across gaps grow about so.
    """
    n = len(frames)
    start = min(5, n)
    kept = np.arange(n)
    pos = start  # points from here on are still to be judged, each as if all undecided points before it stay
    while pos < len(kept):
        bad = _first_stray(frames, x, y, kept, pos, len(kept), stray_px, history)
        if bad is None:
            break
        rest = np.delete(kept, bad)
        if bad == len(rest):  # the last point was the stray
            return rest
        if _first_stray(frames, x, y, rest, bad, bad + 1, stray_px, history) is not None:
            return kept[:bad]  # the point after the stray misses too: the curve ended before the stray
        kept, pos = rest, bad + 1
    return kept


def follow_track(track: Track, a: int, b: int, stray_px: float) -> np.ndarray:
    """``follow`` over the track's points a..b-1 (indices from ``a``), computed once per track and span."""
    key = (a, b, len(track), stray_px)
    kept = track.follow_memo.get(key)
    if kept is None:
        kept = follow(np.asarray(track.frames[a:b]), np.asarray(track.xs[a:b]), np.asarray(track.ys[a:b]), stray_px)
        track.follow_memo[key] = kept
    return kept


def _first_stray(frames: np.ndarray, x: np.ndarray, y: np.ndarray, kept: np.ndarray, lo: int, hi: int,
                 stray_px: float, history: int) -> int | None:
    """Position (in ``kept``) of the first of kept[lo:hi] that misses the curve through the up to ``history``
    kept points before it, all judged at once; None when none does.
    """
    targets = np.arange(lo, hi)
    hist_pos = targets[:, None] + np.arange(-history, 0)[None, :]
    hist = kept[np.maximum(hist_pos, 0)]
    point = kept[targets]
    miss = _extrapolation_miss(frames, x, y, hist, hist_pos >= 0, point)
    gap = frames[point] - frames[kept[targets - 1]]
    bad = np.flatnonzero(miss > stray_px * np.sqrt(gap))
    return int(targets[bad[0]]) if bad.size else None


def _extrapolation_miss(frames: np.ndarray, x: np.ndarray, y: np.ndarray, hist: np.ndarray, ok: np.ndarray,
                        target: np.ndarray) -> np.ndarray:
    """Distance of each target point from the curve through its history points (rows of ``hist``, ``ok`` marks
    real ones), as a batch of weighted least-squares fits centred on the target: a parabola in y and a line in x.

    Both share the weighted sums of the time offsets' powers, so all sums come from one stack of terms and one
    reduction (frame offsets are whole numbers, and centres halves of a pixel: the sums are exact in any order).
    """
    dt = (frames[hist] - frames[target][:, None]).astype(np.float64)
    terms = np.empty((_TERMS, *dt.shape))
    terms[0] = ok
    np.multiply.accumulate(np.broadcast_to(dt, (4, *dt.shape)), axis=0, out=terms[1:5])
    terms[1:5] *= terms[0]  # w dt^k, k = 1..4
    terms[5:8] = terms[0:3] * y[hist]
    terms[8:10] = terms[0:2] * x[hist]
    s0, s1, s2, s3, s4, r0, r1, r2, q0, q1 = terms.sum(axis=2)
    det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2)
    py = (r0 * (s2 * s4 - s3 * s3) - s1 * (r1 * s4 - s3 * r2) + s2 * (r1 * s3 - s2 * r2)) / det
    px = (q0 * s2 - q1 * s1) / (s0 * s2 - s1 * s1)
    return np.asarray(np.hypot(y[target] - py, x[target] - px), dtype=np.float64)
