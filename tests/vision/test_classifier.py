"""The falling-object classifier on synthetic tracks: physics under perspective passes, distractors do not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulators.camera.geometry import FacadeCamera
from tests.vision.helpers import G, dropped, track_from
from vision.camera_config import CameraConfig
from vision.classifier import ClassifierParams, classify
from vision.geometry import camera_for
from vision.physics import fit_fall, image_models
from vision.track_shape import core_fill, follow, roughness
from vision.tracker import Track

FPS = 20.0
CAM = FacadeCamera.framing(1280, 720, distance=40.0, building_height=60.0)
CFG = CameraConfig(id="t", fps=FPS, floor_lines=[CAM.row_of_height(3.0 * i) for i in range(21)])
UNCAL = CameraConfig(id="u", fps=FPS)
KEEP_STRAYS = ClassifierParams(max_stray_px=1e6)  # every point counts: tests one later rule on its own


def fall(floor: int, seconds: float, x: float = 640.0, delay_frames: int = 0,
         accel: float = G) -> list[tuple[float, float, float]]:
    """Samples of an object dropped from the middle of ``floor`` (first detection ``delay_frames`` late)."""
    return [(k / FPS, px, y) for k, px, y in dropped(CAM, floor, seconds, FPS, x, delay_frames, accel)]


@pytest.mark.parametrize(("floor", "delay"), [(12, 0), (18, 6), (6, 2)])
def test_free_fall_is_littering_from_the_right_floor(floor: int, delay: int) -> None:
    verdict = classify(track_from(fall(floor, 3.0, delay_frames=delay)), CFG, 1, 720)
    assert verdict.falling, verdict.reason
    assert verdict.floor == floor
    assert verdict.origin[0] == pytest.approx(640.0, abs=1.0)
    assert 0.5 < verdict.score <= 1.0


def test_drag_within_tolerance_still_counts() -> None:
    assert classify(track_from(fall(15, 3.0, accel=0.6 * G)), CFG, 1, 720).falling


def test_constant_speed_streak_is_not_a_fall() -> None:
    """Rain falls at terminal speed: no acceleration."""
    start = CAM.row_of_height(45.0)
    pts = [(k / FPS, 500.0, start + 12.0 * k) for k in range(20)]
    verdict = classify(track_from(pts), CFG, 1, 720)
    assert not verdict.falling
    assert verdict.reason == "flight"  # constant velocity explains it better than any fall


def test_bird_tree_and_rising_objects_are_rejected() -> None:
    bird = [(k / FPS, 300.0 + 15.0 * k, 200.0 + 3.0 * k + 4 * math.sin(k)) for k in range(25)]
    assert not classify(track_from(bird), CFG, 1, 720).falling
    tree = [(k / FPS, 400.0 + 3 * math.sin(k / 2), 600.0 + 3 * math.sin(k / 3)) for k in range(40)]
    assert not classify(track_from(tree), CFG, 1, 720).falling
    rising = [(k / FPS, 400.0, 500.0 - 5.0 * k) for k in range(20)]
    assert classify(track_from(rising), CFG, 1, 720).reason == "not_descending"


def test_short_drop_and_sparse_tracks_are_rejected() -> None:
    one_floor = fall(10, 0.55)
    assert classify(track_from(one_floor), CFG, 1, 720).reason in {"too_few_floors", "short", "mostly_static"}
    tr = track_from(fall(14, 3.0)[::3])
    for i in range(len(tr.frames)):
        tr.frames[i] *= 3  # every third frame only: a chain of unrelated blobs, not one object
    assert classify(tr, CFG, 1, 720).reason == "sparse"


def test_without_calibration_image_space_kinematics_decide_and_floor_is_unknown() -> None:
    verdict = classify(track_from(fall(16, 3.0)), UNCAL, 1, 720)
    assert verdict.falling
    assert verdict.floor is None
    steady = [(k / FPS, 500.0, 100.0 + 10.0 * k) for k in range(30)]
    assert not classify(track_from(steady), UNCAL, 1, 720).falling


def test_processing_scale_maps_back_to_full_resolution() -> None:
    half = [(t, x / 2, y / 2) for t, x, y in fall(12, 3.0)]
    verdict = classify(track_from(half), CFG, 2, 720)
    assert verdict.falling
    assert verdict.floor == 12
    assert verdict.origin[0] == pytest.approx(640.0, abs=1.0)


def test_still_track_that_grabs_stray_blobs_is_not_a_fall() -> None:
    """A tree top or a lit window tracked for a while, then two unrelated blobs further down."""
    still = [(k / FPS, 500.0, 300.0 + 0.25 * k) for k in range(30)]  # creeping, as a fading blob does
    tail = [(30 / FPS, 503.0, 340.0), (31 / FPS, 505.0, 420.0)]
    tr = track_from(still + tail)
    assert classify(tr, CFG, 1, 720).reason == "too_few_floors"  # the stray blobs are left out: no descent left
    verdict = classify(tr, CFG, 1, 720, KEEP_STRAYS)
    assert not verdict.falling
    assert verdict.reason == "not_physical"  # no body under gravity sits still and then jumps


def test_hover_midway_then_drop_is_not_a_fall() -> None:
    """A tree top tracked after a small drop, standing still for a second, then lower again: no fall pauses."""
    pts = fall(12, 0.6)
    t_end, x_end, y_end = pts[-1]
    hover = [(t_end + k / FPS, x_end, y_end + 0.5 * math.sin(k)) for k in range(1, 21)]
    t0 = hover[-1][0]
    after = [(t0 + k / FPS, x_end, y_end + 14.0 * k) for k in range(1, 8)]
    tr = track_from(pts + hover + after)
    assert not classify(tr, CFG, 1, 720).falling
    verdict = classify(tr, CFG, 1, 720, KEEP_STRAYS)
    assert not verdict.falling
    assert verdict.reason == "not_physical"


def test_a_fall_through_duplicated_frames_is_still_a_fall() -> None:
    """Upsampled footage repeats frames: every other position stands still. The repeats are off the fall's own
    curve and are left out; what remains is the fall at half the rate.
    """
    pts = fall(15, 3.0)
    stairs = [(t, x, pts[k - k % 2][2]) for k, (t, x, _) in enumerate(pts)]
    verdict = classify(track_from(stairs), CFG, 1, 720)
    assert verdict.falling, verdict.reason
    assert verdict.floor == 15


def test_toss_that_hovers_at_its_apex_is_still_a_fall() -> None:
    """Thrown upwards first: near the top of the toss it hangs for a few frames, which a release allows."""
    h0 = (14 - 1) * 3.0 + 1.5
    pts = [(k / FPS, 640.0, CAM.row_of_height(h0 + 1.5 * k / FPS - 0.5 * G * (k / FPS) ** 2)) for k in range(50)]
    pts = [p for p in pts if p[2] < 720]
    verdict = classify(track_from(pts), CFG, 1, 720)
    assert verdict.falling, verdict.reason
    assert verdict.floor == 14


def test_roughness_measures_jitter_not_the_bend_of_a_fall() -> None:
    """A drag-bent fall is smooth frame to frame; the same path with a few centroids knocked aside is not."""
    t = np.arange(40) / FPS
    y = 100.0 + 0.5 * 0.6 * 300.0 * t**2 - 40.0 * t**3  # accelerating, then bending off as drag builds
    assert roughness(t, y) < 0.05
    knocked = y.copy()
    knocked[5::6] += 12.0
    assert roughness(t, knocked) > 6.0
    assert roughness(t[:4], y[:4]) == 0.0  # too short to judge


def test_chain_of_blobs_that_lurches_around_a_fall_is_not_a_fall() -> None:
    """Rain streaks taken up one after another by a track: on average a fall, frame to frame a lurch."""
    pts = fall(16, 3.0)
    offset = (0.0, 0.0, 9.0)  # every third blob is a streak further down the path
    lurch = [(t, x, y + offset[k % 3]) for k, (t, x, y) in enumerate(pts)]
    sideways = [(t, x + (0.0, 6.0, -6.0)[k % 3], y) for k, (t, x, y) in enumerate(pts)]  # swinging across
    for cfg in (CFG, UNCAL):
        assert classify(track_from(pts), cfg, 1, 720).falling
        for chain in (lurch, sideways):
            verdict = classify(track_from(chain), cfg, 1, 720)
            assert not verdict.falling
            assert verdict.reason == "not_physical"  # no body moves like that, under any camera or none


def test_stray_blobs_and_a_run_on_tail_are_left_out_of_the_fall() -> None:
    """The tracker took a rain streak beside the object once, and after the object landed ran on onto other blobs:
    the event is about the object's own points only."""
    pts = fall(16, 3.0)[:45]
    n = len(pts)
    stray = [(t, x + 25.0, y) if k == 30 else (t, x, y) for k, (t, x, y) in enumerate(pts)]
    t_end, x_end, y_end = stray[-1]
    run_on = [(t_end + k / FPS, x_end + 30.0 * k, y_end + 20.0 * k) for k in range(1, 5)]
    verdict = classify(track_from(stray + run_on), CFG, 1, 720)
    assert verdict.falling, verdict.reason
    assert verdict.floor == 16
    assert verdict.points == tuple(k for k in range(n) if k != 30)
    kept_all = classify(track_from(stray + run_on), CFG, 1, 720, KEEP_STRAYS)
    assert kept_all.falling  # a stray costs a bounded amount under the robust noise model...
    assert kept_all.floor == 16  # ...and does not move the release


