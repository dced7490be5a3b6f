"""Camera geometry from calibration: synthetic cameras with known parameters are recovered from what they see."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulators.camera.geometry import FacadeCamera
from vision.camera_config import CameraConfig, FacadeRect
from vision.geometry import camera, camera_for, fit_facade, fit_floor_lines


def _floor_lines(cam_f: float, tilt_deg: float, dist: float, floors: int, w: int = 1920, h: int = 1080,
                 noise: float = 0.0, seed: int = 0) -> tuple[CameraConfig, object]:
    cam = camera(cam_f, w, h, dist, 1.5, math.radians(tilt_deg))
    heights = np.arange(floors + 1) * 3.0
    rows = cam.project(np.stack([np.zeros_like(heights), heights, np.zeros_like(heights)], axis=1))[:, 1]
    rows = rows + np.random.default_rng(seed).normal(0, noise, rows.shape)
    return CameraConfig(id="g", floor_lines=rows.tolist()), cam


@pytest.mark.parametrize(("f", "tilt", "dist", "floors"), [(1400.0, 35.0, 40.0, 30), (900.0, 60.0, 15.0, 20),
                                                          (2500.0, 22.0, 60.0, 25)])
def test_floor_lines_give_tilt_distance_and_focal_length(f: float, tilt: float, dist: float, floors: int) -> None:
    cfg, _ = _floor_lines(f, tilt, dist, floors)
    fitted, rms = fit_floor_lines(cfg, 1920, 1080)
    assert rms < 0.01
    assert fitted.angles_deg[0] == pytest.approx(tilt, abs=0.1)
    assert fitted.distance == pytest.approx(dist, rel=0.01)
    assert fitted.f == pytest.approx(f, rel=0.01)


def test_floor_line_fit_tolerates_reading_errors() -> None:
    """Rows read off a frame by eye are good to a pixel or so; the metres per pixel must stay right."""
    cfg, truth = _floor_lines(1400.0, 35.0, 40.0, 30, noise=0.7, seed=3)
    fitted, rms = fit_floor_lines(cfg, 1920, 1080)
    assert rms < 1.5
    assert fitted.angles_deg[0] == pytest.approx(35.0, abs=2.0)
    for h in (3.0, 45.0, 88.0):  # metres per pixel along the facade
        pt = np.array([[0.0, h, 0.0], [0.0, h + 1.0, 0.0]])
        got = abs(float(np.diff(fitted.project(pt)[:, 1])[0]))
        want = abs(float(np.diff(truth.project(pt)[:, 1])[0]))  # type: ignore[attr-defined]
        assert got == pytest.approx(want, rel=0.03)


def test_the_fit_matches_the_simulators_camera() -> None:
    """The simulator's framing is a pinhole at 1.5 m with the principal point at the centre: recovered exactly."""
    sim = FacadeCamera.framing(1280, 720, distance=42.0, building_height=75.0)
    cfg = CameraConfig(id="s", floor_lines=[sim.row_of_height(3.0 * i) for i in range(26)])
    fitted, _ = fit_floor_lines(cfg, 1280, 720)
    assert fitted.angles_deg[0] == pytest.approx(math.degrees(sim.tilt), abs=0.05)
    assert fitted.distance == pytest.approx(42.0, rel=0.005)
    col, row = sim.project(np.array([-6.0, 5.0]), np.array([30.0, 60.0]), np.array([40.0, 41.0]))
    ours = fitted.project(np.array([[-6.0, 30.0, 2.0], [5.0, 60.0, 1.0]]))  # z_sim = distance - Z
    assert np.allclose(ours[:, 0], col, atol=0.05)
    assert np.allclose(ours[:, 1], row, atol=0.05)


@pytest.mark.parametrize(("yaw", "roll"), [(25.0, 0.0), (-30.0, 4.0), (10.0, -6.0)])
def test_facade_rectangle_gives_yaw_and_roll(yaw: float, roll: float) -> None:
    truth = camera(1600.0, 1920, 1080, 35.0, 1.5, math.radians(38.0), math.radians(yaw), math.radians(roll), 4.0)
    corners = np.array([[-8.0, 6.0, 0.0], [10.0, 6.0, 0.0], [10.0, 42.0, 0.0], [-8.0, 42.0, 0.0]])
    pts = truth.project(corners)
    rect = FacadeRect(points=[(float(c), float(r)) for c, r in pts], width_m=18.0, height_m=36.0,
                      origin_m=(-8.0, 6.0))
    cfg = CameraConfig(id="y", facade_rect=rect)
    fitted = fit_facade(cfg, 1920, 1080)
    tilt, got_yaw, got_roll = fitted.angles_deg
    assert tilt == pytest.approx(38.0, abs=0.2)
    assert got_yaw == pytest.approx(yaw, abs=0.2)
    assert got_roll == pytest.approx(roll, abs=0.2)
    assert fitted.f == pytest.approx(1600.0, rel=0.01)
    assert np.allclose(fitted.C, truth.C, atol=0.2)
    off = np.array([[2.0, 20.0, 3.0]])  # a point off the facade plane, where an outward throw goes
    assert np.allclose(fitted.project(off), truth.project(off), atol=0.5)
    assert camera_for(cfg, 1920, 1080) is not None


def test_no_calibration_means_no_camera_and_a_bad_rectangle_is_refused() -> None:
    assert camera_for(CameraConfig(id="n"), 1280, 720) is None
    with pytest.raises(ValueError, match="at least 4"):
        FacadeRect(points=[(0, 0), (1, 0), (1, 1)], width_m=1, height_m=1)
    frontal = FacadeRect(points=[(100, 600), (500, 600), (500, 200), (100, 200)], width_m=10, height_m=10)
    with pytest.raises(ValueError, match="too frontal"):
        fit_facade(CameraConfig(id="f", facade_rect=frontal), 1280, 720)


def test_facade_points_invert_the_projection_for_many_pixels_at_once() -> None:
    cam = camera(1400.0, 1920, 1080, 35.0, 1.5, math.radians(40.0), yaw=math.radians(15.0), roll=math.radians(4.0))
    rng = np.random.default_rng(3)
    world = np.column_stack([rng.uniform(-20, 20, 50), rng.uniform(2, 80, 50), np.full(50, 0.4)])
    pix = cam.project(world)
    back = cam.facade_points(pix, 0.4)
    assert np.allclose(back, world, atol=1e-6)
    one = np.array([cam.on_facade(float(c), float(r), 0.4) for c, r in pix])  # the single-point form agrees
    assert np.allclose(one, back, atol=1e-9)
    assert np.allclose(np.linalg.norm(cam.rays(pix), axis=1), 1.0)
