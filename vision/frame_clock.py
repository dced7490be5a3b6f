"""Frame timing from content and timestamps: repeated frames are recognised and skipped, lost frames leave gaps.

Upsampled footage (20 fps delivered as 30) repeats every third frame: the object stands still for one frame,
which the tracker and the physics would read as a stall. A frame that matches the previous one far more closely
than consecutive frames usually do is a repeat. Ticks count the frames that carry new content; a timestamp gap of
several content periods (frames lost on the way) advances the tick by as many, so the tracker sees a gap.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from vision.decode import GrayFrame

RING = 8192  # ticks remembered for mapping back to frame numbers (minutes of footage; tracks last seconds)


class FrameClock:
    """Turns (frame, ts) of delivered frames into ticks of new content."""

    def __init__(self, grid: int = 4, repeat_share: float = 0.15, min_level: float = 0.5) -> None:
        self.grid = grid
        # a repeat is identical, or (re-encoded footage) differs by less than this share of the usual difference
        # between frames, once that is known and at least ``min_level`` grey levels (sensor noise): a clean
        # synthetic picture with one small object moving must not look repeated
        self.repeat_share = repeat_share
        self.min_level = min_level
        self._seen = 0
        self.tick = -1
        self.repeats = 0
        self.gaps = 0
        self._prev: GrayFrame | None = None
        self._prev_full: GrayFrame | None = None
        self._prev_t = 0.0
        self._level = 0.0
        self._intervals: deque[float] = deque(maxlen=32)
        self._period: float | None = None  # ``period`` of the intervals as they are, recomputed when one is added
        self._frames = np.zeros(RING, np.int64)

    def reset(self) -> None:
        """Forget the previous frame (a new resolution)."""
        self._prev = None

    def advance(self, gray: GrayFrame, frame: int, t: float) -> int | None:
        """The tick of this frame, or None when it repeats the previous one."""
        small = np.ascontiguousarray(gray[:: self.grid, :: self.grid])  # one copy, kept as the next reference
        if self._prev is not None and self._prev.shape == small.shape:
            diff = float(cv2.mean(cv2.absdiff(small, self._prev))[0])
            exact = diff == 0.0 and self._prev_full is not None and self._prev_full.shape == gray.shape and \
                float(cv2.norm(gray, self._prev_full, cv2.NORM_INF)) == 0.0
            near = self._seen >= 10 and self._level >= self.min_level and diff < self.repeat_share * self._level
            if exact or near:
                self.repeats += 1
                return None
            self._seen += 1
            self._level = diff if self._seen == 1 else 0.9 * self._level + 0.1 * min(diff, 4 * self._level)
            dt = t - self._prev_t
            steps = self._steps(dt)
            if dt > 0:
                self._intervals.append(dt)
                self._period = self._mean_period()
        else:
            steps = 1
        self._prev, self._prev_full, self._prev_t = small, gray, t
        self.gaps += steps > 1
        self.tick += steps
        self._frames[self.tick % RING] = frame
        return self.tick

    @property
    def period(self) -> float | None:
        """Seconds between frames of new content, once a few intervals are known."""
        return self._period

    def _mean_period(self) -> float | None:
        """The mean interval without the lost-frame gaps (those above 2.5x the median); None with fewer than 4."""
        if len(self._intervals) < 4:
            return None
        iv = sorted(self._intervals)  # 32 numbers at most: Python's sort beats numpy's per-call cost here
        mid = len(iv) // 2
        median = iv[mid] if len(iv) % 2 else (iv[mid - 1] + iv[mid]) / 2
        return float(np.mean([v for v in self._intervals if v <= 2.5 * median]))  # in arrival order, as before

    def _steps(self, dt: float) -> int:
        """Content periods in ``dt``: the mean interval between new frames is the period (repeats make the
        intervals uneven, 1/30 and 2/30 s, around a 1/20 s period), lost frames are the intervals far above it.
        """
        period = self.period
        if period is None or dt <= 0:
            return 1
        return max(1, round(dt / period))

    def frame_of(self, tick: int) -> int:
        """The delivered frame number of a recent tick."""
        return int(self._frames[tick % RING])
