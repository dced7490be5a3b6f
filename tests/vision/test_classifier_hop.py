"""Two things, not one: a track the tracker strung across two objects is explained as a hop, and falls are not."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.camera.geometry import FacadeCamera
from tests.vision.helpers import dropped
from vision.camera_config import CameraConfig
from vision.classifier import classify
from vision.geometry import camera_for
from vision.physics import fit_fall, image_models
from vision.tracker import Track

FPS = 20.0
CAM = FacadeCamera.framing(1280, 720, distance=40.0, building_height=60.0)
CFG = CameraConfig(id="t", fps=FPS, floor_lines=[CAM.row_of_height(3.0 * i) for i in range(21)])


def _track(points: list[tuple[int, float, float]], fps: float, hidden: list[tuple[int, int]] | None = None,
           areas: list[int] | None = None) -> Track:
    tr = Track(1)
    for k, (f, x, y) in enumerate(points):
        tr.add(f, f / fps, x, y, 9 if areas is None else areas[k])
    tr.hidden = hidden or []
    return tr


def test_a_tree_crown_then_another_blob_lower_down_is_a_hop_not_a_fall() -> None:
    """A false alarm of the tuning fall-free scene 60061 (trees, 720p H.264 at 20 fps that the frame clock found
    to be 10 fps of distinct frames; processing px at scale 2): a blob on a crown still for 0.7 s, joined across
    five hidden frames to a blob 38 px lower that is still as well. The
    fall explained it better than flight, drift, sway or noise (a toss whose top is the still part), but two
    still things explain it better than the fall.
    """
    cfg = CameraConfig(id="sim-60061", fps=FPS, first_floor=7, camera_height_m=11.65, floor_lines=[
        670.8, 623.1, 578.0, 535.2, 494.6, 455.9, 419.2, 384.1, 350.7, 318.7, 288.2, 259.0, 231.0, 204.1, 178.4,
        153.6, 129.8, 106.9, 84.9, 63.7, 43.2])
    points = [(140, 566.5, 269.5), (141, 563.0, 272.0), (142, 562.5, 271.5), (143, 565.0, 271.0),
              (145, 569.0, 270.0), (146, 567.0, 272.5), (147, 570.0, 271.0), (153, 584.5, 309.0),
              (154, 578.5, 309.0), (155, 571.0, 310.0)]
    areas = [40, 119, 160, 15, 15, 264, 21, 240, 420, 169]  # the crown's blobs: their boxes are loose
    verdict = classify(_track(points, 10.0, hidden=[(148, 5)], areas=areas), cfg, 2, 720, image_width=1280)
    assert (verdict.falling, verdict.reason) == (False, "hop")


def test_two_snowflakes_sinking_at_one_speed_are_a_hop_not_a_fall() -> None:
    """A false alarm of the tuning fall-free scene 60124 (snow, 720p, 15 fps; processing px at scale 2): a flake
    sinking at about 1 px a frame, then, three frames on, another 17 px lower sinking as fast. The jump between
    them looked like a fall's gain in speed; one velocity with the second flake displaced explains it better.
    """
    fps = 15.0
    cfg = CameraConfig(id="sim-60124", fps=fps, first_floor=9, camera_height_m=4.78, floor_lines=[
        684.7, 617.4, 555.4, 498.4, 446.0, 397.8, 353.6, 312.8, 275.3, 240.7, 208.8, 179.2, 151.7, 126.2, 102.5,
        80.5, 59.8, 40.5, 22.5, 5.5])
    points = [(818, 50.0, 56.0), (819, 51.0, 57.0), (820, 51.0, 58.0), (821, 52.0, 59.0), (822, 53.0, 60.0),
              (824, 55.0, 62.0), (826, 55.0, 64.0), (828, 56.0, 66.0), (829, 56.0, 70.0), (832, 61.0, 87.0),
              (833, 61.0, 88.0), (834, 60.0, 89.0), (837, 58.0, 92.0), (840, 57.0, 94.0), (846, 59.0, 77.5)]
    verdict = classify(_track(points, fps), cfg, 2, 720, image_width=1280)
    assert (verdict.falling, verdict.reason) == (False, "hop")


def _drop(floor: int, seconds: float) -> list[tuple[int, float, float]]:
    """(frame, x, row) of an object dropped from the middle of ``floor``, full-resolution px."""
    return dropped(CAM, floor, seconds, FPS)


@pytest.mark.parametrize(("floor", "seconds", "hidden"), [(14, 1.2, (8, 6)), (18, 1.6, (12, 8)), (10, 1.2, (5, 4))])
def test_a_fall_hidden_behind_a_slab_reappears_where_its_motion_carried_it_and_stays_a_fall(
        floor: int, seconds: float, hidden: tuple[int, int]) -> None:
    """A body hidden for a few frames is still one body: it reappears further down and faster, so neither two
    still things nor one velocity with a displacement explains it as well as the fall does.
    """
    first, count = hidden
    points = [p for p in _drop(floor, seconds) if not first <= p[0] < first + count]
    verdict = classify(_track(points, FPS, hidden=[hidden]), CFG, 1, 720)
    assert verdict.falling, verdict.reason
    assert verdict.floor == floor


def test_the_hop_explanations_price_their_parameters_and_lose_to_a_clean_fall() -> None:
    """Both hop forms are offered (two still levels, 4 parameters; one velocity and a displacement, 6; the break
    charged as a choice), and on a clean drop the fall beats the better of them by more than the classifier's
    margin.
    """
    points = _drop(16, 1.5)
    t = np.array([f / FPS for f, _, _ in points])
    col = np.array([x for _, x, _ in points])
    row = np.array([y for _, _, y in points])
    sigma = np.full(len(t), 0.8)
    hops = [e for e in image_models(t, col, row, sigma) if e.name == "hop"]
    assert sorted(e.params for e in hops) == [4, 6]
    cam = camera_for(CFG, 1280, 720)
    assert cam is not None
    assert fit_fall(cam, t, col, row, sigma).explanation.bic + 6.0 < min(e.bic for e in hops)
