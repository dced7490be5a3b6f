"""What a release allows: a body dropped or thrown from a window rises, at first sight, no faster than a throw.
A fit that needs more (a bird taking off, a chain of blobs that curves upwards) is held at that bound and pays for
the rest; a real throw, out and up within the bound, is fitted exactly as without it.
"""

from __future__ import annotations

import math

import numpy as np

from simulators.camera.geometry import FacadeCamera
from vision.camera_config import CameraConfig
from vision.geometry import camera_for
from vision.physics import Explanation, FallFit, FallPrior, fit_fall

FPS = 20.0
SIM = FacadeCamera.framing(1280, 720, distance=40.0, building_height=60.0)
CFG = CameraConfig(id="t", fps=FPS, floor_lines=[SIM.row_of_height(3.0 * i) for i in range(21)])
FREE = FallPrior(max_up_mps=math.inf)  # the same fit without the bound


def _track(v0: tuple[float, float, float], h0: float = 45.0, out0: float = 0.5,
           frames: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Image points of a drag-free body from (0, ``h0``, ``out0``) with velocity ``v0`` (along, up, out)."""
    t = np.arange(frames) / FPS
    h = h0 + v0[1] * t - 0.5 * 9.81 * t * t
    col, row = SIM.pinhole(v0[0] * t, h, SIM.distance - (out0 + v0[2] * t))
    return t, col, row, np.full(frames, 1.0)


def test_a_throw_within_the_bound_is_fitted_as_without_it() -> None:
    cam = camera_for(CFG, 1280, 720)
    assert cam is not None
    for v0 in ((1.0, 1.2, 2.0), (0.0, 0.0, 0.0), (-2.0, 2.5, 0.5)):
        t, col, row, sigma = _track(v0)
        bounded, free = fit_fall(cam, t, col, row, sigma), fit_fall(cam, t, col, row, sigma, FREE)
        assert bounded.explanation.cost == free.explanation.cost
        np.testing.assert_array_equal(bounded.v0, free.v0)
        assert bounded.explanation.cost < 1.0 * len(t)


def test_a_body_rising_faster_than_a_throw_is_held_to_what_a_release_allows() -> None:
    cam = camera_for(CFG, 1280, 720)
    assert cam is not None
    for v0 in ((0.0, 12.0, 1.0), (0.0, 15.0, -6.0)):  # launched upwards, like a bird taking off
        t, col, row, sigma = _track(v0)
        free = fit_fall(cam, t, col, row, sigma, FREE)
        bounded = fit_fall(cam, t, col, row, sigma)
        assert free.explanation.cost < 3.0 * len(t)  # without the bound a "fall" explains it
        assert float(free.v0[1]) > 10.0
        assert float(bounded.v0[1]) <= 3.0 + 1e-4
        assert bounded.explanation.cost > free.explanation.cost + 10.0  # with it, the fit pays for the motion


def _fit(p0: tuple[float, float, float], v0: tuple[float, float, float], drag: float = 0.0,
         out_sigma: tuple[float, float] | None = None) -> FallFit:
    """A fitted path with the given state at the first point and standard errors of its distance out and
    outward speed (no track behind it)."""
    expl = Explanation("fall", 0.0, 7, 10)
    cov = None if out_sigma is None else np.diag(np.square(out_sigma))
    return FallFit(expl, drag, np.array(p0, dtype=np.float64), np.array(v0, dtype=np.float64), np.zeros(10),
                   out_cov=cov)


def test_a_path_traced_back_through_the_facade_was_released_where_it_crosses_it() -> None:
    # seen 1.2 m out, moving out at 3 m/s, both known to a few cm: 0.4 s earlier it was at the facade plane
    since = _fit((0.0, 40.0, 1.2), (0.0, -5.0, 3.0), out_sigma=(0.01, 0.01)).outside_since(3.0, steps=301)
    assert -0.41 <= since <= -0.39
    # the same path known only to the prior's metres: behind the facade only once surely so (2 standard errors)
    loose = _fit((0.0, 40.0, 1.2), (0.0, -5.0, 3.0), out_sigma=(1.0, 0.2)).outside_since(3.0, steps=301)
    assert -3.0 < loose < -1.0
    # a drop in front of the facade stays in front however far back: the bound leaves the apex to decide
    assert _fit((0.0, 40.0, 0.5), (0.0, -8.0, 0.0), out_sigma=(0.5, 0.1)).outside_since(3.0) == -3.0
    # a fit that puts even the first point surely behind the facade leaves the release at the first point
    assert _fit((0.0, 40.0, -4.0), (0.0, -20.0, 9.0), 0.8, (0.5, 0.5)).outside_since(3.0) == 0.0


def test_a_fitted_throw_carries_the_covariance_of_its_distance_out() -> None:
    cam = camera_for(CFG, 1280, 720)
    assert cam is not None
    t, col, row, sigma = _track((0.5, -3.0, 2.0), h0=30.0)
    fit = fit_fall(cam, t, col, row, sigma)
    assert fit.out_cov is not None
    sd = np.sqrt(np.diag(fit.out_cov))
    assert 0.0 < sd[0] < 1.5  # the data narrow the prior's 1.5 m
    assert 0.0 < sd[1] < 2.5  # ... and its 2.5 m/s
    # the clean throw is never surely behind the facade within the look-back: the apex alone decides its release
    assert fit.outside_since(3.0) <= fit.apex_time(3.0)
