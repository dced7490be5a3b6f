"""Camera geometry from the calibration: a pinhole camera in facade coordinates, fitted to what CAMERA.json says.

World frame (metres): X along the facade (image right), Y up from the ground (the bottom of floor 1), Z out of the
facade towards the camera. ``floor_lines`` with ``floor_height_m`` are image rows of known heights on the plane
Z = 0; with the principal point at the image centre and the camera height fixed (1.5 m unless CAMERA.json says
otherwise) they determine tilt, distance and focal length: a line's projective map has three degrees of freedom,
and a camera that only tilts has four parameters, so one (the height) must be given. Four image points of a known
facade rectangle (``facade_rect``) give the full rotation (yaw, roll, tilt) through the plane's homography.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.camera_config import CameraConfig

Array = NDArray[np.float64]
DEFAULT_CAMERA_HEIGHT_M = 1.5


@dataclass(frozen=True)
class PinholeCamera:
    """World-to-image projection: ``R`` rotates world offsets into camera axes (x right, y down, z forward)."""

    f: float
    cx: float
    cy: float
    R: Array  # (3, 3)
    C: Array  # (3,) camera centre in world metres

    def camera_coords(self, pts: Array) -> Array:
        """(..., 3) world points in camera axes."""
        return np.asarray((pts - self.C) @ self.R.T, dtype=np.float64)

    def project(self, pts: Array) -> Array:
        """(..., 2) image (col, row) of (..., 3) world points (points behind the camera come out as NaN)."""
        pc = self.camera_coords(pts)
        z = np.where(pc[..., 2] > 1e-6, pc[..., 2], np.nan)
        return np.stack([self.cx + self.f * pc[..., 0] / z, self.cy + self.f * pc[..., 1] / z], axis=-1)

    def rays(self, pix: Array) -> Array:
        """(N, 3) unit directions (world) of the rays through (N, 2) image points (col, row)."""
        d = np.column_stack([(pix[:, 0] - self.cx) / self.f, (pix[:, 1] - self.cy) / self.f,
                             np.ones(len(pix))]) @ self.R
        return np.asarray(d / np.linalg.norm(d, axis=1, keepdims=True), dtype=np.float64)

    def on_facade(self, col: float, row: float, out_m: float = 0.0) -> Array:
        """World point where the ray through (col, row) meets the plane ``out_m`` metres out from the facade."""
        return np.asarray(self.facade_points(np.array([[col, row]], dtype=np.float64), out_m)[0], dtype=np.float64)

    def facade_points(self, pix: Array, out_m: float = 0.0) -> Array:
        """(N, 3) world points where the rays through (N, 2) image points meet the plane ``out_m`` metres out
        from the facade (a ray parallel to it stays at the camera).
        """
        d = self.rays(pix)
        parallel = np.abs(d[:, 2]) <= 1e-9
        s = np.where(parallel, 0.0, (out_m - self.C[2]) / np.where(parallel, 1.0, d[:, 2]))
        return np.asarray(self.C + s[:, None] * d, dtype=np.float64)

    @property
    def distance(self) -> float:
        """Camera's distance from the facade plane (m)."""
        return float(self.C[2])

    @property
    def angles_deg(self) -> tuple[float, float, float]:
        """(tilt up, yaw right, roll) in degrees, read off the rotation."""
        fwd = self.R[2]  # optical axis in world coordinates
        tilt = math.degrees(math.asin(float(np.clip(fwd[1], -1, 1))))
        yaw = math.degrees(math.atan2(float(fwd[0]), float(-fwd[2])))
        right0 = np.array([math.cos(math.radians(yaw)), 0.0, math.sin(math.radians(yaw))])  # level, across the axis
        down0 = np.cross(fwd, right0)
        roll = math.degrees(math.atan2(float(self.R[0] @ down0), float(self.R[0] @ right0)))
        return tilt, yaw, roll


def rotation(tilt: float, yaw: float = 0.0, roll: float = 0.0) -> Array:
    """World-to-camera rotation of a camera facing the facade (towards -Z), pitched up by ``tilt``, turned right
    by ``yaw`` and rolled by ``roll`` (radians).
    """
    ct, st, cy_, sy, cr, sr = (math.cos(tilt), math.sin(tilt), math.cos(yaw), math.sin(yaw), math.cos(roll),
                               math.sin(roll))
    fwd = np.array([sy * ct, st, -cy_ * ct])
    right0 = np.array([cy_, 0.0, sy])
    down0 = np.cross(fwd, right0)
    right = cr * right0 + sr * down0
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd])


def camera(f: float, width: int, height: int, distance: float, cam_height: float, tilt: float,
           yaw: float = 0.0, roll: float = 0.0, lateral: float = 0.0) -> PinholeCamera:
    """A camera at ``distance`` m from the facade, ``cam_height`` m up, ``lateral`` m along it."""
    return PinholeCamera(f, width / 2, height / 2, rotation(tilt, yaw, roll),
                         np.array([lateral, cam_height, distance], dtype=np.float64))


def line_heights(cfg: CameraConfig) -> Array:
    """Heights (m above the ground) of the calibrated floor boundaries."""
    return (cfg.first_floor - 1 + np.arange(len(cfg.floor_lines), dtype=np.float64)) * cfg.floor_height_m


def _rows(theta: Array, f: Array, dist: Array, rel_h: Array, cy: float) -> Array:
    """Image rows of facade heights ``rel_h`` (relative to the camera) for batches of (tilt, focal, distance)."""
    return np.asarray(cy - f[..., None] * np.tan(np.arctan2(rel_h, dist[..., None]) - theta[..., None]),
                      dtype=np.float64)


