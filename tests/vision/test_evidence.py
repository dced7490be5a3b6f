"""Evidence from the ring buffer: annotated snapshot and a VP9/MP4 clip spanning ~2 s either side of the fall."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.vision.helpers import jpeg
from vision.detector import LitteringEvent
from vision.evidence import FrameRing, PendingEvidence, clip_bounds, encode_mp4, read_mjpeg, write_evidence


def _event() -> LitteringEvent:
    track = [(f, 100.0 + f, 20.0 + 0.3 * (f - 50) ** 2) for f in range(50, 70)]
    return LitteringEvent("cam", 50, 69, 2.5, 3.45, (100.0, 20.0), 14, 0.9, track)


def test_ring_keeps_only_the_last_seconds() -> None:
    ring = FrameRing(fps=10, seconds=2)
    for i in range(50):
        ring.append(i, b"x")
    assert [i for i, _ in ring.frames] == list(range(30, 50))
    assert [i for i, _ in ring.window(45, 100)] == [45, 46, 47, 48, 49]


def test_snapshot_mjpeg_clip_and_mp4_are_written_and_playable(tmp_path: Path) -> None:
    ev = _event()
    first, last = clip_bounds(ev, fps=20)
    assert (first, last) == (10, 109)
    ring = FrameRing(fps=20, seconds=12)
    for i in range(120):
        img = np.full((240, 320, 3), 150, np.uint8)
        cv2.putText(img, str(i), (10, 200), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 0), 2)
        ring.append(i, jpeg(img))
    pending = PendingEvidence("e1", ev, last, tmp_path / "cam" / "e1")
    snap, index = write_evidence(pending, ring, fps=20)
    assert snap is not None
    assert index is not None
    fps, frames = read_mjpeg(pending.directory)
    assert fps == 20
    assert len(frames) == last - first + 1
    assert frames[0] == ring.window(first, first)[0][1]  # the camera's own bytes, not re-encoded
    clip = encode_mp4(pending.directory)
    assert clip is not None
    shot = cv2.imread(str(snap))
    assert shot is not None
    assert shot.shape == (240, 320, 3)
    b, g, r = (int(v) for v in shot[50, 160])  # a point of the track (frame 60): the trajectory is drawn in red
    assert r > 180
    assert g < 100
    assert b < 100
    cap = cv2.VideoCapture(str(clip))
    assert cap.isOpened()
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == (last - first + 2) // 2  # every other frame: 10 fps
    assert cap.get(cv2.CAP_PROP_FPS) == 10
    assert cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 160  # the reduced decode of a 320 px frame
    assert clip.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    cap.release()
