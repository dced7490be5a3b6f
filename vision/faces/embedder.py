"""Face embeddings: dlib's 5-point alignment and its ResNet descriptor (128-d), returned unit-normalised.

dlib and the model files (``dlib-bin``, ``face-recognition-models``) are the optional ``faces`` extra, imported only
when an embedder is built, so an install without them still runs. The 68-point landmark model in the same package
is never loaded: its training data restricts commercial use; the 5-point model is enough for alignment.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt

from vision.faces import FACES_EXTRA_HINT, FacesUnavailableError, Image

F32 = npt.NDArray[np.float32]
MODEL_NAME = "dlib_resnet_v1+sp5"  # stored beside every embedding, so a model change is never matched silently
DIM = 128
_FILES = {"shape": "shape_predictor_5_face_landmarks.dat", "resnet": "dlib_face_recognition_resnet_model_v1.dat"}


def _require(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise FacesUnavailableError(f"cannot import {module!r}: {FACES_EXTRA_HINT}") from exc


def model_files(directory: Path | None = None) -> dict[str, Path]:
    """The 5-point shape predictor and the ResNet file: from ``directory`` or the installed models package."""
    if directory is None:
        package = _require("face_recognition_models")
        if package.__file__ is None:
            raise FacesUnavailableError(f"face_recognition_models has no files: {FACES_EXTRA_HINT}")
        directory = Path(package.__file__).parent / "models"
    paths = {key: directory / name for key, name in _FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FacesUnavailableError(f"face model files missing ({', '.join(missing)}): {FACES_EXTRA_HINT}")
    return paths


def normalise(vectors: npt.ArrayLike) -> F32:
    """Rows scaled to unit length (a zero row stays zero), so a dot product is a cosine similarity."""
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    out: F32 = (arr / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def cosine_to_distance(similarity: npt.ArrayLike) -> F32:
    """Euclidean distance between unit vectors with this cosine similarity (0 same, 2 opposite)."""
    sim = np.clip(np.asarray(similarity, dtype=np.float32), -1.0, 1.0)
    out: F32 = np.sqrt(np.maximum(2.0 - 2.0 * sim, 0.0)).astype(np.float32)
    return out


class FaceEmbedder:
    """Aligns a face from its box with the 5-point landmarks and returns its unit-length 128-d embedding."""

    model_name = MODEL_NAME

    def __init__(self, model_dir: Path | None = None) -> None:
        dlib = _require("dlib")
        paths = model_files(model_dir)
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(paths["shape"]))
        self._resnet = dlib.face_recognition_model_v1(str(paths["resnet"]))

    def embed(self, frame_bgr: Image, boxes: npt.ArrayLike) -> F32:
        """Embeddings (N, 128) of the faces at ``boxes`` (N, 4: x0, y0, x1, y1) in one BGR frame."""
        box_arr = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        if box_arr.shape[0] == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        rgb = np.ascontiguousarray(frame_bgr[:, :, ::-1])
        shapes = self._dlib.full_object_detections()
        for x0, y0, x1, y1 in box_arr.round().astype(int).tolist():
            shapes.append(self._shape(rgb, self._dlib.rectangle(x0, y0, x1, y1)))
        vectors = self._resnet.compute_face_descriptor(rgb, shapes)
        return normalise(np.asarray(vectors, dtype=np.float32))
