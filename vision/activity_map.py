"""A camera's activity map: where in the picture motion is habitual (a tree, a flag, a road, a rain-chain).

The picture is cut into a coarse grid of whole cells (``cell_px`` processing pixels a side, from the top left
corner; a strip narrower than a cell at the right and bottom edge counts with the cells beside it when a track is
judged, and is not watched: it is less than a cell wide). Every frame, each cell is *active*
when a little of it is foreground, and each cell keeps an exponentially weighted rate of active frames with a time
constant of hours, so the map learns the camera's usual motion and forgets a tree that was cut down. The update is
two whole-array OpenCV operations on the small grid (an area resize of the foreground mask and a weighted
accumulate), whatever the number of cells.

How the map enters a verdict (one model, one parameter besides the time scales): the classifier's evidence margin
``min_evidence`` was set for footage where a fall-like track of noise is rare. Some motion is everywhere (sensor
noise, rain, snow): the picture's usual rate ``b``, the median over its cells, is weather, not a place; a cell is
ordinary up to ``o = b + q`` (tolerance ``q``). Habitual motion in a cell of rate ``r`` is there in a given frame
with probability ``r``, ordinary motion with ``o``. A tree's blobs in one cell are one swaying thing frame after
frame, not independent evidence, so each cell the track passes counts once: the odds that the track is habitual
motion rather than what ordinary footage produces are the product over the distinct cells of ``max(r, o) / o``.
A fall needs the same posterior odds everywhere, so its BIC margin (twice the log Bayes factor) must grow by
``2 * sum over the distinct cells of ln(max(r, o) / o)``. A fall through ordinary cells needs exactly what it
needed before; each busy cell asks for at most ``2 ln(1 / o)`` more (7.8 on a clean camera). A fall crosses a cell
in a frame or two and gains margin with every point, while a nuisance track lingers in a few busy cells, so a
clearly explained fall still comes through: the map raises the evidence needed instead of blacking cells out.

Until the map has seen ``warmup_h`` hours of frames it has no effect. Masks come first: masked pixels are never
foreground, so they never make activity, and nothing is detected there at all.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

_MAGIC = b"EWAM"
_VERSION = 1
_HEADER = struct.Struct(">4sHHHHHHd")  # magic, version, rows, cols, height, width, scale, observed seconds
Coords = Sequence[float] | NDArray[np.float64]
MAX_GAP_S = 1.0  # a longer pause between frames (a silent camera) is not time the map watched


@dataclass(frozen=True)
class ActivityParams:
    """The map's few numbers; each stands for a fact about habitual motion or the footage."""

    cell_px: int = 16  # processing px a cell side: coarse, a tree's crown is several cells, a falling object one
    tau_h: float = 6.0  # time constant of the rates: a day's weather and light mix in, last month's do not
    warmup_h: float = 1.0  # watched time before the map has any effect (a fresh map knows nothing)
    min_share: float = 2 / 256  # share of a cell in the foreground (2 px of 256) that makes it active in a frame
    quiet_rate: float = 0.02  # q: how far above the picture's usual rate a cell may move and still be ordinary


