"""The repeat measurement of the world bench: the truth of a scene with duplicated frames against the clock."""

from __future__ import annotations

from pathlib import Path

from estatewatch.bench.repeat_eval import repeat_counts
from simulators.camera.publish import write_scene_file
from simulators.camera.render import Renderer
from tests.vision.helpers import one_throw_scene
from vision.decode import decode_gray
from vision.offline import video_frames


def test_jpeg_repeats_are_all_counted_and_found() -> None:
    scene = one_throw_scene(640, 360, seconds=2.0)
    scene.dup_every, scene.fps = 3, 30.0
    counts = repeat_counts(scene, ((i, decode_gray(data)) for i, data in Renderer(scene).jpegs()))
    assert counts["frames"] == scene.n_frames
    assert counts["repeats"] == scene.n_frames // 3
    assert counts["found"] == counts["repeats"]
    assert counts["false"] == 0


def test_mpeg4_repeats_are_found_after_the_warm_up_and_nothing_else(tmp_path: Path) -> None:
    scene = one_throw_scene(640, 360, seconds=3.0)
    scene.dup_every, scene.fps, scene.codec, scene.quality = 2, 30.0, "mp4v", 60
    path = write_scene_file(scene, tmp_path)
    counts = repeat_counts(scene, ((i, gray) for i, (gray, _) in enumerate(video_frames(path))))
    assert counts["repeats"] == scene.n_frames // 2
    assert counts["found"] >= counts["repeats"] - 9  # the first 18 frames (9 repeats) pass before the cadence
    assert counts["identical"] > 0  # the still picture before the throw: MPEG-4 sends no change at all
    assert counts["false"] == 0