def test_follow_keeps_every_point_of_a_clean_fall() -> None:
    t = np.arange(40) / FPS
    frames = np.arange(40)
    y = 100.0 + 0.5 * 300.0 * t**2
    assert follow(frames, np.full(40, 320.0), y, 10.0).tolist() == list(range(40))


def test_hover_then_a_drop_no_object_leaving_rest_could_make_is_not_a_fall() -> None:
    """A false alarm from a simulated 720p distractor scene (seed 12030), in full-resolution px: a blob, a tree
    top still for nine frames, then five metres lower within eight frames, across gaps."""
    cfg = CameraConfig(id="sim-12030", fps=FPS, floor_lines=[
        676.8, 627.5, 581.7, 539.2, 499.6, 462.5, 427.8, 395.3, 364.7, 335.8, 308.6, 282.9, 258.6, 235.5, 213.6,
        192.8, 172.9, 154.1, 136.0, 118.8, 102.4, 86.6, 71.5, 57.1, 43.2])
    track = [(400, 644, 587), (403, 649, 623), (404, 648, 625), (405, 648, 625), (406, 647, 625), (407, 647, 625),
             (408, 647, 625), (409, 647, 625), (410, 648, 625), (411, 648, 625), (412, 652, 630), (414, 668, 652),
             (415, 668, 649), (419, 702, 704)]
    tr = Track(1)
    for f, x, y in track:
        tr.add(f, f / FPS, x / 2, y / 2, 9)
    verdict = classify(tr, cfg, 2, 720)
    assert not verdict.falling
    assert verdict.reason in {"not_physical", "too_few_floors"}


