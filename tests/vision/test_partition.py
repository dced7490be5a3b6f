"""Vision processes split cameras by EW_VISION_PARTITION, and each process still spreads its cameras over workers."""

from __future__ import annotations

import pytest

from vision.workers import in_partition, parse_partition, worker_for

CAMERAS = [f"tower{t}-{side}" for t in range(1, 21) for side in ("north", "south", "east", "west")]


def test_every_camera_has_exactly_one_owner() -> None:
    parts = [(i, 3) for i in range(3)]
    for camera in CAMERAS:
        assert sum(in_partition(camera, p) for p in parts) == 1
    assert all(in_partition(camera, None) for camera in CAMERAS)


def test_a_partition_still_uses_all_its_workers() -> None:
    mine = [c for c in CAMERAS if in_partition(c, (0, 2))]
    assert 20 < len(mine) < 60
    assert {worker_for(c, 2) for c in mine} == {0, 1}


def test_partition_text_is_checked() -> None:
    assert parse_partition("1/4") == (1, 4)
    assert parse_partition(None) is None
    with pytest.raises(ValueError, match="i must be in"):
        parse_partition("4/4")
