"""Joins across a hidden stretch are limited in seconds: the same fall joins at any frame rate."""

from __future__ import annotations

from tests.vision.helpers import G, track_from
from vision.fragments import FragmentJoiner
from vision.tracker import Track

PX_PER_M = 5.0


def _piece(fps: float, first: int, last: int, x: float = 320.0) -> Track:
    pts = [(k / fps, x, 80.0 + PX_PER_M * 0.5 * G * (k / fps) ** 2) for k in range(first, last)]
    return track_from(pts, fps, start=first)


def test_a_gap_of_13_frames_at_30_fps_joins_like_4_frames_at_10_fps() -> None:
    """0.43 s hidden behind a balcony slab: 13 frames at 30 fps, 4 at 10 fps; one join either way."""
    for fps, hidden in ((30.0, 13), (10.0, 4)):
        first = _piece(fps, 0, round(0.6 * fps))
        second = _piece(fps, first.frames[-1] + 1 + hidden, first.frames[-1] + 1 + hidden + round(0.4 * fps))
        joiner = FragmentJoiner()
        joiner.keep(first)
        ((piece, whole),) = joiner.joins(second)
        assert piece is first
        assert whole.hidden == [(first.frames[-1] + 1, hidden)]


def test_a_gap_longer_than_the_limit_in_seconds_is_not_joined_at_any_frame_rate() -> None:
    """Hidden for 0.9 s the object has passed behind more than one storey of its own shade: no join, whether that
    is 9 frames at 10 fps or 27 at 30 fps.
    """
    for fps in (10.0, 30.0):
        first = _piece(fps, 0, round(0.6 * fps))
        gap = round(0.9 * fps)
        second = _piece(fps, first.frames[-1] + gap, first.frames[-1] + gap + round(0.4 * fps))
        joiner = FragmentJoiner()
        joiner.keep(first)
        assert joiner.joins(second) == []
