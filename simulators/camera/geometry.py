"""A tilted pinhole camera on the ground looking up a facade: floors shrink toward the top of the image."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CAMERA_HEIGHT_M = 1.5


@dataclass(frozen=True)
class FacadeCamera:
    """Camera at the origin, facade plane at ``distance`` metres, pitched up by ``tilt`` radians."""

    width: int
    height: int
    distance: float
    tilt: float
    focal: float

    @classmethod
    def framing(cls, width: int, height: int, distance: float, building_height: float,
                top_margin: float = 0.06) -> FacadeCamera:
        """Tilt and focal length that put the roof ``top_margin`` below the top edge and the ground as far above
        the bottom edge."""
        up = math.atan2(building_height - CAMERA_HEIGHT_M, distance)
        down = math.atan2(-CAMERA_HEIGHT_M, distance)
        tilt = (up + down) / 2
        half_span = height * (0.5 - top_margin)
        focal = half_span / math.tan((up - down) / 2)
        return cls(width, height, distance, tilt, focal)

    def project(self, x: NDArray[np.float64] | float, h: NDArray[np.float64] | float,
                z: NDArray[np.float64] | float | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Image (col, row) of points at lateral ``x``, height ``h`` and depth ``z`` (default: on the facade)."""
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(h, dtype=np.float64) - CAMERA_HEIGHT_M
        za = np.asarray(self.distance if z is None else z, dtype=np.float64)
        s, c = math.sin(self.tilt), math.cos(self.tilt)
        depth = ya * s + za * c
        up = ya * c - za * s
        col = self.width / 2 + self.focal * xa / depth
        row = self.height / 2 - self.focal * up / depth
        return col, row

    def row_of_height(self, h: float) -> float:
        return float(self.project(0.0, h)[1])
