"""Floor calibration: the CAMERA.json contract (floor i spans floor_lines[i+1]..floor_lines[i]) and validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from vision.camera_config import CameraConfig, load_cameras
from vision.floors import height_to_row, row_to_floor, row_to_height, x_to_column


def test_row_maps_to_the_floor_between_its_lines() -> None:
    cfg = CameraConfig(id="tower3-south", first_floor=1, floor_lines=[710.0, 668.0, 627.0, 590.0])
    assert row_to_floor(cfg, 700) == 1
    assert row_to_floor(cfg, 668.5) == 1
    assert row_to_floor(cfg, 650) == 2
    assert row_to_floor(cfg, 600) == 3
    # past the calibrated lines the nearest segment's scale extrapolates
    assert row_to_floor(cfg, 570) == 4
    assert row_to_floor(cfg, 730) == 0


def test_first_floor_offsets_the_numbering() -> None:
    cfg = CameraConfig(id="c", first_floor=5, floor_lines=[500.0, 400.0, 320.0])
    assert row_to_floor(cfg, 450) == 5
    assert row_to_floor(cfg, 350) == 6


def test_height_and_row_are_inverse_under_perspective() -> None:
    lines = [1000.0, 900.0, 815.0, 745.0, 690.0, 650.0]  # floors shrink toward the top of the picture
    cfg = CameraConfig(id="c", floor_lines=lines)
    rows = np.array([995.0, 880.0, 760.0, 700.0, 655.0])
    heights = row_to_height(cfg, rows)
    assert np.all(np.diff(heights) > 0)
    for r, h in zip(rows, heights, strict=True):
        assert height_to_row(cfg, float(h)) == pytest.approx(r, abs=0.5)


def test_uncalibrated_camera_has_no_floor_and_columns_are_optional() -> None:
    cfg = CameraConfig(id="plain")
    assert row_to_floor(cfg, 300) is None
    assert x_to_column(cfg, 300) is None
    cols = CameraConfig(id="c", window_columns=[100.0, 200.0, 300.0])
    assert x_to_column(cols, 150) == 0
    assert x_to_column(cols, 250) == 1
    assert x_to_column(cols, 350) is None


def test_invalid_configurations_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        CameraConfig(id="c", floor_lines=[600, 650])  # must go up the image
    with pytest.raises(ValidationError):
        CameraConfig.model_validate({"id": "c", "masks": [[[0, 0], [1, 1]]]})  # a polygon needs 3 points
    with pytest.raises(ValidationError):
        CameraConfig(id="../etc")
    path = tmp_path / "cameras.json"
    path.write_text('[{"id": "a", "fps": 20, "building": "3"}, {"id": "b"}]')
    cams = load_cameras(path)
    assert sorted(cams) == ["a", "b"]
    assert cams["a"].building == "3"
    assert load_cameras(tmp_path / "missing.json") == {}