class ActivityMap:
    """Exponentially weighted rate of foreground per grid cell, for one camera at one frame size."""

    def __init__(self, params: ActivityParams | None = None) -> None:
        self.params = params or ActivityParams()
        self.shape: tuple[int, int] | None = None  # processing frame (height, width) the grid covers
        self.scale = 1  # full-resolution px per processing px
        self.observed_s = 0.0  # seconds of frames the rates are made of
        self._rates = np.zeros((0, 0), np.float32)  # weighted sum, not yet divided by the total weight
        self._last_t: float | None = None

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, cols) of the grid; (0, 0) before a frame size is known."""
        return self._rates.shape[0], self._rates.shape[1]

    @property
    def warm(self) -> bool:
        """Whether the map has watched long enough to have any effect."""
        return self.shape is not None and self.observed_s >= self.params.warmup_h * 3600.0

    def fit(self, shape: tuple[int, int], scale: int) -> None:
        """Use the map for frames of ``shape`` decoded at 1/``scale``; a different size than it learnt starts over
        (its cells would lie elsewhere in the picture).
        """
        self._last_t = None
        if self.shape == shape and self.scale == scale and self.grid == self._whole_cells(shape):
            return  # (a map stored with cells of another size, or an earlier grid, starts over too)
        self.shape, self.scale, self.observed_s = shape, scale, 0.0
        self._rates = np.zeros(self._whole_cells(shape), np.float32)

    def update(self, foreground: NDArray[np.uint8], t: float) -> None:
        """Add one frame's foreground mask (0/255, the fitted shape) seen at ``t`` seconds."""
        if self.shape is None or foreground.shape != self.shape:
            return
        last, self._last_t = self._last_t, t
        dt = 0.0 if last is None else t - last
        if not 0.0 < dt <= MAX_GAP_S:  # the first frame, a restart of the clock, or a silence: no time watched
            return
        rows, cols = self.grid
        cell = self.params.cell_px
        # whole cells only: an integer factor takes OpenCV's block-mean path, ~8x cheaper than a fractional one
        whole = foreground[:rows * cell, :cols * cell]
        share = cv2.resize(whole, (cols, rows), interpolation=cv2.INTER_AREA)  # mean of 0/255 per cell
        active = (share > self.params.min_share * 255.0).astype(np.float32)
        cv2.accumulateWeighted(active, self._rates, 1.0 - math.exp(-dt / (self.params.tau_h * 3600.0)))
        self.observed_s += dt

    def rates(self) -> NDArray[np.float32]:
        """Each cell's share of active frames, 0-1: the weighted sum over the weight the watched time has."""
        weight = 1.0 - math.exp(-self.observed_s / (self.params.tau_h * 3600.0))
        if weight <= 0.0:
            return np.zeros_like(self._rates)
        return np.asarray(np.clip(self._rates / weight, 0.0, 1.0), dtype=np.float32)

    def extra_evidence(self, xs: Coords, ys: Coords) -> float:
        """The BIC margin a fall along these points (processing px) needs on top of the base one: 0 while cold and
        along ordinary cells, ``2 * sum of ln(max(r, o) / o)`` over the distinct cells otherwise (module docstring).
        """
        if not self.warm or self.shape is None or len(xs) == 0:
            return 0.0
        rows, cols = self.grid
        cell = self.params.cell_px
        r = np.clip((np.asarray(ys) // cell).astype(np.int64), 0, rows - 1)  # the strip past the last whole
        c = np.clip((np.asarray(xs) // cell).astype(np.int64), 0, cols - 1)  # cell counts in the cell beside it
        rates = self.rates()
        ordinary = self.usual_rate(rates) + self.params.quiet_rate
        cells = np.unique(r * cols + c)  # each cell once: a swaying thing's blobs in one cell are one thing
        return 2.0 * float(np.log(np.maximum(rates.ravel()[cells], ordinary) / ordinary).sum())

    @staticmethod
    def usual_rate(rates: NDArray[np.float32]) -> float:
        """The picture's usual rate ``b``: the median over its cells (noise, rain and snow are everywhere)."""
        return float(np.median(rates)) if rates.size else 0.0

    def cell_px_full(self) -> float:
        """A cell's side in full-resolution px: exactly ``cell_px`` processing px (the grid covers the frame from
        its top left corner in whole cells; a strip narrower than a cell at the right and bottom is left over).
        """
        return float(self.params.cell_px * self.scale)

    def _whole_cells(self, shape: tuple[int, int]) -> tuple[int, int]:
        """(rows, cols) of whole cells in a frame of ``shape`` (at least one of each)."""
        cell = self.params.cell_px
        return max(1, shape[0] // cell), max(1, shape[1] // cell)

    def to_bytes(self) -> bytes:
        """The map as stored: a fixed header, then the cells' weighted sums as big-endian float32."""
        if self.shape is None:
            raise ValueError("an activity map without a frame size has nothing to store")
        rows, cols = self.grid
        head = _HEADER.pack(_MAGIC, _VERSION, rows, cols, self.shape[0], self.shape[1], self.scale, self.observed_s)
        return head + self._rates.astype(">f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, params: ActivityParams | None = None) -> ActivityMap:
        """A stored map; raises ``ValueError`` naming what is wrong with bytes that are not one."""
        if len(data) < _HEADER.size:
            raise ValueError(f"activity map: {len(data)} bytes is shorter than its header")
        magic, version, rows, cols, height, width, scale, observed = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION:
            raise ValueError("activity map: not a version 1 activity map")
        if min(rows, cols, height, width, scale) < 1 or not math.isfinite(observed) or observed < 0:
            raise ValueError("activity map: header out of range")
        body = data[_HEADER.size:]
        if len(body) != rows * cols * 4:
            raise ValueError(f"activity map: {len(body)} bytes of cells for a {rows}x{cols} grid")
        values = np.frombuffer(body, ">f4").astype(np.float32).reshape(rows, cols)
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
            raise ValueError("activity map: cell values outside 0-1")
        out = cls(params)
        out.shape, out.scale, out.observed_s = (height, width), scale, observed
        out._rates = values.copy()
        return out
