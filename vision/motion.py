"""Background model and foreground mask with whole-frame OpenCV operations only (no per-pixel Python).

Measured on this machine, a loop of OpenCV calls per frame beats one numpy operation over an (N, H, W) stack at
these frame sizes, so the model works frame by frame (see docs/performance.md).

Changing light (a cloud shadow drifting over the facade, the sun coming out) multiplies the picture by a gain that
is smooth over hundreds of pixels, while an object changes a few pixels. With ``follow_light`` the model predicts
the frame as the background times such a gain field, estimated per frame on a coarse grid, and foreground is what
the gain does not explain (docs/cameras.md, "The background under changing light").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.align import Aligner, moved_back

Mask = NDArray[np.uint8]
Gain = NDArray[np.float32]
_KERNEL = np.ones((3, 3), np.uint8)
_CELL = 16  # processing px a side of a gain cell: a shadow spans hundreds of px, an object a cell or two
_STEP = 4  # the cell means are taken on every 4th pixel of every 4th row
_GAIN_ONE = 128  # a gain of 1 in the 8-bit gain field
_ALIGN_EVERY = 16  # frames between refreshes of the move estimate's reference (and at every re-seeding)
_MEDIAN_CELLS = 5  # the gain is the median over 5x5 cells: an object covering fewer than 12 of them leaves it alone


@dataclass(frozen=True)
class MotionParams:
    """Background model settings, each with the behaviour it is set for."""

    alpha: float = 0.06  # background learning rate per frame: a light switched on is absorbed within ~1.5 s at 20 fps
    threshold: int = 14  # grey levels beyond the 3x3 background range that count as foreground
    jump_level: float = 12.0  # mean |difference| on a sparse grid above which the whole picture changed...
    jump_ratio: float = 3.0  # ...and above this multiple of its usual level (compressed video is never still)
    grid: int = 8  # sampling step of the global-change check
    max_foreground: float = 0.05  # share of the picture; more is flicker (a video keyframe, a flash), not objects
    follow_light: bool = True  # predict the frame as background x a smooth gain field (changing light, shadows)
    # move a frame back onto the background when the whole picture moved (`vision/align.py`; docs/performance.md,
    # "The camera's own motion"); False compares every frame as it came
    align: bool = True


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
        self._bg_cells: Gain | None = None  # the background's mean per gain cell (follow_light only)
        self._bg_texture: Gain | None = None  # ...and the standard deviation of its grey levels
        self._diff: Mask | None = None  # scratch images, reused frame after frame (no allocation per frame)
        self._pred: Mask | None = None
        self._field: Mask | None = None
        self._n = 0
        self._level = 0.0  # running mean of the sparse difference: sensor noise plus compression artefacts
        self.global_changes = 0
        self.aligned_frames = 0  # frames moved back onto the background (the camera shook: `vision/align.py`)
        self.shift = (0, 0)  # the last frame's move back, whole px (x, y)
        self._aligner = Aligner()
        self._moved: Mask | None = None
        self.gain: Gain | None = None  # the last frame's gain per cell, None while the light was steady
        self._offset = np.full((1, 1), float(self.params.threshold))  # a scalar to OpenCV: added to every pixel

    @property
    def shape(self) -> tuple[int, int] | None:
        """Frame shape the model is seeded for, None before the first frame."""
        return None if self._bg8 is None else (self._bg8.shape[0], self._bg8.shape[1])

    def reset(self, gray: Mask) -> None:
        """Start over from this frame (first frame, resolution change, exposure jump, shake)."""
        self._bg = gray.astype(np.float32)
        self._bg8 = gray.copy()
        self._diff = np.empty_like(gray)
        self._pred = np.empty_like(gray)
        self._refresh_threshold()
        if self.params.align:
            self._aligner.refresh(self._bg8)

    def _refresh_threshold(self) -> None:
        if self._bg8 is None:
            return
        # the 3x3 range (max - min) as two separate passes: the same image as MORPH_GRADIENT at a fraction of its
        # cost here (docs/performance.md, the Vision bench note "2026-12-01, late")
        spread = cv2.absdiff(cv2.dilate(self._bg8, _KERNEL), cv2.erode(self._bg8, _KERNEL))
        self._thr = np.asarray(cv2.add(spread, self._offset), dtype=np.uint8)  # saturates at 255
        if self.params.follow_light:
            self._bg_cells, self._bg_texture = self._cells(self._bg8)

    def _cells(self, img: Mask) -> tuple[Gain, Gain]:
        """Mean grey level and its standard deviation (the texture) per gain cell (``_CELL`` px a side, whole cells
        from the top left), from every 4th pixel of every 4th row: 16 samples a cell.
        """
        rows, cols = max(1, img.shape[0] // _CELL), max(1, img.shape[1] // _CELL)
        sparse = np.ascontiguousarray(img[:rows * _CELL:_STEP, :cols * _CELL:_STEP], dtype=np.float32)
        mean = cv2.resize(sparse, (cols, rows), interpolation=cv2.INTER_AREA)
        square = cv2.resize(sparse * sparse, (cols, rows), interpolation=cv2.INTER_AREA)
        spread = np.sqrt(np.maximum(square - mean * mean, 0.0))
        return np.asarray(mean, dtype=np.float32), np.asarray(spread, dtype=np.float32)

    def light_gain(self, gray: Mask) -> Gain | None:
        """The gain per cell that turns the background into this frame, or None when it changes no cell by half
        the threshold (steady light: the plain background is the prediction, at no extra cost).

        The ratio of cell means is taken over 5x5 cells by its median, so an object (a cell or two) does not move
        it while a shadow's edge, hundreds of pixels long, stays where it is.
        """
        if self._bg_cells is None or self._bg_texture is None or min(self._bg_cells.shape) <= _MEDIAN_CELLS // 2:
            return None  # (a picture a few cells across cannot tell a change of light from an object)
        level = self.params.threshold / 2
        mean, texture = self._cells(gray)
        ratio = cv2.divide(mean + 1.0, self._bg_cells + 1.0)
        # light scales a cell's texture with its mean; something in front of the wall (a sheet, a curtain, a
        # bird at the lens) replaces it: where a textured cell's spread did not follow within a factor 2, the
        # change is not light, and that cell keeps a gain of 1 in the median
        expected = ratio * self._bg_texture
        replaced = (self._bg_texture >= level) & ((texture < 0.5 * expected) | (texture > 2.0 * expected))
        ratio[replaced] = 1.0
        r = _MEDIAN_CELLS // 2  # mirrored at the picture's edge: an edge cell then counts once in its window,
        padded = cv2.copyMakeBorder(ratio, r, r, r, r, cv2.BORDER_REFLECT_101)  # not three times (replicated)
        gain = np.ascontiguousarray(cv2.medianBlur(padded, _MEDIAN_CELLS)[r:-r, r:-r], dtype=np.float32)
        explained = self._bg_cells * gain
        if float(np.abs(explained - self._bg_cells).max()) < level:
            return None
        return gain

    def _predicted(self, gain: Gain) -> Mask:
        """The background times the gain field, interpolated from the cell centres to every pixel.

        The field is carried in 8 bits (gain x 128, so up to 1.99 in steps of 1/128: under a grey level below
        the threshold's 14): 8-bit resize and multiply cost a fraction of their float versions. A strip past the
        last whole cell takes the gain of the cells beside it (one cell of the grid repeated).
        """
        if self._bg8 is None or self._pred is None:
            raise RuntimeError("the background model has no background yet")
        h, w = self._bg8.shape
        fixed = cv2.convertScaleAbs(gain, alpha=_GAIN_ONE)
        rows, cols = fixed.shape
        pad_r, pad_c = int(rows * _CELL < h), int(cols * _CELL < w)
        if pad_r or pad_c:
            fixed = cv2.copyMakeBorder(fixed, 0, pad_r, 0, pad_c, cv2.BORDER_REPLICATE)
        size = ((cols + pad_c) * _CELL, (rows + pad_r) * _CELL)
        if self._field is None or self._field.shape != (size[1], size[0]):
            self._field = np.empty((size[1], size[0]), np.uint8)
        cv2.resize(fixed, size, dst=self._field, interpolation=cv2.INTER_LINEAR)
        field = self._field if self._field.shape == (h, w) else self._field[:h, :w]
        cv2.multiply(self._bg8, field, dst=self._pred, scale=1.0 / _GAIN_ONE)
        return self._pred

    def apply(self, gray: Mask) -> Mask | None:
        """Foreground mask (0/255) for this frame, or None when the frame was used to re-seed the background."""
        if self._bg is None or self._bg8 is None or self._thr is None or self._bg8.shape != gray.shape:
            self.reset(gray)
            return None
        p = self.params
        g = p.grid
        self.shift = self._aligner.shift(gray, self._bg8) if p.align else (0, 0)
        if self.shift != (0, 0):  # the camera moved: compare (and learn) the frame moved back onto the background
            self.aligned_frames += 1
            scratch = self._moved if self._moved is not None and self._moved.shape == gray.shape else None
            gray = self._moved = moved_back(gray, self._bg8, *self.shift, out=scratch)
        change = float(cv2.mean(cv2.absdiff(gray[::g, ::g], self._bg8[::g, ::g]))[0])
        if change > max(p.jump_level, p.jump_ratio * self._level):  # exposure jump or shake: everything changed
            self.global_changes += 1
            self.reset(gray)
            return None
        self._level = change if self._n == 0 else 0.95 * self._level + 0.05 * change
        self.gain = self.light_gain(gray) if p.follow_light else None
        reference = self._bg8 if self.gain is None else self._predicted(self.gain)
        diff = cv2.absdiff(gray, reference, dst=self._diff)
        fg = cv2.compare(diff, self._thr, cv2.CMP_GT)
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
            cv2.accumulateWeighted(gray, self._bg, 2 * p.alpha, mask=cv2.bitwise_not(fg, dst=self._diff))
            cv2.accumulateWeighted(gray, self._bg, p.alpha / 3, mask=fg)
            self._bg8 = np.asarray(cv2.convertScaleAbs(self._bg), dtype=np.uint8)
            self._refresh_threshold()
            if p.align and self._n % _ALIGN_EVERY == 0:  # the move's reference ages as slowly as the background
                self._aligner.refresh(self._bg8)
        return np.asarray(fg, dtype=np.uint8)


def mask_image(shape: tuple[int, int], polygons: list[list[tuple[float, float]]], scale: int) -> Mask | None:
    """255 where motion counts, 0 inside the polygons (given in full-resolution px); None when there are none."""
    if not polygons:
        return None
    img = np.full(shape, 255, np.uint8)
    pts = [np.round(np.asarray(poly, dtype=np.float64) / scale).astype(np.int32) for poly in polygons]
    cv2.fillPoly(img, pts, 0)
    return img
