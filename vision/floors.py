"""Floor calibration: image row <-> height on the facade <-> floor number, and x -> window column.

Floors are compressed toward the top of the image (the camera looks up), so heights are interpolated piecewise
between the calibrated floor boundaries rather than with one scale.
"""

from __future__ import annotations

import bisect

import numpy as np
from numpy.typing import NDArray

from vision.camera_config import CameraConfig


def row_to_height(cfg: CameraConfig, rows: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Height in metres above the lowest calibrated boundary; linear extrapolation past either end."""
    lines = np.asarray(cfg.floor_lines, dtype=np.float64)
    heights = np.arange(len(lines), dtype=np.float64) * cfg.floor_height_m
    r = np.atleast_1d(np.asarray(rows, dtype=np.float64))
    xp, fp = lines[::-1], heights[::-1]  # increasing rows for np.interp
    out = np.interp(r, xp, fp)
    below = r > lines[0]
    if below.any():
        slope = (heights[1] - heights[0]) / (lines[1] - lines[0])
        out[below] = heights[0] + (r[below] - lines[0]) * slope
    above = r < lines[-1]
    if above.any():
        slope = (heights[-1] - heights[-2]) / (lines[-1] - lines[-2])
        out[above] = heights[-1] + (r[above] - lines[-1]) * slope
    return out


def height_to_floor(cfg: CameraConfig, height: float) -> int:
    """The floor that contains ``height`` (floor ``first_floor`` starts at height 0)."""
    return cfg.first_floor + int(np.floor(height / cfg.floor_height_m))


def row_to_floor(cfg: CameraConfig, row: float) -> int | None:
    """Floor ``first_floor + i`` spans rows ``floor_lines[i+1]..floor_lines[i]``; None without calibration."""
    if not cfg.calibrated:
        return None
    return height_to_floor(cfg, float(row_to_height(cfg, row)[0]))


def x_to_column(cfg: CameraConfig, x: float) -> int | None:
    """Window column index (0-based, left to right) or None when uncalibrated or outside the columns."""
    cols = cfg.window_columns
    if len(cols) < 2 or x < cols[0] or x >= cols[-1]:
        return None
    return bisect.bisect_right(cols, x) - 1


def height_to_row(cfg: CameraConfig, height: float) -> float:
    """Inverse of ``row_to_height`` (the mapping is monotonic), by bisection-free interpolation on a fine grid."""
    lines = np.asarray(cfg.floor_lines, dtype=np.float64)
    top, bottom = lines[-1] - 4 * (lines[-2] - lines[-1]), lines[0] + 4 * (lines[0] - lines[1])
    rows = np.linspace(top, bottom, 2048)
    heights = row_to_height(cfg, rows)  # decreasing with the row
    return float(np.interp(height, heights[::-1], rows[::-1]))
