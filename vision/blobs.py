"""Blobs from a foreground mask: outer contours, reduced to box centres and box areas with array operations.

Measured here on a 960x540 mask in rain: ``connectedComponentsWithStats`` ~3.4 ms, labels plus ``bincount``
sums ~0.6 ms, outer contours plus ``reduceat`` ~0.2 ms. For objects of a few pixels the box centre is the
centroid to within half a pixel, which is all the tracker needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.motion import Mask

_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class Blobs:
    """Box centres (x, y) and box areas in processing pixels, one row per blob."""

    xy: NDArray[np.float64]
    area: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.area.shape[0])


EMPTY = Blobs(np.zeros((0, 2)), np.zeros(0, np.int64))


def extract(fg: Mask, *, max_area: int, max_blobs: int = 400) -> Blobs:
    """Blobs of the mask dilated by one pixel (which joins the fragments a threshold splits); blobs larger than
    ``max_area`` (insects on the lens, trees) are dropped here.
    """
    if cv2.countNonZero(fg) == 0:
        return EMPTY
    # straight runs compressed to their end points, which still include every contour's extreme rows and columns
    contours, _ = cv2.findContours(cv2.dilate(fg, _KERNEL), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return EMPTY
    lengths = np.fromiter(map(len, contours), dtype=np.int64, count=len(contours))
    pts = np.concatenate(contours).reshape(-1, 2)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    x0, x1 = np.minimum.reduceat(pts[:, 0], starts), np.maximum.reduceat(pts[:, 0], starts)
    y0, y1 = np.minimum.reduceat(pts[:, 1], starts), np.maximum.reduceat(pts[:, 1], starts)
    area = ((x1 - x0 + 1) * (y1 - y0 + 1)).astype(np.int64)
    keep = area <= max_area
    if int(keep.sum()) > max_blobs:  # a storm of blobs: keep the largest, the small ones are rain and noise
        order = np.argsort(-area * keep)[:max_blobs]
        keep = np.zeros_like(keep)
        keep[order] = True
    xy = np.stack([(x0[keep] + x1[keep]) / 2.0, (y0[keep] + y1[keep]) / 2.0], axis=1)
    return Blobs(xy.astype(np.float64), area[keep])
