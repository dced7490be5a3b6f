"""The miss tracer: where a fall is lost, on a small rendered scene through the real detector."""

from __future__ import annotations

import numpy as np

from estatewatch.bench.littering_eval import match
from estatewatch.bench.miss_trace import Judged, Trace, diagnose, trace_frames
from simulators.camera.render import Renderer
from simulators.camera.scene import Throw, ground_truth
from tests.vision.helpers import one_throw_scene
from vision.camera_config import CameraConfig
from vision.decode import decode_gray


def test_a_found_fall_and_one_the_background_never_shows_get_their_causes() -> None:
    scene = one_throw_scene(640, 360, seconds=3.0)
    wall = scene.throws[0]
    # the same drop two columns over, behind a privacy mask: it never becomes foreground
    scene.throws.append(Throw(floor=wall.floor, column=wall.column + 2, t=1.0, size_px=8, color=(20, 20, 25),
                              velocity=(0.0, 0.0, 0.0), terminal_v=40.0))
    truths = ground_truth(scene)
    x = truths[1]["release_px"][0]
    cfg = CameraConfig.model_validate({**scene.camera_json("cam-trace"),
                                       "masks": [[(x - 25, 0), (x + 25, 0), (x + 25, 360), (x - 25, 360)]]})
    trace = trace_frames(cfg, ((i, i / scene.fps, decode_gray(data), 1) for i, data in Renderer(scene).jpegs()))
    found = {ti for _, ti in match(trace.events, truths, scene.width)}
    causes = [diagnose(t, trace, ti in found, scene.width) for ti, t in enumerate(truths)]
    assert [c for c, _ in causes] == ["d_found", "a_foreground"]
    assert "best" in causes[0][1]  # the found fall's track is named: points on the path, span, verdict
    assert trace.judged  # every judged track was recorded through the detector's hook
    assert len(trace.blobs) >= scene.n_frames - 2  # and the blobs of every frame the tracker was given


def _fall_and_blobs(frames: range) -> tuple[dict[str, object], dict[int, np.ndarray]]:
    path = [[f, 100.0, 10.0 + 0.5 * (f - frames[0]) ** 2] for f in frames]
    blobs = {int(f): np.array([[x, y]]) for f, x, y in path}
    return {"size_px": 6, "frames": path}, blobs


def test_a_fall_broken_into_short_pieces_is_lost_in_tracking_and_one_whole_rejected_track_in_the_classifier() -> None:
    truth, blobs = _fall_and_blobs(range(20))

    def judged(frames: range, reason: str | None) -> Judged:
        return Judged(tuple(frames), tuple(100.0 for _ in frames),
                      tuple(10.0 + 0.5 * f**2 for f in frames), reason, False)

    broken = Trace(blobs, [judged(range(6), None), judged(range(8, 14), None), judged(range(15, 20), None)])
    cause, detail = diagnose(truth, broken, False, 640)
    assert cause == "b_tracking"
    assert "pieces 3 (6+6+5)" in detail
    whole = Trace(blobs, [judged(range(20), "not_physical")])
    cause, detail = diagnose(truth, whole, False, 640)
    assert cause == "c_classifier"
    assert detail.startswith("not_physical")