def test_core_fill_ignores_a_hover_before_and_a_rest_after() -> None:
    frames = np.array([0, 1, 2, 3, 4, 5, 6, 7, 14, 21, 22, 23, 24, 25, 26, 27])
    y = np.array([100, 100, 101, 100, 101, 100, 101, 102, 150, 200, 201, 200, 201, 200, 201, 202], dtype=float)
    assert len(frames) / (frames[-1] - frames[0] + 1) > 0.55  # padded by the still parts
    assert core_fill(frames, y) == pytest.approx(3 / 15)  # frames 7 to 21: three detections
    assert core_fill(np.arange(10), np.linspace(0, 90, 10)) == 1.0


def test_a_snowflake_sinking_steadily_while_wandering_sideways_is_drift_not_a_fall() -> None:
    """Snow (a leaf, an insect) sinks at its terminal speed and wanders sideways less than one sway period:
    flight at one velocity misses the wander, a fall would have to be already at a steady speed a moment after
    its release; a steady sink with a free sideways wander explains it best.
    """
    start = CAM.row_of_height(40.0)
    rng = np.random.default_rng(4)
    pts = [(k / FPS, 500.0 + 9.0 * math.sin(2 * math.pi * 0.35 * k / FPS) + rng.normal(0, 0.5),
            start + 3.0 * k + rng.normal(0, 0.5)) for k in range(40)]
    t, col, row = (np.array(v) for v in zip(*pts, strict=True))
    sigma = np.full(len(t), 1.0)
    cam = camera_for(CFG, 1280, 720)
    assert cam is not None
    best = min(image_models(t, col, row, sigma), key=lambda e: e.bic)
    assert best.name == "drift"
    assert best.bic + 6.0 < fit_fall(cam, t, col, row, sigma).explanation.bic
    assert not classify(track_from(pts), CFG, 1, 720).falling


def test_a_fall_drifting_sideways_under_perspective_is_still_a_fall_beside_the_drift_model() -> None:
    """The drift model must not take falls: a drop accelerates, which a steady sink cannot follow."""
    pts = [(t, x + 2.0 * t * t, y) for t, x, y in fall(16, 3.0)]
    verdict = classify(track_from(pts), CFG, 1, 720)
    assert verdict.falling, verdict.reason
