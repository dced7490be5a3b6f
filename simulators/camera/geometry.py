"""A pinhole camera on or above the ground looking up at a facade: tilted, optionally turned (yaw) and rolled.

Coordinates: ``x`` along the facade (m, right), ``h`` height above the ground, ``z`` distance from the camera's
position measured straight out from the facade (the facade is at ``z = distance``). The simulator keeps its own
projection, written apart from the detector's, so the ground truth does not share the detector's assumptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CAMERA_HEIGHT_M = 1.5


@dataclass(frozen=True)
class FacadeCamera:
    """Camera at (``lateral``, ``cam_height``, 0), facade plane at ``distance`` metres, pitched up by ``tilt``,
    turned by ``yaw`` (towards +x) and rolled by ``roll`` (radians).
    """

    width: int
    height: int
    distance: float
    tilt: float
    focal: float
    yaw: float = 0.0
    roll: float = 0.0
    cam_height: float = CAMERA_HEIGHT_M
    lateral: float = 0.0

    @classmethod
    def framing(cls, width: int, height: int, distance: float, building_height: float, top_margin: float = 0.06,
                *, yaw: float = 0.0, roll: float = 0.0, cam_height: float = CAMERA_HEIGHT_M) -> FacadeCamera:
        """Tilt and focal length that put the roof ``top_margin`` below the top edge and the ground as far above
        the bottom edge, with the optical axis through the facade's middle (a yawed camera stands off to the side).
        """
        reach = distance / math.cos(yaw)  # along the ground to the facade's middle
        up = math.atan2(building_height - cam_height, reach)
        down = math.atan2(-cam_height, reach)
        tilt = (up + down) / 2
        half_span = height * (0.5 - top_margin)
        focal = half_span / math.tan((up - down) / 2)
        return cls(width, height, distance, tilt, focal, yaw, roll, cam_height, -distance * math.tan(yaw))

    def _axes(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        ct, st, cy, sy = math.cos(self.tilt), math.sin(self.tilt), math.cos(self.yaw), math.sin(self.yaw)
        fwd = np.array([sy * ct, st, cy * ct])
        right = np.array([cy, 0.0, -sy])
        up = np.cross(fwd, right)
        cr, sr = math.cos(self.roll), math.sin(self.roll)
        return fwd, cr * right - sr * up, cr * up + sr * right

    def project(self, x: NDArray[np.float64] | float, h: NDArray[np.float64] | float,
                z: NDArray[np.float64] | float | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Image (col, row) of points at lateral ``x``, height ``h`` and depth ``z`` (default: on the facade)."""
        rel = np.stack(np.broadcast_arrays(np.asarray(x, dtype=np.float64) - self.lateral,
                                           np.asarray(h, dtype=np.float64) - self.cam_height,
                                           np.asarray(self.distance if z is None else z, dtype=np.float64)),
                       axis=-1)
        fwd, right, up = self._axes()
        depth = rel @ fwd
        col = self.width / 2 + self.focal * (rel @ right) / depth
        row = self.height / 2 - self.focal * (rel @ up) / depth
        return col, row

    def row_of_height(self, h: float, x: float = 0.0) -> float:
        """Image row of height ``h`` on the facade at ``x`` (default: the facade's middle)."""
        return float(self.project(x, h)[1])
