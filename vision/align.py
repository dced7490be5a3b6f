"""The camera's own motion: how far the whole picture moved against the background, and the frame moved back.

A camera on a pole shakes in the wind or when a lorry passes, and a high-resolution camera jitters by a pixel or
two all the time. Every edge of the facade then differs from the background at once, and a tracker in that crowd
strings edge fragments into tracks that fall. A rigid shift of the whole picture explains all of it with two
numbers, so the frame is moved back onto the background before it is compared with it.

The shift is the least-squares translation of a Lucas-Kanade step on a quarter-size image (a resize and a few dot
products over ~15,000 samples: about 30 microseconds at 640x360; a second step when the first finds half a pixel or
more). It is applied in whole pixels, only when it is at least a whole pixel in an axis and the frame moved back by
it matches the background better than the frame as it came (on every 4th row): smaller motion is what the
background's 3x3 range already absorbs (`vision/motion.py`), and a whole-pixel move of a half-pixel jitter leaves
as large a remainder as no move while it keeps the background off the camera's rest; whole-pixel moves need no
interpolation, which would blur a 3 px object.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

Gray = NDArray[np.uint8]
_FACTOR = 4  # the estimate is made at 1/4 size: a shake of up to ~3 px there is within one linear step
_MARGIN = 8  # px of the picture's edge left out of the comparison (the strip a shift uncovers)
_GRID = 4  # row step of the comparison of candidate shifts
_SECOND_STEP = 0.5  # px: one step overestimates a 1 px move by about a third; from there a second one is exact
MIN_MOVE = 1.0  # px: a smaller move is left to the background's 3x3 range (a whole-pixel move cannot undo it)
MAX_SHIFT = 8  # px: estimates are clamped here; a frame still unexplained re-seeds the background as before


class Aligner:
    """The background's quarter-size image and gradients, refreshed with the background; `shift` per frame."""

    def __init__(self) -> None:
        self._small: NDArray[np.float32] | None = None
        self._small8: Gray | None = None
        self._gx: NDArray[np.float32] | None = None
        self._gy: NDArray[np.float32] | None = None
        self._inv: NDArray[np.float64] | None = None  # inverse of the 2x2 normal matrix of the gradients
        self._size = (0, 0)

    def refresh(self, background: Gray) -> None:
        """Take a new reference background (the motion model refreshes it every 16 frames and at re-seeding)."""
        h, w = background.shape
        sh, sw = h // _FACTOR, w // _FACTOR
        if min(sh, sw) < 3 * _MARGIN // _FACTOR + 4:  # a picture too small to tell a shift from an object
            self._inv = None
            return
        self._size = (sw, sh)
        small = cv2.resize(background[:sh * _FACTOR, :sw * _FACTOR], self._size, interpolation=cv2.INTER_LINEAR)
        self._small8 = np.asarray(small, dtype=np.uint8)
        self._small = np.asarray(small, dtype=np.float32)
        gx = np.asarray(cv2.Sobel(self._small, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8), dtype=np.float32)
        gy = np.asarray(cv2.Sobel(self._small, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8), dtype=np.float32)
        for g in (gx, gy):  # the border's gradients are the padding's
            g[[0, -1], :] = 0
            g[:, [0, -1]] = 0
        fx, fy = gx.ravel(), gy.ravel()
        self._gx, self._gy = fx, fy
        a = np.array([[fx @ fx, fx @ fy], [fx @ fy, fy @ fy]], dtype=np.float64)
        det = float(np.linalg.det(a))
        # a wall without edges (or edges in one direction only) cannot show a shift across them
        usable = det > 0 and det > 1e-6 * float(np.trace(a)) ** 2
        self._inv = np.asarray(np.linalg.inv(a), dtype=np.float64) if usable else None

    def estimate(self, gray: Gray) -> tuple[float, float] | None:
        """The picture's move (dx, dy) in px against the background: frame(x) = background(x - d); None when the
        background cannot show one.
        """
        if self._inv is None or self._small is None or self._small8 is None:
            return None
        sw, sh = self._size
        small = cv2.resize(gray[:sh * _FACTOR, :sw * _FACTOR], self._size, interpolation=cv2.INTER_LINEAR)
        d = self._step(np.asarray(cv2.subtract(small, self._small8, dtype=cv2.CV_32F), dtype=np.float32))
        if max(abs(d[0]), abs(d[1])) * _FACTOR >= _SECOND_STEP:  # a larger move: one more step from there
            back = np.array([[1.0, 0.0, d[0]], [0.0, 1.0, d[1]]])  # small(x + d): the frame moved back by d
            moved = cv2.warpAffine(np.asarray(small, dtype=np.float32), back, self._size,
                                   flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            more = self._step(np.asarray(moved, dtype=np.float32) - self._small)
            d = (d[0] + more[0], d[1] + more[1])
        return d[0] * _FACTOR, d[1] * _FACTOR

    def _step(self, diff: NDArray[np.float32]) -> tuple[float, float]:
        """One least-squares step from the difference to the background: the move d (quarter-size px) with
        frame(x) = background(x - d).
        """
        if self._inv is None or self._gx is None or self._gy is None:
            return 0.0, 0.0
        it = diff.ravel()
        it -= float(cv2.mean(it)[0])  # a change of exposure is not a move
        d = -(self._inv @ np.array([self._gx @ it, self._gy @ it], dtype=np.float64))
        return float(d[0]), float(d[1])

    def shift(self, gray: Gray, background: Gray) -> tuple[int, int]:
        """The whole-pixel shift (sx, sy) that moves this frame back onto the background, (0, 0) for none.

        Candidates are the whole pixels near the estimate in each axis; the one whose moved frame differs least
        from the background on every 4th row wins, and only if it differs less than the frame unmoved.
        """
        d = self.estimate(gray)
        if d is None or (abs(d[0]) < MIN_MOVE and abs(d[1]) < MIN_MOVE):
            return 0, 0
        dx, dy = (max(-MAX_SHIFT, min(MAX_SHIFT, v)) for v in d)
        best, best_cost = (0, 0), _cost(gray, background, 0, 0)
        for sx in _near(dx):
            for sy in _near(dy):
                if (sx, sy) == (0, 0):
                    continue
                c = _cost(gray, background, sx, sy)
                if c < best_cost:
                    best, best_cost = (sx, sy), c
        return best


def _near(v: float) -> set[int]:
    """The whole pixels a move of ``v`` px may round to: the nearest, and the other neighbour when ``v`` is
    within a quarter pixel of half-way (the estimate is good to about that).
    """
    r = round(v)
    return {r, r + (1 if v > r else -1)} if abs(v - r) > 0.25 else {r}


def _cost(gray: Gray, background: Gray, sx: int, sy: int) -> float:
    """Mean |frame(x + s) - background(x)| over every 4th row inside the margin (whole rows: a grid sparse
    across too would not tell neighbouring shifts apart on a facade whose edges fall between its columns).
    """
    h, w = background.shape
    m = _MARGIN
    moved = gray[m + sy:h - m + sy:_GRID, m + sx:w - m + sx]
    return float(cv2.mean(cv2.absdiff(moved, background[m:h - m:_GRID, m:w - m]))[0])


def moved_back(gray: Gray, background: Gray, sx: int, sy: int, out: Gray | None = None) -> Gray:
    """The frame with frame(x + s) at x; the strip the move uncovers shows the background (so it is no motion)."""
    h, w = gray.shape
    dst = np.empty_like(gray) if out is None else out
    ys, yd = (slice(sy, h), slice(0, h - sy)) if sy >= 0 else (slice(0, h + sy), slice(-sy, h))
    xs, xd = (slice(sx, w), slice(0, w - sx)) if sx >= 0 else (slice(0, w + sx), slice(-sx, w))
    dst[yd, xd] = gray[ys, xs]
    rows = slice(h - sy, h) if sy >= 0 else slice(0, -sy)
    cols = slice(w - sx, w) if sx >= 0 else slice(0, -sx)
    dst[rows, :] = background[rows, :]
    dst[:, cols] = background[:, cols]
    return dst
