"""The world footage cache serves exactly the frames a fresh render gives, and never a partial or stale entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from estatewatch.bench import world_cache
from estatewatch.bench.littering_world import run_world_scene
from simulators.camera.render import Renderer

JPEG_SEED, H264_SEED = 1, 9  # 720p scenes: one on the live JPEG path, one as an H.264 file


def test_jpeg_frames_from_the_cache_are_the_rendered_ones(tmp_path: Path) -> None:
    scene = world_cache.make_scene(JPEG_SEED, "throws", 0.5)
    assert scene.codec == "jpeg"
    first = list(world_cache.jpeg_stream(scene, tmp_path, "throws", 0.5))
    path = world_cache.entry(tmp_path, scene, "throws", 0.5)
    assert path.is_file()
    again = list(world_cache.jpeg_stream(world_cache.make_scene(JPEG_SEED, "throws", 0.5), tmp_path, "throws", 0.5))
    fresh = [data for _, data in Renderer(world_cache.make_scene(JPEG_SEED, "throws", 0.5)).jpegs()]
    assert first == again == fresh
    assert len(fresh) == scene.n_frames


def test_a_video_scene_is_stored_once_and_detected_the_same(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(world_cache.ENV, raising=False)
    _, plain, truths = run_world_scene(H264_SEED, "throws", 1.0)
    monkeypatch.setenv(world_cache.ENV, str(tmp_path))
    _, filled, _ = run_world_scene(H264_SEED, "throws", 1.0)
    entries = list(tmp_path.rglob("throws-9-1.m4v"))
    assert len(entries) == 1
    stamp = entries[0].stat().st_mtime_ns
    _, served, truths_again = run_world_scene(H264_SEED, "throws", 1.0)
    assert entries[0].stat().st_mtime_ns == stamp  # read, not rendered again
    assert [e.to_json() for e in plain] == [e.to_json() for e in filled] == [e.to_json() for e in served]
    assert truths == truths_again


def test_a_truncated_stream_is_refused(tmp_path: Path) -> None:
    scene = world_cache.make_scene(JPEG_SEED, "throws", 0.5)
    list(world_cache.jpeg_stream(scene, tmp_path, "throws", 0.5))
    path = world_cache.entry(tmp_path, scene, "throws", 0.5)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        list(world_cache.read_jpegs(path))


def test_entries_are_keyed_by_the_simulator_source(tmp_path: Path) -> None:
    scene = world_cache.make_scene(JPEG_SEED, "distractors", 0.5)
    path = world_cache.entry(tmp_path, scene, "distractors", 0.5)
    assert path.parent.name == world_cache.fingerprint()
    assert len(world_cache.fingerprint()) == 12
    assert path.name == f"distractors-{JPEG_SEED}-0.5.jpgs"
