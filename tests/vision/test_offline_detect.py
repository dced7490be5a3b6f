"""``estatewatch detect`` over a folder of JPEGs and over a video file: the JSON-lines contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from estatewatch.cli import app
from simulators.camera.publish import write_video
from simulators.camera.render import Renderer
from simulators.camera.scene import ground_truth
from tests.vision.helpers import one_throw_scene

KEYS = ["type", "camera", "frame_start", "frame_end", "t_start", "t_end", "origin", "floor", "track", "score"]


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_detect_on_a_jpeg_folder_prints_one_json_line_per_fall(tmp_path: Path) -> None:
    scene = one_throw_scene(1280, 720, floor=11)
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, data in Renderer(scene).jpegs():
        (frames / f"f{i:05d}.jpg").write_bytes(data)
    (frames / "f99999.jpg").write_bytes(b"\xff\xd8 not really a jpeg")  # skipped, not fatal
    camera = tmp_path / "camera.json"
    cam = scene.camera_json("tower3-south")
    del cam["fps"]
    camera.write_text(json.dumps(cam))
    result = CliRunner().invoke(app, ["detect", str(frames), "--camera", str(camera), "--fps", "20", "--json"])
    assert result.exit_code == 0, result.output
    events = _lines(result.output)
    assert len(events) == 1
    ev = events[0]
    assert list(ev)[: len(KEYS)] == KEYS  # keys are only ever added (``model`` came later)
    assert ev["model"] == "camera"
    truth = ground_truth(scene)[0]
    assert ev["type"] == "littering"
    assert ev["camera"] == "tower3-south"
    assert ev["floor"] == 11
    assert truth["frame_start"] <= ev["frame_start"] <= truth["frame_start"] + 15  # first seen as it moves
    assert ev["frame_end"] <= truth["frame_end"] + 1
    assert ev["t_start"] == pytest.approx(ev["frame_start"] / 20, abs=0.01)
    assert abs(ev["origin"][0] - truth["release_px"][0]) < 10
    assert all(len(p) == 3 for p in ev["track"])
    assert 0 < ev["score"] <= 1


def test_detect_on_a_video_uses_its_frame_rate_and_works_without_calibration(tmp_path: Path) -> None:
    scene = one_throw_scene(640, 360, floor=12)
    video = tmp_path / "cam.mp4"
    write_video(scene, video, "cam")
    assert video.with_suffix(".truth.json").exists()
    camera = tmp_path / "plain.json"
    camera.write_text(json.dumps({"id": "cam"}))
    result = CliRunner().invoke(app, ["detect", str(video), "--camera", str(camera), "--json"])
    assert result.exit_code == 0, result.output
    events = _lines(result.output)
    assert len(events) == 1
    assert events[0]["floor"] is None
    truth = json.loads(video.with_suffix(".truth.json").read_text())["falls"][0]
    assert events[0]["frame_start"] <= truth["frame_end"]
    assert events[0]["frame_end"] >= truth["frame_start"]


def test_detect_refuses_a_folder_without_a_frame_rate(tmp_path: Path) -> None:
    frames = tmp_path / "empty"
    frames.mkdir()
    camera = tmp_path / "c.json"
    camera.write_text('{"id": "c"}')
    result = CliRunner().invoke(app, ["detect", str(frames), "--camera", str(camera), "--json"])
    assert result.exit_code == 2
