"""The world simulator, the frame clock and the physics on their own: ranges are honoured, the ground truth stays
where the object is drawn (through a bending lens, in H.264 files), repeated frames are recognised, a thrown object
is explained as a fall and swaying foliage is not.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from estatewatch.bench import world_cache
from estatewatch.bench.littering_world import installer_camera
from simulators.camera.publish import CODEC_SUFFIX, write_scene_file
from simulators.camera.render import Renderer
from simulators.camera.scene import Scene, Throw, ground_truth, trajectory
from simulators.camera.world import WORLD, world_scene
from tests.vision.helpers import one_throw_scene, track_from
from vision.camera_config import CameraConfig
from vision.classifier import classify
from vision.decode import decode_gray
from vision.detector import Detector
from vision.frame_clock import FrameClock
from vision.geometry import camera_for
from vision.offline import video_frames
from vision.physics import fit_fall, image_models

SIZES = (*WORLD.resolutions, *WORLD.large_resolutions)


def test_world_scenes_stay_inside_the_documented_ranges() -> None:
    for seed in range(40):
        sc = world_scene(seed, 8.0)
        assert WORLD.distance_m[0] <= sc.distance <= WORLD.distance_m[1]
        assert abs(math.degrees(sc.yaw)) <= WORLD.yaw_deg[1]
        assert sc.fps in WORLD.fps
        assert sc.codec in {*WORLD.codecs, "h264"}
        assert (sc.width, sc.height) in SIZES
        assert WORLD.tilt_deg[0] <= math.degrees(sc.camera.tilt) <= WORLD.tilt_deg[1]
        corner = sc.camera.corner_radius ** 2
        lo, hi = WORLD.corner_distortion
        assert lo - 1e-9 <= sc.k1 * corner + sc.k2 * corner**2 <= hi + 1e-9
        for th in sc.throws:
            assert WORLD.size_px[0] <= th.size_px <= WORLD.size_px[1]
            assert abs(th.velocity[0]) <= 3.0
            assert 0.0 <= th.velocity[2] <= 3.0
        cfg = CameraConfig.model_validate(sc.camera_json())  # every drawn camera gives a valid CAMERA.json
        assert cfg.calibrated
        assert (cfg.facade_rect is not None) == bool(sc.yaw or sc.roll)
    assert world_scene(7, 8.0).camera_json() == world_scene(7, 8.0).camera_json()  # a seed names a scene


def test_the_side_draws_reach_every_new_condition_within_a_few_dozen_seeds() -> None:
    scenes = [world_scene(seed, 4.0) for seed in range(60)]
    assert {(s.width, s.height) for s in scenes} >= set(WORLD.large_resolutions)
    assert any(s.k1 < 0 for s in scenes)
    assert any(s.k1 > 0 for s in scenes)
    assert any(not (s.k1 or s.k2) for s in scenes)
    h264 = [world_scene(seed, 4.0, ranges=replace(WORLD, h264_share=1.0)).codec for seed in range(20)]
    assert "h264" in h264
    assert set(h264) <= set(WORLD.codecs) | {"h264"}


def _lensed_scene() -> Scene:
    """A square 1280x720 camera behind a strong barrel lens, one dark throw near the left edge."""
    sc = world_scene(9, 3.0, ranges=replace(WORLD, large_share=0.0))
    sc.width, sc.height, sc.yaw, sc.roll, sc.distractors, sc.night, sc.dup_every = 1280, 720, 0.0, 0.0, {}, False, 0
    corner = replace(sc, k1=0.0, k2=0.0).camera.corner_radius ** 2
    sc.k1, sc.k2 = -0.12 / corner, 0.0
    lowest = int(sc.view_bottom_m // 3.0) + 4
    sc.throws = [Throw(floor=max(lowest, sc.floors - 2), column=0, t=0.5, size_px=12, color=(0, 0, 0),
                       velocity=(0.0, 0.0, 0.0), terminal_v=40.0)]
    return sc


def test_the_truth_through_the_distorted_lens_lands_on_the_drawn_object() -> None:
    sc = _lensed_scene()
    cam = sc.camera
    # an independent lens model: OpenCV's, on camera coordinates from the same pose
    fwd, right, up = cam._axes()
    pts = np.array([[x, h, sc.distance - z] for x in (-15.0, 0.0, 9.0) for h in (2.0, 18.0, 30.0) for z in (0, 3)])
    rel = pts - np.array([cam.lateral, cam.cam_height, 0.0])
    in_cam = np.stack([rel @ right, -(rel @ up), rel @ fwd], axis=1)
    k = np.array([[cam.lens_focal, 0, sc.width / 2], [0, cam.lens_focal, sc.height / 2], [0, 0, 1.0]])
    ref, _ = cv2.projectPoints(in_cam.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), k,
                               np.array([sc.k1, sc.k2, 0.0, 0.0, 0.0]))
    col, row = cam.project(pts[:, 0], pts[:, 1], pts[:, 2])
    assert np.abs(ref[:, 0, 0] - col).max() < 1e-6
    assert np.abs(ref[:, 0, 1] - row).max() < 1e-6
    truth = ground_truth(sc)[0]
    renderer = Renderer(sc)
    bent = 0
    for f, c, r in truth["frames"][::4]:
        gray = cv2.cvtColor(renderer.frame(f), cv2.COLOR_BGR2GRAY)
        assert gray[round(r), round(c)] < 60  # the object is where the truth says
        pc, pr = renderer.paths[0][f]  # and not where a pinhole would have put it, when the lens moved it far
        if math.hypot(pc - c, pr - r) > 12:
            bent += 1
            assert gray[round(pr), round(pc)] > 60
    assert bent >= 3
    assert sc.lens_json() is not None


def test_a_shaking_camera_moves_the_falling_object_with_the_facade() -> None:
    """The camera turns, so everything in view moves by the same pixels: the object too, not the facade alone."""
    still = one_throw_scene(seconds=2.5)
    still.jitter_px = 0
    shaken = replace(still, distractors={"shake": [(0.0, 2.5, 4)]})
    a, b = Renderer(still), Renderer(shaken)
    moved_frames = 0
    for f, c, r in ground_truth(still)[0]["frames"][5:25]:
        fa = cv2.cvtColor(a.frame(f), cv2.COLOR_BGR2GRAY).astype(np.int16)
        fb = cv2.cvtColor(b.frame(f), cv2.COLOR_BGR2GRAY).astype(np.int16)
        m = 8  # compare inside the margin a shift of up to 4 px uncovers
        costs = {(dx, dy): float(np.abs(fb[m:-m, m:-m] - fa[m + dy:fa.shape[0] - m + dy, m + dx:fa.shape[1] - m + dx]
                                        ).mean()) for dx in range(-4, 5) for dy in range(-4, 5)}
        dx, dy = min(costs, key=costs.__getitem__)  # the camera's move, read off the facade
        if (dx, dy) == (0, 0):
            continue
        moved_frames += 1
        y, x = round(r) - dy, round(c) - dx  # where the object must be in the shaken frame
        assert fb[y, x] < 60  # the dark object is there: drawn, then moved with the picture
        window = (slice(y - 6, y + 7), slice(x - 6, x + 7))
        back = (slice(y - 6 + dy, y + 7 + dy), slice(x - 6 + dx, x + 7 + dx))
        assert np.abs(fb[window] - fa[back]).max() < 40  # the object's patch is the still one moved, up to noise
    assert moved_frames >= 10


def test_every_pixel_of_a_distorted_frame_sees_inside_the_pinhole_picture() -> None:
    for shift in (-0.15, 0.04):
        sc = _lensed_scene()
        corner = replace(sc, k1=0.0).camera.corner_radius ** 2
        sc.k1 = shift / corner
        cam = sc.camera
        rows, cols = np.mgrid[0:sc.height:7, 0:sc.width:7].astype(np.float64)
        src_c, src_r = cam.undistort_px(cols, rows)
        assert src_c.min() >= 0
        assert src_c.max() <= sc.width - 1
        assert src_r.min() >= 0
        assert src_r.max() <= sc.height - 1
        back_c, back_r = cam.distort_px(src_c, src_r)
        assert np.abs(back_c - cols).max() < 1e-3
        assert np.abs(back_r - rows).max() < 1e-3


def test_an_h264_file_keeps_the_object_at_its_truth(tmp_path: Path) -> None:
    sc = one_throw_scene(640, 360, floor=12, seconds=2.0)
    sc.codec, sc.quality = "h264", 60
    path = write_scene_file(sc, tmp_path)
    assert path.suffix == CODEC_SUFFIX["h264"]
    with path.open("rb") as fh:
        assert b"avc1" in fh.read(4096)  # an H.264 track, not MPEG-4 part 2
    frames = [g for g, _ in video_frames(path)]
    assert len(frames) == sc.n_frames
    truth = ground_truth(sc)[0]
    for f, c, r in truth["frames"][::3]:
        assert frames[f][round(r), round(c)] < 80


def test_the_fitted_camera_of_a_turned_world_scene_projects_like_the_simulators() -> None:
    sc = next(s for s in (world_scene(k, 8.0) for k in range(60)) if abs(math.degrees(s.yaw)) > 10)
    cam = camera_for(CameraConfig.model_validate(sc.camera_json()), sc.width, sc.height)
    assert cam is not None
    x, h, z_out = 3.0, 20.0, 2.0
    col, row = sc.camera.project(x, h, sc.distance - z_out)
    mine = cam.project(np.array([[x, h, z_out]]))[0]
    assert mine == pytest.approx([float(col), float(row)], abs=2.0)


def test_frame_clock_skips_repeats_and_counts_lost_frames() -> None:
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (60, 80), dtype=np.uint8) for _ in range(40)]
    clock = FrameClock()
    ticks = []
    for i in range(40):
        img = frames[i - 1] if i % 3 == 2 else frames[i]  # every third frame repeats the one before
        ticks.append(clock.advance(img, i, i / 30.0))
    assert [t is None for t in ticks[:6]] == [False, False, True, False, False, True]
    new = [t for t in ticks if t is not None]
    assert new == list(range(len(new)))  # new content ticks on evenly although the intervals alternate
    clock2 = FrameClock()
    for i in range(20):
        clock2.advance(frames[i], i, i / 20.0)
    assert clock2.advance(frames[25], 25, 25 / 20.0) == 19 + 6  # five frames lost: a gap of six ticks
    assert clock2.frame_of(25) == 25


def test_a_clean_synthetic_picture_with_one_small_mover_is_not_taken_for_repeats() -> None:
    clock = FrameClock()
    for i in range(30):
        img = np.full((60, 80), 100, np.uint8)
        img[10 + i, 40] = 0
        assert clock.advance(img, i, i / 20.0) == i


def test_a_fall_in_upsampled_footage_is_found_once_with_its_floor() -> None:
    scene = one_throw_scene(1280, 720, floor=12)
    scene.dup_every = 3
    scene.fps = 30.0
    truth = ground_truth(scene)[0]
    det = Detector(CameraConfig.model_validate(scene.camera_json("up")))
    events = []
    for i, data in Renderer(scene).jpegs():
        events += det.feed(decode_gray(data, 2), i, i / scene.fps, 2)
    events += det.finish()
    assert det.stats.repeated_frames >= scene.n_frames // 3 - 2
    assert len(events) == 1
    assert events[0].floor == 12
    assert truth["frame_start"] <= events[0].frame_start <= truth["frame_end"]


@pytest.mark.parametrize("outward", [0.0, 1.5, 3.0])
def test_outward_throws_under_strong_perspective_are_explained_as_falls(outward: float) -> None:
    """Close to a tall tower the image of an outward throw drifts sideways and speeds up: still one fall."""
    sc = one_throw_scene(1280, 720, floor=25)
    sc.floors, sc.distance = 30, 15.0
    th = Throw(floor=26, column=1, t=1.0, size_px=6, color=(0, 0, 0), velocity=(2.0, 0.5, outward), terminal_v=30)
    pts = trajectory(sc, th)  # the whole flight: an outward throw first rises in this picture
    t = np.array([p[0] for p in pts]) / sc.fps
    col, row = np.array([p[1] for p in pts]), np.array([p[2] for p in pts])
    noise = np.random.default_rng(0).normal(0, 0.7, (2, len(t)))
    col, row, t = col + noise[0], row + noise[1], t - t[0]
    cam = camera_for(CameraConfig.model_validate(sc.camera_json()), 1280, 720)
    assert cam is not None
    sigma = np.full(len(t), 1.2)
    fall = fit_fall(cam, t, col, row, sigma)
    others = image_models(t, col, row, sigma)
    assert fall.explanation.cost < 3.0 * len(t)
    assert fall.explanation.bic + 6.0 < min(e.bic for e in others)
    tr = track_from([(float(a), float(b), float(c)) for a, b, c in zip(t, col, row, strict=True)])
    verdict = classify(tr, CameraConfig.model_validate(sc.camera_json()), 1, 720, camera=cam, image_width=1280)
    assert verdict.falling, verdict.reason
    assert verdict.floor is not None
    if outward <= 1.5:  # at 3 m/s out, 15 m away, the image rises for 1.5 s first: the release is traced back
        assert abs(verdict.floor - 26) <= 1  # from the descent alone, and floors off (docs/performance.md)


def test_swaying_foliage_is_explained_as_sway_not_as_a_fall() -> None:
    """A leaf cluster swinging down and back in front of the facade: the sway explains it better."""
    sc = one_throw_scene(1280, 720, floor=10)
    cam = camera_for(CameraConfig.model_validate(sc.camera_json()), 1280, 720)
    assert cam is not None
    t = np.arange(50) / 20.0
    rng = np.random.default_rng(2)
    col = 500 + 4 * np.sin(2 * np.pi * 0.8 * t) + rng.normal(0, 0.7, 50)
    row = 400 + 25 * np.sin(2 * np.pi * 0.8 * t - 1.2) + rng.normal(0, 0.7, 50)
    sigma = np.full(50, 1.2)
    fall = fit_fall(cam, t, col, row, sigma)
    best = min(image_models(t, col, row, sigma), key=lambda e: e.bic)
    assert best.name == "sway"
    assert best.bic < fall.explanation.bic


def test_a_floor_line_the_lens_folds_into_the_picture_is_left_out_as_an_installer_would() -> None:
    folded = world_cache.make_scene(67, "throws", 10.0)  # a strong barrel lens folds the 3 m line above the 6 m one
    raw = folded.camera_json("cam")
    with pytest.raises(ValueError, match="strictly decreasing"):
        CameraConfig.model_validate(raw)
    cfg = installer_camera(folded, "cam")
    assert cfg.floor_lines == raw["floor_lines"][1:]
    assert cfg.first_floor == raw["first_floor"] + 1
    assert raw["facade_rect"] is not None
    assert cfg.facade_rect is None  # the rectangle stood on the folded line
    assert camera_for(cfg, folded.width, folded.height) is not None  # the floor lines still give a camera
    plain = world_cache.make_scene(5, "throws", 10.0)  # every other camera keeps its CAMERA.json as drawn
    assert installer_camera(plain, "cam") == CameraConfig.model_validate(plain.camera_json("cam"))
