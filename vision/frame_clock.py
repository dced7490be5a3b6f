"""Frame timing from content and timestamps: repeated frames are recognised and skipped, lost frames leave gaps.

Upsampled footage (20 fps delivered as 30) repeats every third frame: the object stands still for one frame,
which the tracker and the physics would read as a stall. Ticks count the frames that carry new content; a timestamp
gap of several content periods (frames lost on the way) advances the tick by as many, so the tracker sees a gap.

Which frames repeat is read from the content. An identical frame always repeats its predecessor. Re-encoded footage
(H.264, MPEG-4) does not repeat a frame exactly: the encoder refines the previous frame's quantisation error, so a
repeat differs from its predecessor by a little, and a quiet scene's new frames may differ by little more. The size of
the difference alone does not separate the two (the encoder spends its bits unevenly: new frames of one clip range
over two orders of magnitude), but upsampling repeats on a fixed cadence, every ``n``-th delivered frame. So a
repeat is a frame at the phase of a cadence whose differences, over the recent frames, sit clearly below those of
the other phases, and whose own difference is well below theirs. Footage without repeats has no such phase: a
camera's noise and motion do not follow the delivery cadence.

In upsampled footage the timestamp of a new frame is when it was delivered, not when its content was captured:
20 fps content delivered at 30 fps arrives 1/30 and 2/30 s apart, but was captured every 1/20 s, so timing an
object by the timestamps puts a speeding object up to a third of a period off its path (a fall's acceleration
is read as a wobble). Once a cadence is seen, a frame's content time is read off the regular grid of the recent
new frames (their ticks against their timestamps), which the capture followed; without one, it is its timestamp.
"""

from __future__ import annotations

import math
from collections import deque

import cv2
import numpy as np

from vision.decode import GrayFrame

RING = 8192  # ticks remembered for mapping back to frame numbers (minutes of footage; tracks last seconds)
CADENCES = (2, 3)  # every 2nd frame repeats: 15 -> 30 fps (12.5 -> 25); every 3rd: 20 -> 30 (10 -> 15)


class FrameClock:
    """Turns (frame, ts) of delivered frames into ticks of new content."""

    def __init__(self, window: int = 30, separation: float = 0.5, depth: float = 2.0) -> None:
        # the last ``window`` frames' log differences decide the cadence; a phase is the repeats' when the lower
        # quartile of the other phases lies at least e^``separation`` above its median, and a frame at that phase
        # is a repeat when its difference is ``depth`` times below the other phases' median
        self.separation = separation
        self.log_depth = math.log(depth)
        self.min_window = 12  # at least 4 frames of every phase of every cadence before any is trusted
        self.tick = -1
        self.repeats = 0
        self.gaps = 0
        self._diffs: deque[tuple[int, float]] = deque(maxlen=window)  # (delivered frame, log mean |difference|)
        self._cadence_seen = False
        self._prev: GrayFrame | None = None
        self._prev_t = 0.0
        self._intervals: deque[float] = deque(maxlen=32)
        self._period: float | None = None  # ``period`` of the intervals as they are, recomputed when one is added
        self._frames = np.zeros(RING, np.int64)
        self._grid: deque[tuple[int, float]] = deque(maxlen=32)  # (tick, ts) of recent new frames, for content time
        self._content_t = 0.0

    def reset(self) -> None:
        """Forget the previous frame and the cadence (a new resolution)."""
        self._prev = None
        self._diffs.clear()
        self._grid.clear()
        self._cadence_seen = False

    def advance(self, gray: GrayFrame, frame: int, t: float) -> int | None:
        """The tick of this frame, or None when it repeats the previous one."""
        if self._prev is not None and self._prev.shape == gray.shape:
            diff = float(cv2.norm(gray, self._prev, cv2.NORM_L1)) / gray.size  # every pixel: a 1 px mover counts
            if diff == 0.0:
                self._repeated()
                return None
            level = math.log(diff)
            repeat = self._at_repeat_phase(frame, level)
            self._diffs.append((frame, level))
            if repeat:
                self._repeated()
                return None
            dt = t - self._prev_t
            steps = self._steps(dt)
            if dt > 0:
                self._intervals.append(dt)
                self._period = self._mean_period()
        else:
            steps = 1
        self._prev, self._prev_t = gray, t
        self.gaps += steps > 1
        self.tick += steps
        self._frames[self.tick % RING] = frame
        self._grid.append((self.tick, t))
        self._content_t = self._on_grid(self.tick, t)
        return self.tick

    def _repeated(self) -> None:
        """Count a repeat; at the first one, forget the intervals and grid so far, which timed repeats as new."""
        self.repeats += 1
        if not self._cadence_seen:
            self._cadence_seen = True
            self._intervals.clear()
            self._grid.clear()
            self._period = None

    @property
    def content_time(self) -> float:
        """Capture time (s) of the content of the last new frame: its timestamp, or with repeats seen, its place
        on the regular grid of the recent new frames.
        """
        return self._content_t

    def _on_grid(self, tick: int, t: float) -> float:
        """The time of ``tick`` on the regular grid the recent new frames were captured on: timestamps against
        ticks by least squares, a line plus the delivery's alternation (20 fps content delivered at 30 arrives
        1/30 and 2/30 s apart by turns, so even and odd ticks are offset by half a delivery interval).
        """
        if not self._cadence_seen or len(self._grid) < 4:
            return t
        ticks = np.fromiter((k for k, _ in self._grid), np.float64, len(self._grid))
        times = np.fromiter((v for _, v in self._grid), np.float64, len(self._grid))
        k0 = ticks[-1]
        basis = np.stack([np.ones_like(ticks), ticks - k0, 1.0 - 2.0 * (ticks % 2)], axis=1)
        if np.ptp(basis[:, 2]) == 0:
            basis = basis[:, :2]  # every other content frame lost: no alternation to tell from the line
        coef = np.linalg.lstsq(basis, times, rcond=None)[0]
        return float(coef[0] + coef[1] * (tick - k0))

    def _at_repeat_phase(self, frame: int, level: float) -> bool:
        """Whether ``frame`` (log difference ``level``) falls on the repeats' phase of the clearest cadence."""
        if len(self._diffs) < self.min_window:
            return False
        best = self.separation
        others_median: float | None = None
        for n in CADENCES:
            phase = frame % n
            mine = sorted(v for f, v in self._diffs if f % n == phase)
            rest = sorted(v for f, v in self._diffs if f % n != phase)
            if len(mine) < 4 or len(rest) < 4:
                continue
            gap = rest[len(rest) // 4] - mine[len(mine) // 2]  # median: a keyframe spoils some of the phase
            if gap >= best:
                best, others_median = gap, rest[len(rest) // 2]
        return others_median is not None and level < others_median - self.log_depth

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
