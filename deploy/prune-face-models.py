"""Remove dlib's 68-point landmark model from the installed face models: its training data restricts commercial use.

EstateWatch aligns faces with the 5-point model only; deleting the file makes sure nothing can load the other one.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.find_spec("face_recognition_models")
if spec is not None and spec.origin is not None:
    model = Path(spec.origin).parent / "models" / "shape_predictor_68_face_landmarks.dat"
    if model.exists():
        model.unlink()
        print(f"removed {model}")
