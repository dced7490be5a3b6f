"""Background model and foreground mask with whole-frame OpenCV operations only (no per-pixel Python).

Measured on this machine, a loop of OpenCV calls per frame beats one numpy operation over an (N, H, W) stack at
these frame sizes, so the model works frame by frame (see docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Mask = NDArray[np.uint8]
_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class MotionParams:
    """Background model settings, each with the behaviour it is set for."""

    alpha: float = 0.06  # background learning rate per frame: a light switched on is absorbed within ~1.5 s at 20 fps
    threshold: int = 14  # grey levels beyond the 3x3 background range that count as foreground
    jump_level: float = 12.0  # mean |difference| on a sparse grid above which the whole picture changed...
    jump_ratio: float = 3.0  # ...and above this multiple of its usual level (compressed video is never still)
    grid: int = 8  # sampling step of the global-change check
    max_foreground: float = 0.05  # share of the picture; more is flicker (a video keyframe, a flash), not objects


class MotionModel:
    """Running-average background per camera; foreground = differs from the background by more than the threshold
    plus the background's local 3x3 range.

    Adding the local range makes a 1 px camera shake invisible: every edge of the facade moves by at most one
    pixel, which stays inside the neighbourhood's range, while flat sky and wall keep the plain threshold. The
    background and the threshold image are refreshed every other frame (twice the rate), which halves their cost.
    """

    def __init__(self, params: MotionParams | None = None, allowed: Mask | None = None) -> None:
        self.params = params or MotionParams()
        self.allowed = allowed  # 255 where motion counts, 0 in masked areas; same shape as frames
        self._bg: NDArray[np.float32] | None = None
        self._bg8: Mask | None = None
        self._thr: Mask | None = None
        self._n = 0
        self._level = 0.0  # running mean of the sparse difference: sensor noise plus compression artefacts
        self.global_changes = 0

    @property
    def shape(self) -> tuple[int, int] | None:
        """Frame shape the model is seeded for, None before the first frame."""
        return None if self._bg8 is None else (self._bg8.shape[0], self._bg8.shape[1])

    def reset(self, gray: Mask) -> None:
        """Start over from this frame (first frame, resolution change, exposure jump, shake)."""
        self._bg = gray.astype(np.float32)
        self._bg8 = gray.copy()
        self._refresh_threshold()

    def _refresh_threshold(self) -> None:
        if self._bg8 is None:
            return
        spread = cv2.morphologyEx(self._bg8, cv2.MORPH_GRADIENT, _KERNEL)  # 3x3 max - min, in one pass
        self._thr = np.asarray(cv2.convertScaleAbs(spread, alpha=1.0, beta=self.params.threshold), dtype=np.uint8)

    def apply(self, gray: Mask) -> Mask | None:
        """Foreground mask (0/255) for this frame, or None when the frame was used to re-seed the background."""
        if self._bg is None or self._bg8 is None or self._thr is None or self._bg8.shape != gray.shape:
            self.reset(gray)
            return None
        p = self.params
        g = p.grid
        change = float(cv2.mean(cv2.absdiff(gray[::g, ::g], self._bg8[::g, ::g]))[0])
        if change > max(p.jump_level, p.jump_ratio * self._level):  # exposure jump or shake: everything changed
            self.global_changes += 1
            self.reset(gray)
            return None
        self._level = change if self._n == 0 else 0.95 * self._level + 0.05 * change
        fg = cv2.compare(cv2.absdiff(gray, self._bg8), self._thr, cv2.CMP_GT)
        if self.allowed is not None:
            fg = cv2.bitwise_and(fg, self.allowed)
        if cv2.countNonZero(fg) > p.max_foreground * fg.size:
            self.global_changes += 1
            self.reset(gray)
            return None
        self._n += 1
        if self._n % 2 == 0:
            # Foreground pixels learn 6x slower: an object that hangs still for a moment at the window is not
            # absorbed (no ghost left behind when it falls), while a light switched on still fades in.
            cv2.accumulateWeighted(gray, self._bg, 2 * p.alpha, mask=cv2.bitwise_not(fg))
            cv2.accumulateWeighted(gray, self._bg, p.alpha / 3, mask=fg)
            self._bg8 = np.asarray(cv2.convertScaleAbs(self._bg), dtype=np.uint8)
            self._refresh_threshold()
        return np.asarray(fg, dtype=np.uint8)


def mask_image(shape: tuple[int, int], polygons: list[list[tuple[float, float]]], scale: int) -> Mask | None:
    """255 where motion counts, 0 inside the polygons (given in full-resolution px); None when there are none."""
    if not polygons:
        return None
    img = np.full(shape, 255, np.uint8)
    pts = [np.round(np.asarray(poly, dtype=np.float64) / scale).astype(np.int32) for poly in polygons]
    cv2.fillPoly(img, pts, 0)
    return img
