"""Entrance camera configuration and the direction of a passage, on synthetic tracks."""

from __future__ import annotations

import json

import numpy as np
import pydantic
import pytest

from vision.faces.entrance import EntranceCamera, Passage, side_of, track_direction
from vision.faces.tracking import FaceTrack


def _track(path: list[tuple[float, float]]) -> FaceTrack:
    return FaceTrack(1, 0, 0.0, len(path) - 1, 1.0, np.zeros(4, np.float32), path=path, hits=len(path))


def test_camera_needs_exactly_one_way_of_knowing_the_direction() -> None:
    EntranceCamera(id="c1", gate="north", direction="in")
    EntranceCamera(id="c1", gate="north", line=((0, 400), (1280, 400)))
    with pytest.raises(pydantic.ValidationError, match="exactly one"):
        EntranceCamera(id="c1", gate="north")
    with pytest.raises(pydantic.ValidationError, match="exactly one"):
        EntranceCamera(id="c1", gate="north", direction="in", line=((0, 400), (1280, 400)))
    with pytest.raises(pydantic.ValidationError, match="roi"):
        EntranceCamera(id="c1", gate="north", direction="in", roi=(100, 100, 50, 200))
    with pytest.raises(pydantic.ValidationError):
        EntranceCamera(id="c1", gate="north gate", direction="in")


def test_side_of_a_line_as_seen_in_the_image() -> None:
    line = ((0.0, 400.0), (1280.0, 400.0))  # left to right across the image
    assert side_of(line, (640, 500)) > 0  # below the line: the right-hand side of a left-to-right line
    assert side_of(line, (640, 300)) < 0


def test_crossing_the_line_gives_the_direction_and_lingering_gives_none() -> None:
    cam = EntranceCamera(id="c1", gate="north", line=((0, 400), (1280, 400)), inside="right")
    assert track_direction(cam, _track([(600, 300), (610, 380), (620, 480)])) == "in"
    assert track_direction(cam, _track([(620, 480), (600, 300)])) == "out"
    assert track_direction(cam, _track([(600, 300), (700, 350)])) is None  # never crossed
    flipped = EntranceCamera(id="c1", gate="north", line=((0, 400), (1280, 400)), inside="left")
    assert track_direction(flipped, _track([(600, 300), (620, 480)])) == "out"
    fixed = EntranceCamera(id="c2", gate="north", direction="out")
    assert track_direction(fixed, _track([(600, 300), (700, 350)])) == "out"


def test_access_payload_is_the_protocol_shape() -> None:
    p = Passage(camera="c1", gate="north", ts=1.0, direction="in", person="unknown", confidence=0.31,
                reason="too_far", track=3, frames=3, distance=0.52, margin=0.01)
    body = p.access_payload("2026-03-02T08:00:00+08:00")
    assert body == {"ts": "2026-03-02T08:00:00+08:00", "person": "unknown", "direction": "in", "method": "face",
                    "confidence": 0.31, "camera": "c1"}
    assert json.loads(json.dumps(body)) == body
