"""A camera on or above the ground looking up at a facade: tilted, optionally turned (yaw) and rolled, with an
optional radial lens distortion.

Coordinates: ``x`` along the facade (m, right), ``h`` height above the ground, ``z`` distance from the camera's
position measured straight out from the facade (the facade is at ``z = distance``). The simulator keeps its own
projection, written apart from the detector's, so the ground truth does not share the detector's assumptions.

Lens distortion follows the usual radial model (OpenCV's k1, k2): a ray at normalised pinhole coordinates ``x``
lands at ``x (1 + k1 r^2 + k2 r^4)`` times the lens focal length. The renderer draws the world through the pinhole
(``pinhole``) and then warps the whole frame (``undistort_px`` gives, for each output pixel, where to sample), so
everything drawn, and the ground truth from ``project``, bends the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

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
    k1: float = 0.0
    k2: float = 0.0
    lens_focal: float = 0.0  # focal length (px) of the distorted image; 0: the pinhole's own

    @property
    def distorted(self) -> bool:
        """Whether the lens bends straight lines."""
        return bool(self.k1 or self.k2)

    def with_lens(self, k1: float, k2: float) -> FacadeCamera:
        """The same pose behind a lens with radial terms ``k1``, ``k2``, zoomed just enough that every pixel of the
        distorted frame sees a point inside the pinhole frame (no empty border, whatever the sign of ``k1``).
        """
        if not (k1 or k2):
            return replace(self, k1=0.0, k2=0.0, lens_focal=0.0)
        zoom = _fill_zoom(self.width, self.height, self.focal, k1, k2)
        return replace(self, k1=k1, k2=k2, lens_focal=zoom * self.focal)

    def distort_px(self, col: NDArray[np.float64], row: NDArray[np.float64]) -> tuple[NDArray[np.float64],
                                                                                        NDArray[np.float64]]:
        """Where the lens puts pinhole image points (col, row)."""
        if not self.distorted:
            return col, row
        cx, cy = self.width / 2, self.height / 2
        x, y = (col - cx) / self.focal, (row - cy) / self.focal
        r2 = x * x + y * y
        gain = (1 + self.k1 * r2 + self.k2 * r2 * r2) * self.lens_focal
        return cx + x * gain, cy + y * gain

    def undistort_px(self, col: NDArray[np.float64], row: NDArray[np.float64]) -> tuple[NDArray[np.float64],
                                                                                          NDArray[np.float64]]:
        """Pinhole image points that the lens puts at distorted points (col, row): the inverse of ``distort_px``."""
        if not self.distorted:
            return col, row
        cx, cy = self.width / 2, self.height / 2
        pts = np.stack([(col - cx) / self.lens_focal, (row - cy) / self.lens_focal], axis=-1)
        und = _undistort_norm(pts, self.k1, self.k2) * self.focal
        return cx + und[..., 0], cy + und[..., 1]

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

    @property
    def corner_radius(self) -> float:
        """Normalised pinhole radius of the frame's corner (how wide the lens is)."""
        return math.hypot(self.width / 2, self.height / 2) / self.focal

    def _axes(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        ct, st, cy, sy = math.cos(self.tilt), math.sin(self.tilt), math.cos(self.yaw), math.sin(self.yaw)
        fwd = np.array([sy * ct, st, cy * ct])
        right = np.array([cy, 0.0, -sy])
        up = np.cross(fwd, right)
        cr, sr = math.cos(self.roll), math.sin(self.roll)
        return fwd, cr * right - sr * up, cr * up + sr * right

    def project(self, x: NDArray[np.float64] | float, h: NDArray[np.float64] | float,
                z: NDArray[np.float64] | float | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Image (col, row), through the lens, of points at lateral ``x``, height ``h`` and depth ``z`` (default:
        on the facade): where they appear in the delivered frame.
        """
        col, row = self.pinhole(x, h, z)
        return self.distort_px(col, row)

    def pinhole(self, x: NDArray[np.float64] | float, h: NDArray[np.float64] | float,
                z: NDArray[np.float64] | float | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Image (col, row) of the same points through an ideal pinhole: where the renderer draws them."""
        rel = np.stack(np.broadcast_arrays(np.asarray(x, dtype=np.float64) - self.lateral,
                                           np.asarray(h, dtype=np.float64) - self.cam_height,
                                           np.asarray(self.distance if z is None else z, dtype=np.float64)),
                       axis=-1)
        fwd, right, up = self._axes()
        depth = rel @ fwd
        col = self.width / 2 + self.focal * (rel @ right) / depth
        row = self.height / 2 - self.focal * (rel @ up) / depth
        return col, row

    def row_of_height(self, h: float, x: float = 0.0, *, lens: bool = True) -> float:
        """Image row of height ``h`` on the facade at ``x`` (default: the facade's middle), through the lens or
        (``lens=False``) through the pinhole.
        """
        return float((self.project if lens else self.pinhole)(x, h)[1])


@lru_cache(maxsize=256)
def _fill_zoom(width: int, height: int, focal: float, k1: float, k2: float) -> float:
    """Lens focal over pinhole focal at which the distorted frame's border just stays inside the pinhole frame."""
    w, h = width / 2, height / 2
    t = np.linspace(-1.0, 1.0, 101)
    edge = np.concatenate([np.stack([t * w, np.full_like(t, h)], 1), np.stack([np.full_like(t, w), t * h], 1)])
    lo, hi = 0.6, 1.8  # a larger zoom samples nearer the centre
    for _ in range(40):
        zoom = (lo + hi) / 2
        x = _undistort_norm(edge / (zoom * focal), k1, k2) * focal
        inside = bool(np.all(np.abs(x[:, 0]) <= w - 1.0) & np.all(np.abs(x[:, 1]) <= h - 1.0))
        lo, hi = (lo, zoom) if inside else (zoom, hi)
    return hi


def _undistort_norm(pts: NDArray[np.float64], k1: float, k2: float) -> NDArray[np.float64]:
    """Normalised points ``u`` with ``u (1 + k1 |u|^2 + k2 |u|^4) = pts``. The lens is radial, so this inverts
    the 1-D radius map by interpolation in a fine table; radii the lens never reaches (past the point where the
    map stops growing) come back as inf.
    """
    radius = np.sqrt(np.sum(pts * pts, axis=-1))
    top = float(radius.max()) * 1.5 + 1e-6
    r_u = np.linspace(0.0, top, 20_001)
    r_d = r_u * (1 + k1 * r_u**2 + k2 * r_u**4)
    falling = np.flatnonzero(np.diff(r_d) <= 0)
    end = int(falling[0]) + 1 if falling.size else len(r_u)
    r_u, r_d = r_u[:end], r_d[:end]
    gain = np.interp(radius, r_d, r_u) / np.maximum(radius, 1e-12)
    gain = np.where(radius < 1e-12, 1.0, gain)[..., None]
    return np.where((radius > r_d[-1])[..., None], np.inf, pts * gain)