def fit_floor_lines(cfg: CameraConfig, width: int, height: int) -> tuple[PinholeCamera, float]:
    """Least-squares tilt, distance and focal length from the floor lines (camera height fixed); returns the
    camera and the RMS row residual in px.

    A coarse grid over tilt and distance (focal length in closed form for each) finds the basin; Gauss-Newton
    with a numerical Jacobian refines it. Everything is whole-array over the grid.
    """
    rows = np.asarray(cfg.floor_lines, dtype=np.float64)
    cam_h = cfg.camera_height_m if cfg.camera_height_m is not None else DEFAULT_CAMERA_HEIGHT_M
    rel = line_heights(cfg) - cam_h
    cy = height / 2
    grid_th, grid_d = np.meshgrid(np.radians(np.linspace(-10, 85, 96)), np.geomspace(3, 400, 120), indexing="ij")
    th, dist = grid_th.ravel(), grid_d.ravel()
    basis = -np.tan(np.arctan2(rel[None, :], dist[:, None]) - th[:, None])  # row - cy = f * basis
    target = rows - cy
    f = np.clip((basis * target).sum(axis=1) / np.maximum((basis * basis).sum(axis=1), 1e-12), 10, 1e5)
    err = ((_rows(th, f, dist, rel, cy) - rows) ** 2).sum(axis=1)
    best = int(np.argmin(err))
    p = np.array([th[best], math.log(f[best]), math.log(dist[best])])
    for _ in range(30):
        p = _gauss_newton_step(p, rel, rows, cy)
    theta, f_best, d_best = float(p[0]), math.exp(p[1]), math.exp(p[2])
    resid = _rows(np.array(theta), np.array(f_best), np.array(d_best), rel, cy) - rows
    return camera(f_best, width, height, d_best, cam_h, theta), float(np.sqrt(np.mean(resid**2)))


def _gauss_newton_step(p: Array, rel: Array, rows: Array, cy: float) -> Array:
    """One damped Gauss-Newton step on (tilt, log focal, log distance)."""
    eps = np.array([1e-6, 1e-6, 1e-6])
    ps = np.vstack([p, p + np.diag(eps)])  # (4, 3): the point and one nudge per parameter
    pred = _rows(ps[:, 0], np.exp(ps[:, 1]), np.exp(ps[:, 2]), rel, cy)
    r = pred[0] - rows
    jac = ((pred[1:] - pred[0]) / eps[:, None]).T  # (N, 3)
    jtj = jac.T @ jac
    step = np.linalg.solve(jtj + 1e-6 * np.trace(jtj) * np.eye(3) + 1e-12 * np.eye(3), -jac.T @ r)
    return np.asarray(p + step, dtype=np.float64)


def fit_facade(cfg: CameraConfig, width: int, height: int) -> PinholeCamera:
    """Camera from the facade rectangle's homography: focal length from the orthogonality of the plane's axes
    (falling back to the floor-line fit's when the view is too frontal to tell), then rotation and centre.
    """
    rect = cfg.facade_rect
    if rect is None:
        raise ValueError("no facade_rect in the camera configuration")
    x0, y0 = rect.origin_m
    world = np.array([[x0, y0], [x0 + rect.width_m, y0], [x0 + rect.width_m, y0 + rect.height_m],
                      [x0, y0 + rect.height_m]], dtype=np.float64)
    img = np.asarray(rect.points, dtype=np.float64)
    hom = cv2.getPerspectiveTransform(world.astype(np.float32), img.astype(np.float32)).astype(np.float64)
    cx, cy = width / 2, height / 2
    a = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], dtype=np.float64) @ hom
    f = _focal_from_homography(a)
    if f is None:
        if not cfg.calibrated:
            raise ValueError("facade_rect is too frontal to give the focal length: add floor_lines")
        f = fit_floor_lines(cfg, width, height)[0].f
    m = np.diag([1 / f, 1 / f, 1.0]) @ a
    lam = 2.0 / (np.linalg.norm(m[:, 0]) + np.linalg.norm(m[:, 1]))
    m *= lam if m[2, 2] > 0 else -lam  # the rectangle lies in front of the camera
    r1, r2 = m[:, 0], m[:, 1]
    u, _, vt = np.linalg.svd(np.column_stack([r1, r2, np.cross(r1, r2)]))
    rot = u @ vt  # nearest rotation: camera axes from world axes (world X, Y, Z in its columns)
    centre = -rot.T @ m[:, 2]
    return PinholeCamera(f, cx, cy, rot, np.asarray(centre, dtype=np.float64))


def _focal_from_homography(a: Array) -> float | None:
    """Focal length that makes the plane's two axes orthogonal and equally long; None when degenerate."""
    cands = []
    den1 = a[2, 0] * a[2, 1]
    if abs(den1) > 1e-12:
        cands.append(-(a[0, 0] * a[0, 1] + a[1, 0] * a[1, 1]) / den1)
    den2 = a[2, 0] ** 2 - a[2, 1] ** 2
    if abs(den2) > 1e-12:
        cands.append((a[0, 1] ** 2 + a[1, 1] ** 2 - a[0, 0] ** 2 - a[1, 0] ** 2) / den2)
    good = [math.sqrt(c) for c in cands if c > 0 and 50 < math.sqrt(c) < 1e5]
    return float(np.median(good)) if good else None


def camera_for(cfg: CameraConfig, width: int, height: int) -> PinholeCamera | None:
    """The best camera the calibration allows: facade rectangle first, then floor lines; None without either."""
    if cfg.facade_rect is not None:
        return fit_facade(cfg, width, height)
    if cfg.calibrated and len(cfg.floor_lines) >= 3:
        return fit_floor_lines(cfg, width, height)[0]
    return None
