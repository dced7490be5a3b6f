"""Camera configuration (CAMERA.json): identity, frame rate, floor calibration, masks, window columns."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

Point = tuple[float, float]


class FacadeRect(BaseModel):
    """Four image points (full-resolution px) of a rectangle on the facade of known size: bottom-left,
    bottom-right, top-right, top-left. Its homography gives yawed and rolled cameras their rotation.
    """

    points: list[Point] = Field(min_length=4, max_length=4)
    width_m: float = Field(gt=0)
    height_m: float = Field(gt=0)
    # facade position (m) of the bottom-left corner: along the facade, and height above the bottom of floor 1
    origin_m: Point = (0.0, 0.0)


class CameraConfig(BaseModel):
    """One camera. Only ``id`` is required; without ``floor_lines`` the floor of an event is unknown (null)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str | None = None
    building: str | None = None
    fps: float | None = Field(default=None, gt=0)
    first_floor: int = 1
    # image rows (px from the top, full resolution) of floor boundaries, bottom to top: strictly decreasing
    floor_lines: list[float] = Field(default_factory=list)
    floor_height_m: float = Field(default=3.0, gt=0)
    # polygons (full-resolution px) where motion is ignored: trees, roads, the sky above the roof, ...
    masks: list[list[Point]] = Field(default_factory=list)
    # image x (px) of the boundaries between window columns, left to right; column i lies between lines i and i+1
    window_columns: list[float] = Field(default_factory=list)
    # optional geometry: the camera's height above the bottom of floor 1 (m; 1.5 when absent), which the floor
    # lines alone cannot tell, and a known facade rectangle for cameras that are yawed or rolled
    camera_height_m: float | None = None
    facade_rect: FacadeRect | None = None

    @field_validator("floor_lines")
    @classmethod
    def _decreasing(cls, rows: list[float]) -> list[float]:
        if any(b >= a for a, b in itertools.pairwise(rows)):
            raise ValueError("floor_lines must be image rows from the bottom floor up, strictly decreasing")
        return rows

    @field_validator("window_columns")
    @classmethod
    def _increasing(cls, cols: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(cols)):
            raise ValueError("window_columns must be strictly increasing x positions")
        return cols

    @field_validator("masks")
    @classmethod
    def _polygons(cls, masks: list[list[Point]]) -> list[list[Point]]:
        if any(len(poly) < 3 for poly in masks):
            raise ValueError("each mask polygon needs at least 3 points")
        return masks

    @property
    def calibrated(self) -> bool:
        """Whether floor lines map rows to heights (two boundaries at least)."""
        return len(self.floor_lines) >= 2


def load_camera(path: Path) -> CameraConfig:
    """Read one CAMERA.json file."""
    return CameraConfig.model_validate_json(path.read_text(encoding="utf-8"))


def load_cameras(path: Path | None) -> dict[str, CameraConfig]:
    """Read the cameras file (a JSON list of camera objects), keyed by id; no file means no configured cameras."""
    if path is None or not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of camera objects")  # noqa: TRY004 (callers report bad files as ValueError)
    cameras = [CameraConfig.model_validate(item) for item in raw]
    return {c.id: c for c in cameras}
