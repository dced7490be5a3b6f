"""Repeated frames recognised from content in re-encoded footage: H.264, MPEG-4 part 2 and MJPEG files with
duplicated frames, written here and read back through the offline driver's decoder.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from simulators.camera.publish import AvWriter
from vision.frame_clock import FrameClock
from vision.offline import video_frames

W, H = 320, 240
WARM_UP = 18  # frames the clock needs before it trusts a cadence (12 differences, then a few of each phase)


def _content(n: int, sigma: float, seed: int) -> list[np.ndarray]:
    """``n`` frames of new content: a textured wall with fresh sensor noise each frame and a small dark object
    falling across it.
    """
    rng = np.random.default_rng(seed)
    wall = cv2.GaussianBlur(rng.integers(90, 200, (H, W), dtype=np.uint8), (0, 0), 3)
    out = []
    for k in range(n):
        img = wall.astype(np.float64) + rng.normal(0, sigma, (H, W))
        row = int(20 + 0.35 * k * k) % (H - 8)
        img[row:row + 5, 150 + k % 7:155 + k % 7] = 30
        gray = np.clip(img, 0, 255).astype(np.uint8)
        out.append(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    return out


def _upsampled(content: list[np.ndarray], every: int) -> tuple[list[np.ndarray], list[bool]]:
    """Delivered frames with every ``every``-th one repeating its predecessor (0: none), and which repeat."""
    frames: list[np.ndarray] = []
    repeats: list[bool] = []
    it = iter(content)
    while True:
        if every and len(frames) % every == every - 1:
            frames.append(frames[-1])
            repeats.append(True)
            continue
        img = next(it, None)
        if img is None:
            return frames, repeats
        frames.append(img)
        repeats.append(False)


def _write(frames: list[np.ndarray], codec: str, folder: Path) -> Path:
    if codec == "h264":
        path = folder / "clip.m4v"
        writer = AvWriter(path, "avc1", 30.0, (W, H), 60)
        for img in frames:
            writer.write(img)
        writer.release()
        return path
    path = folder / ("clip.avi" if codec == "mjpeg" else "clip.mp4")
    api = cv2.CAP_OPENCV_MJPEG if codec == "mjpeg" else cv2.CAP_FFMPEG
    fourcc = cv2.VideoWriter.fourcc(*("MJPG" if codec == "mjpeg" else "mp4v"))
    cv = cv2.VideoWriter(str(path), api, fourcc, 30.0, (W, H))
    assert cv.isOpened()
    for img in frames:
        cv.write(img)
    cv.release()
    return path


def _skipped(path: Path) -> list[bool]:
    clock = FrameClock()
    return [clock.advance(gray, i, i / 30.0) is None for i, (gray, _) in enumerate(video_frames(path))]


@pytest.mark.parametrize("codec", ["h264", "mp4v", "mjpeg"])
@pytest.mark.parametrize("every", [2, 3])
@pytest.mark.parametrize("sigma", [0.8, 3.0])  # a quiet camera (new frames differ by ~0.3 grey levels) and a noisy one
def test_duplicated_frames_of_a_re_encoded_file_are_skipped_and_new_ones_never(
        tmp_path: Path, codec: str, every: int, sigma: float) -> None:
    frames, repeats = _upsampled(_content(60 if every == 3 else 45, sigma, seed=every), every)
    skipped = _skipped(_write(frames, codec, tmp_path))
    assert len(skipped) == len(repeats)
    truth = np.array(repeats[WARM_UP:])
    got = np.array(skipped[WARM_UP:])
    assert not (got & ~truth).any()  # a frame of new content is never taken for a repeat
    # the first repeat after a keyframe corrects the keyframe's coding error and differs as much as new content
    # does: MPEG-4 part 2 (a keyframe every 12 frames) loses one repeat per keyframe on the quiet camera, no more
    assert (got & truth).sum() >= (0.7 if codec == "mp4v" else 0.95) * truth.sum()
    assert all(skipped[i] for i in range(len(repeats)) if repeats[i] and codec == "mjpeg")  # identical: all


@pytest.mark.parametrize("codec", ["h264", "mp4v"])
def test_a_re_encoded_file_without_duplicates_has_no_repeats(tmp_path: Path, codec: str) -> None:
    frames, _ = _upsampled(_content(90, 0.8, seed=5), 0)
    assert not any(_skipped(_write(frames, codec, tmp_path)))


def test_lost_frames_keep_the_cadence_and_leave_a_gap() -> None:
    """Frame numbers, not arrival order, carry the cadence: after frames lost on the way the repeats still fall
    on their phase, and the tick jumps over the lost content.
    """
    frames, repeats = _upsampled(_content(60, 2.0, seed=9), 3)
    rng = np.random.default_rng(3)
    noise = [rng.normal(0, 0.4, (H, W)) for _ in range(2)]  # re-encoding: a repeat is close, not identical
    clock = FrameClock()
    ticks: dict[int, int | None] = {}
    for i, img in enumerate(frames):
        if i in (40, 41, 42):
            continue  # lost: a new frame, its repeat and the next new frame
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float64) + noise[i % 2]
        ticks[i] = clock.advance(np.clip(gray, 0, 255).astype(np.uint8), i, i / 30.0)
    assert [i for i, t in ticks.items() if t is None and i >= WARM_UP] == [
        i for i in range(WARM_UP, len(frames)) if repeats[i] and i in ticks]
    before, after = ticks[39], ticks[43]
    assert before is not None
    assert after == before + 3  # the content of 40 and 42 (41 repeated 40) lost: two ticks missing
    assert clock.gaps == 1


def _content_times(frames: list[np.ndarray], fps: float) -> list[tuple[int, float]]:
    """(delivered frame, content time) of the frames the clock takes as new, fed as delivered at ``fps``."""
    clock = FrameClock()
    out = []
    for i, img in enumerate(frames):
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.uint8)
        if clock.advance(gray, i, i / fps) is not None:
            out.append((i, clock.content_time))
    return out


@pytest.mark.parametrize("every", [2, 3])
def test_upsampled_footage_is_timed_on_the_content_grid_not_by_delivery(every: int) -> None:
    """20 fps content delivered at 30 (every 3rd frame repeated) arrives 1/30 and 1/15 s apart by turns, 15 fps
    content at 30 (every 2nd) every 1/15 s; either way it was captured on a regular grid, and a falling object's
    time must be read off that grid, not off the delivery.
    """
    frames, repeats = _upsampled(_content(60, 2.0, seed=every), every)
    timed = [(i, t) for i, t in _content_times(frames, 30.0) if i >= WARM_UP + 6]  # a few new frames on the grid
    period = 1.0 / (30.0 * (every - 1) / every)
    steps = np.diff([t for _, t in timed])
    assert len(steps) >= 20
    assert np.abs(steps - period).max() < 1e-3
    delivered = np.diff([i / 30.0 for i, _ in timed])
    assert np.abs(delivered - period).max() > 0.3 * period or every == 2  # by delivery, 1/30 and 2/30 by turns
    assert not any(repeats[i] for i, _ in timed)


def test_footage_without_repeats_is_timed_by_its_timestamps() -> None:
    """No cadence, no grid: a camera's own timestamps (uneven on the way, here) are its content times."""
    frames, _ = _upsampled(_content(40, 2.0, seed=4), 0)
    clock = FrameClock()
    stamps = np.cumsum(np.random.default_rng(1).uniform(0.04, 0.06, len(frames)))
    got = []
    for i, img in enumerate(frames):
        assert clock.advance(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.uint8), i, float(stamps[i])) is not None
        got.append(clock.content_time)
    assert got == [float(s) for s in stamps]
