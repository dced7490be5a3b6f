"""The look-elsewhere effect: in a crowd of blobs (snow, leaves) some chain through unrelated blobs fits a fall
by chance, and the more chains the tracker's gate allowed, the likelier. The tracker counts the blobs each gate
held; the fall's cost is charged twice the log of the number of chains, so a fall picked among many must win by
more, and one that never had a choice is judged as before.
"""

from __future__ import annotations

import math

import numpy as np

from simulators.camera.geometry import FacadeCamera
from tests.vision.helpers import gate_distance, random_gates, track_from
from vision.blobs import Blobs
from vision.camera_config import CameraConfig
from vision.classifier import chance_chains, classify
from vision.geometry import camera_for
from vision.tracker import Track, Tracker, _greedy

FPS = 20.0
SIM = FacadeCamera.framing(1280, 720, distance=40.0, building_height=60.0)
CFG = CameraConfig(id="t", fps=FPS, floor_lines=[SIM.row_of_height(3.0 * i) for i in range(21)])
CAM = camera_for(CFG, 1280, 720)


def test_each_gate_counts_every_blob_inside_it_whoever_takes_it() -> None:
    rng = np.random.default_rng(3)
    for _ in range(100):
        preds, xy = random_gates(rng, 20, 40, 60)
        held = np.zeros(len(preds), np.int64)
        _greedy(preds, xy, np.zeros(len(xy), dtype=bool), held)
        assert held.tolist() == [sum(gate_distance(p, b) <= 1.0 + 1e-9 for b in xy) for p in preds]


def test_the_tracker_keeps_how_many_blobs_each_detection_was_picked_from() -> None:
    tracker = Tracker()
    decoys = {6: 1, 7: 2, 9: 1}  # frames with blobs beside the object, inside its gate
    for f in range(14):
        x, y = 100.0, 50.0 + 4.0 * f + 0.25 * f * f
        xy = [(x, y)] + [(x + 2.0 * (k + 1), y + 1.0) for k in range(decoys.get(f, 0))]
        tracker.step(f, f / FPS, Blobs(np.array(xy, dtype=np.float64), np.full(len(xy), 9, np.int64)))
    (track,) = tracker.flush()
    assert len(track) == 14
    assert track.xs == [100.0] * 14  # the object itself, nearest to the prediction
    assert track.gated == [1 if f not in decoys else 1 + decoys[f] for f in range(14)]
    assert math.isclose(chance_chains(track, np.arange(14)), math.log(2 * 3 * 2))
    assert math.isclose(chance_chains(track, np.arange(8)), math.log(2 * 3))


def test_a_track_whose_counts_were_not_kept_had_no_choice_to_pay_for() -> None:
    track = Track(1, [0, 1, 2], [0.0, 0.05, 0.1], [1.0] * 3, [1.0, 2.0, 3.0], [9] * 3)  # as pieces are joined
    assert chance_chains(track, np.arange(3)) == 0.0


def _fall() -> list[tuple[float, float, float]]:
    """A drop from floor 15, seen for 1.2 s, box centres off by ~0.8 px."""
    rng = np.random.default_rng(7)
    t = np.arange(24) / FPS
    h = 43.5 - 0.5 * 9.81 * t * t
    col, row = SIM.pinhole(np.zeros_like(t), h, np.full_like(t, SIM.distance - 0.5))
    col, row = col + rng.normal(0.0, 0.8, t.size), row + rng.normal(0.0, 0.8, t.size)
    return [(float(a), float(b), float(c)) for a, b, c in zip(t, col, row, strict=True)]


def test_a_fall_picked_among_many_chains_must_win_by_more() -> None:
    alone = track_from(_fall())
    verdict = classify(alone, CFG, 1, 720, camera=CAM, image_width=1280)
    assert verdict.falling, verdict.reason
    fall_bic, rival_bic = verdict.bic
    margin = rival_bic - fall_bic
    n = len(verdict.points)
    assert 6.0 < margin < 2 * n * math.log(50)  # room for a crowd to take the margin away

    few = track_from(_fall())
    few.gated = [2] * len(few)  # every gate held one other blob: a margin of 2 n log 2 more is asked
    charged = classify(few, CFG, 1, 720, camera=CAM, image_width=1280)
    extra = 2 * n * math.log(2)
    assert margin - extra > 6.0  # still enough
    assert charged.falling
    assert math.isclose(charged.bic[0], fall_bic + extra, rel_tol=1e-9)
    assert charged.bic[1] == rival_bic

    m = math.ceil(math.exp((margin - 6.0) / (2 * n))) + 1  # enough chains to explain the margin by chance
    crowd = track_from(_fall())
    crowd.gated = [m] * len(crowd)
    rejected = classify(crowd, CFG, 1, 720, camera=CAM, image_width=1280)
    assert not rejected.falling
    assert rejected.reason in {"flight", "drift", "sway", "noise", "not_physical"}
