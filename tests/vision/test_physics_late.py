"""A fall first seen late, near its terminal speed: the time since its release is all but unknown, so the release
traced back lies far above the true one. It is ``above_roof`` only when even the lowest release the fit allows
(free fall to the speed seen, the speed 2 standard errors slower) is above the roof; a body that really starts
above the roof still is.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulators.camera.geometry import FacadeCamera
from tests.vision.helpers import G, track_from
from vision.camera_config import CameraConfig
from vision.classifier import ClassifierParams, _clean, _SpanCheck, classify, lowest_release
from vision.geometry import camera_for
from vision.physics import FallFit, fit_fall

FPS = 20.0
SIM = FacadeCamera.framing(1280, 720, distance=40.0, building_height=60.0)
FLOORS = 20
CFG = CameraConfig(id="t", fps=FPS, floor_lines=[SIM.row_of_height(3.0 * i) for i in range(FLOORS + 1)])
CAM = camera_for(CFG, 1280, 720)


def late_drop(h0: float, terminal: float, unseen: float, seen: float = 1.5,
              seed: int = 0) -> list[tuple[float, float, float]]:
    """Image samples (t, col, row) of a body dropped at rest from height ``h0`` with quadratic drag (terminal
    speed ``terminal``), first seen ``unseen`` s after its release, box centres off by ~0.7 px.
    """
    dt = 1.0 / 400.0
    steps = int((unseen + seen) / dt) + 1
    h, v, times, heights = h0, 0.0, [], []
    for i in range(steps):
        times.append(i * dt)
        heights.append(h)
        v += -G * (1.0 - (v / terminal) ** 2) * dt
        h += v * dt
    t = np.arange(int(seen * FPS)) / FPS
    hs = np.interp(t + unseen, times, heights)
    col, row = SIM.pinhole(np.zeros_like(hs), hs, np.full_like(hs, SIM.distance - 0.5))
    rng = np.random.default_rng(seed)
    col, row = col + rng.normal(0.0, 0.7, t.size), row + rng.normal(0.0, 0.7, t.size)
    return [(float(a), float(b), float(c)) for a, b, c in zip(t, col, row, strict=True)]


def _fit(points: list[tuple[float, float, float]]) -> FallFit:
    assert CAM is not None
    p = ClassifierParams()
    cleaned = _clean(track_from(points), CFG, 1, p, _SpanCheck(CFG, True, 720, p))
    assert not isinstance(cleaned, str), cleaned
    pts = cleaned[1]
    return fit_fall(CAM, pts.t, pts.x, pts.y, pts.sigma)


CASES = [(floor, terminal, unseen) for floor in (16, 19, 20) for terminal in (12.0, 20.0) for unseen in (2.0, 3.0)]


@pytest.mark.parametrize(("floor", "terminal", "unseen"), CASES)
def test_a_fall_first_seen_near_its_terminal_speed_is_a_fall_from_the_building(floor: int, terminal: float,
                                                                              unseen: float) -> None:
    h0 = (floor - 1) * 3.0 + 1.5
    points = late_drop(h0, terminal, unseen)
    verdict = classify(track_from(points), CFG, 1, 720, camera=CAM, image_width=1280)
    assert verdict.falling, verdict.reason
    assert verdict.floor is not None
    assert floor - 1 <= verdict.floor <= FLOORS  # never traced below the truth, never above the top floor
    assert CAM is not None
    assert lowest_release(CAM, _fit(points)) <= h0 + 1.0  # the bound is a bound


def test_the_fit_alone_traces_these_releases_above_the_roof() -> None:
    """Why the bound is needed: the fitted path's apex (or the look-back limit) is storeys above the roof."""
    assert CAM is not None
    for floor, terminal, unseen in [(16, 12.0, 2.0), (19, 20.0, 3.0), (20, 12.0, 3.0)]:
        fit = _fit(late_drop((floor - 1) * 3.0 + 1.5, terminal, unseen))
        t_rel = fit.apex_time(ClassifierParams().max_release_lookback_s)
        col, row = CAM.project(fit.position(np.array([t_rel])))[0]
        assert float(CAM.on_facade(float(col), float(row), 0.4)[1]) > FLOORS * 3.0 + 3.0


def test_a_body_that_starts_high_above_the_roof_is_still_above_roof() -> None:
    for h0, unseen in [(80.0, 0.3), (90.0, 1.0)]:  # 20 and 30 m above a 60 m roof, seen soon after it started
        verdict = classify(track_from(late_drop(h0, 40.0, unseen)), CFG, 1, 720, camera=CAM, image_width=1280)
        assert verdict.reason == "above_roof"


def test_a_fall_seen_from_its_release_keeps_its_floor() -> None:
    for floor in (8, 14, 19):
        verdict = classify(track_from(late_drop((floor - 1) * 3.0 + 1.5, 40.0, 0.1, seen=2.0)), CFG, 1, 720,
                           camera=CAM, image_width=1280)
        assert verdict.falling, verdict.reason
        assert verdict.floor == floor
