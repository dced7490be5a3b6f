"""Evidence: a ring buffer of the received JPEGs per camera, a snapshot with the trajectory drawn, and a clip.

The ring keeps the camera's own JPEG bytes (no re-encoding, no decoded frames in memory), so ~12 s of 1080p at
20 fps costs ~40 MB per camera. The clip is written twice: at once as the camera's own JPEGs back to back
(``clip.mjpeg`` + ``clip.json`` index, no encoding at all, served as an MJPEG stream), and then, off the detection
path, as VP9 in MP4 for the browser's video player. VP9 is the one browser codec OpenCV's bundled FFmpeg encodes
here, and it is slow (~100-400 ms per 960x540 frame measured here), so the MP4 is small: at most
``MP4_MAX_WIDTH`` wide and ``MP4_MAX_FPS`` frames per second.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.detector import LitteringEvent

MP4_MAX_WIDTH = 480
MP4_MAX_FPS = 10.0
# VP9 in MP4: OpenCV's bundled FFmpeg writes it here, and Chromium plays it (no H.264 encoder is bundled)
CLIP_FOURCC = "vp09"
SNAPSHOT_NAME = "snapshot.jpg"
CLIP_NAME = "clip.mp4"
MJPEG_NAME = "clip.mjpeg"
INDEX_NAME = "clip.json"


class FrameRing:
    """The last ``seconds`` of one camera's JPEGs, by frame index."""

    def __init__(self, fps: float, seconds: float = 12.0, max_bytes: int = 48 * 1024 * 1024) -> None:
        self.frames: deque[tuple[int, bytes]] = deque(maxlen=max(2, int(fps * seconds)))
        self.max_bytes = max_bytes
        self.bytes = 0

    def append(self, index: int, jpeg: bytes) -> None:
        """Keep one frame; the oldest fall out once the ring holds ``seconds`` of video or ``max_bytes``."""
        if len(self.frames) == self.frames.maxlen:
            self.bytes -= len(self.frames[0][1])
        self.frames.append((index, jpeg))
        self.bytes += len(jpeg)
        while self.bytes > self.max_bytes and len(self.frames) > 1:  # a camera's memory is bounded in bytes too
            self.bytes -= len(self.frames.popleft()[1])

    def window(self, first: int, last: int) -> list[tuple[int, bytes]]:
        """The frames still held between ``first`` and ``last`` (inclusive), for an event's clip."""
        return [(i, j) for i, j in self.frames if first <= i <= last]

    def clear(self) -> None:
        """Forget every held frame, so none of them can end up in a later clip."""
        self.frames.clear()
        self.bytes = 0


@dataclass
class PendingEvidence:
    """An event waiting for the frames ~2 s after its end before its clip is written."""

    event_id: str
    event: LitteringEvent
    until_frame: int
    directory: Path


def clip_bounds(event: LitteringEvent, fps: float, margin_s: float = 2.0) -> tuple[int, int]:
    """The frame range of an event's clip: the fall plus ``margin_s`` on each side, so reviewers see context."""
    margin = round(margin_s * fps)
    return max(0, event.frame_start - margin), event.frame_end + margin


def draw_snapshot(jpeg: bytes, event: LitteringEvent) -> bytes:
    """The frame with the trajectory polyline, the release point and the floor label drawn on it."""
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("snapshot frame does not decode")
    pts = np.array([[x, y] for _, x, y in event.track], dtype=np.float64)
    thick = max(2, img.shape[0] // 360)
    cv2.polylines(img, [np.round(pts).astype(np.int32)], False, (0, 0, 255), thick, cv2.LINE_AA)
    ox, oy = round(event.origin[0]), round(event.origin[1])
    cv2.circle(img, (ox, oy), 6 * thick, (0, 255, 255), thick, cv2.LINE_AA)
    label = f"floor {event.floor}" if event.floor is not None else "floor ?"
    font = 0.5 * thick
    cv2.putText(img, label, (ox + 8 * thick, oy + 4 * thick), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 3 * thick)
    cv2.putText(img, label, (ox + 8 * thick, oy + 4 * thick), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 255, 255), thick)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("snapshot encoding failed")
    return buf.tobytes()


def write_mjpeg(frames: list[tuple[int, bytes]], fps: float, directory: Path) -> Path:
    """The JPEGs back to back plus an index of byte ranges; returns the index path."""
    offsets: list[list[int]] = []
    pos = 0
    with (directory / MJPEG_NAME).open("wb") as out:
        for index, jpeg in frames:
            out.write(jpeg)
            offsets.append([index, pos, len(jpeg)])
            pos += len(jpeg)
    idx = directory / INDEX_NAME
    idx.write_text(json.dumps({"fps": fps, "frames": offsets}), encoding="utf-8")
    return idx


def read_mjpeg(directory: Path) -> tuple[float, list[bytes]]:
    """The frame rate and JPEG frames of an event's MJPEG clip."""
    meta = json.loads((directory / INDEX_NAME).read_text(encoding="utf-8"))
    data = (directory / MJPEG_NAME).read_bytes()
    return float(meta["fps"]), [data[pos:pos + n] for _, pos, n in meta["frames"]]


def encode_mp4(directory: Path) -> Path | None:
    """VP9/MP4 from the event's MJPEG clip, small enough to encode in a few seconds; None without frames."""
    fps, frames = read_mjpeg(directory)
    step = max(1, math.ceil(fps / MP4_MAX_FPS))
    path = directory / CLIP_NAME
    tmp = directory / "clip.part.mp4"
    writer: cv2.VideoWriter | None = None
    size: tuple[int, int] | None = None
    written = 0
    try:
        for jpeg in frames[::step]:
            img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_REDUCED_COLOR_2)
            if img is None:
                continue
            if writer is None or size is None:  # the first frame that decodes sets the clip's size
                h, w = img.shape[:2]
                f = min(1.0, MP4_MAX_WIDTH / w)
                size = (int(w * f) // 2 * 2, int(h * f) // 2 * 2)
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*CLIP_FOURCC), fps / step, size)
                if not writer.isOpened():
                    raise RuntimeError("no VP9 encoder in this OpenCV build")
            if (img.shape[1], img.shape[0]) != size:
                img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            writer.write(img)
            written += 1
    finally:
        if writer is not None:
            writer.release()
    if not written:
        return None
    tmp.replace(path)
    return path


def write_evidence(pending: PendingEvidence, ring: FrameRing, fps: float) -> tuple[Path | None, Path | None]:
    """Snapshot (from the frame in the middle of the track) and the MJPEG clip (~2 s either side) into the event's
    folder; returns (snapshot, clip index). Fast: one decode and one encode for the snapshot, no video encoding.
    """
    first, last = clip_bounds(pending.event, fps)
    frames = ring.window(first, last)
    if not frames:
        return None, None
    pending.directory.mkdir(parents=True, exist_ok=True)
    track_frames = {f for f, _, _ in pending.event.track}
    mid = pending.event.track[len(pending.event.track) // 2][0]
    candidates = [fj for fj in frames if fj[0] in track_frames] or frames
    snap_src = min(candidates, key=lambda fj: abs(fj[0] - mid))[1]
    snapshot = pending.directory / SNAPSHOT_NAME
    snapshot.write_bytes(draw_snapshot(snap_src, pending.event))
    return snapshot, write_mjpeg(frames, fps, pending.directory)
