"""Face tracks across frames, each keeping only its best few face crops (by size, sharpness and detector score).

Crops stay in memory until the track ends and is embedded; then the entrance pipeline drops them. A person walking
through a gate is one track, so one passage, however many frames saw them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from vision.faces import Image
from vision.faces.detector import Faces, iou_matrix

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class TrackParams:
    """``min_iou`` links a detection to a track; a track ends after ``max_missed`` frames without one."""

    min_iou: float = 0.15
    max_missed: int = 4
    best_k: int = 3
    min_hits: int = 3
    crop_pad: float = 0.35  # margin around a kept crop, as a share of the box side: alignment needs the context
    min_side_px: float = 40.0  # faces smaller than this are tracked but never chosen for embedding


@dataclass
class Candidate:
    """One frame of a track worth embedding: the crop around the face and the face box within that crop."""

    quality: float
    frame: int
    crop: U8
    box: F32


@dataclass
class FaceTrack:
    """One face followed across frames: where it went, and the best crops seen so far."""

    id: int
    first_frame: int
    first_ts: float
    last_frame: int
    last_ts: float
    box: F32
    path: list[tuple[float, float]] = field(default_factory=list)  # box centres, in order
    hits: int = 1
    missed: int = 0
    best: list[Candidate] = field(default_factory=list)

    @property
    def start(self) -> tuple[float, float]:
        """Box centre when the track began."""
        return self.path[0]

    @property
    def end(self) -> tuple[float, float]:
        """Box centre when it was last seen."""
        return self.path[-1]

    def drop_crops(self) -> None:
        """Forget every kept face crop (after embedding: the pixels are no longer needed)."""
        self.best.clear()


def sharpness(gray_face: Image) -> float:
    """Variance of the Laplacian on the face scaled to 64 px: blur lowers it whatever the face size."""
    if gray_face.size == 0:
        return 0.0
    small = cv2.resize(gray_face, (64, 64), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_32F).var())


def quality(side: float, sharp: float, score: float) -> float:
    """Bigger, sharper, surer faces embed better; the square root keeps sharpness from dominating size."""
    return float(side * np.sqrt(max(sharp, 0.0)) * score)


def centres(boxes: F32) -> F32:
    """Box centres (N, 2)."""
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1).astype(np.float32)


class FaceTracker:
    """Greedy IoU association of each frame's faces to open tracks; returns tracks as they end."""

    def __init__(self, params: TrackParams | None = None) -> None:
        self.params = params or TrackParams()
        self.tracks: list[FaceTrack] = []
        self._next_id = 1

    def update(self, frame_no: int, ts: float, frame_bgr: Image, faces: Faces) -> list[FaceTrack]:
        """Fold one frame's detections in; the tracks that ended (confirmed ones only) come back."""
        p = self.params
        matched_track, matched_face = self._associate(faces.boxes)
        gray: U8 | None = None
        for ti, fi in zip(matched_track, matched_face, strict=True):
            track = self.tracks[ti]
            track.box = faces.boxes[fi]
            track.last_frame, track.last_ts = frame_no, ts
            track.hits += 1
            track.missed = 0
            cx, cy = centres(faces.boxes[fi : fi + 1])[0].tolist()
            track.path.append((float(cx), float(cy)))
        new_faces = sorted(set(range(len(faces))) - set(matched_face))
        for fi in new_faces:
            box = faces.boxes[fi]
            c = centres(box[None, :])[0]
            track = FaceTrack(self._next_id, frame_no, ts, frame_no, ts, box, [(float(c[0]), float(c[1]))])
            self._next_id += 1
            self.tracks.append(track)
            matched_track.append(len(self.tracks) - 1)
            matched_face.append(fi)
        for ti, fi in zip(matched_track, matched_face, strict=True):
            if gray is None:
                gray = np.asarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
            self._offer(self.tracks[ti], frame_no, frame_bgr, gray, faces.boxes[fi], float(faces.scores[fi]))
        seen = set(matched_track)
        for ti, track in enumerate(self.tracks):
            if ti not in seen:
                track.missed += 1
        ended = [t for t in self.tracks if t.missed > p.max_missed]
        self.tracks = [t for t in self.tracks if t.missed <= p.max_missed]
        return [t for t in ended if t.hits >= p.min_hits]

    def flush(self) -> list[FaceTrack]:
        """End every open track (camera stopped); confirmed ones come back."""
        ended, self.tracks = self.tracks, []
        return [t for t in ended if t.hits >= self.params.min_hits]

    def _associate(self, boxes: F32) -> tuple[list[int], list[int]]:
        """Pairs (track, face) by descending IoU, each used once, above ``min_iou``."""
        if not self.tracks or boxes.shape[0] == 0:
            return [], []
        track_boxes = np.stack([t.box for t in self.tracks]).astype(np.float32)
        overlap = iou_matrix(track_boxes, boxes)
        rows, cols = np.nonzero(overlap >= self.params.min_iou)
        order = np.argsort(-overlap[rows, cols], kind="stable")
        used_t: set[int] = set()
        used_f: set[int] = set()
        out_t: list[int] = []
        out_f: list[int] = []
        for k in order.tolist():
            t, f = int(rows[k]), int(cols[k])
            if t in used_t or f in used_f:
                continue
            used_t.add(t)
            used_f.add(f)
            out_t.append(t)
            out_f.append(f)
        return out_t, out_f

    def _offer(self, track: FaceTrack, frame_no: int, frame_bgr: Image, gray: U8, box: F32, score: float) -> None:
        """Keep this frame's crop if it is among the track's ``best_k`` so far; the worst one is dropped."""
        p = self.params
        side = float(min(box[2] - box[0], box[3] - box[1]))
        if side < p.min_side_px:
            return
        h, w = gray.shape
        x0, y0, x1, y1 = (int(v) for v in np.round(box))
        fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        q = quality(side, sharpness(gray[fy0:fy1, fx0:fx1]), score)
        if len(track.best) >= p.best_k and q <= track.best[-1].quality:
            return
        pad = round(side * p.crop_pad)
        cx0, cy0, cx1, cy1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
        crop = np.ascontiguousarray(frame_bgr[cy0:cy1, cx0:cx1])
        local = (box - np.array([cx0, cy0, cx0, cy0], dtype=np.float32)).astype(np.float32)
        track.best.append(Candidate(q, frame_no, crop, local))
        track.best.sort(key=lambda c: -c.quality)
        del track.best[p.best_k :]
